// Package monitoring holds no code: its folder ships what teams on
// Prometheus and Grafana import, built on the series of the metrics
// package (default Namespace "resilience"):
//
//   - grafana-dashboard.json: a Grafana dashboard (Dashboards > New >
//     Import), with a Prometheus data source chosen at import and job and
//     policy variables: breaker states as a timeline, calls by outcome,
//     failure ratio, refusals by reason, state changes, call duration
//     percentiles, bulkhead slots and waits, timeouts, fallbacks,
//     abandoned calls, and retries with the retry budget's refusals.
//   - alerts.yml: Prometheus alerting rules: a breaker open for 5 minutes,
//     a breaker flapping, a high refusal ratio, a bulkhead saturated, a
//     retry budget exhausted (refusing most retries for 10 minutes).
//   - alerts_test.yml: their unit tests, for promtool test rules.
//
// Its tests check that every series the dashboard and the rules name is
// one the metrics package exports, and, with promtool (Debian's
// prometheus package), that every query parses and the rules pass their
// unit tests.
package monitoring
