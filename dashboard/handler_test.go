package dashboard_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/dashboard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

func TestPageLoadsOnlyItsOwnAssets(t *testing.T) {
	srv := httptest.NewServer(http.StripPrefix("/x", newDashboard(t, dashboard.Config{})))
	defer srv.Close()

	res, page := get(t, srv.URL+"/x/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	csp := res.Header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "script-src 'self'")

	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(page, -1)
	require.NotEmpty(t, refs)
	for _, r := range refs {
		assert.Contains(t, []string{"style.css", "app.js", "data:,"}, r[1], "the page refers to %q", r[1])
	}
	for name, ctype := range map[string]string{"app.js": "text/javascript; charset=utf-8", "style.css": "text/css; charset=utf-8"} {
		res, body := get(t, srv.URL+"/x/"+name)
		require.Equal(t, http.StatusOK, res.StatusCode, name)
		assert.Equal(t, ctype, res.Header.Get("Content-Type"), name)
		assert.NotContains(t, body, "https://", name)
		assert.NotRegexp(t, `url\(|@import`, body, name)
	}
	_, js := get(t, srv.URL+"/x/app.js")
	// The only absolute URL is the SVG namespace, which is a name, not a load.
	assert.Equal(t, []string{"http://www.w3.org/2000/svg"}, regexp.MustCompile(`https?://[^"]*`).FindAllString(js, -1))
}

func TestServesUnderAnyMountPoint(t *testing.T) {
	d := newDashboard(t, dashboard.Config{})
	mux := http.NewServeMux()
	mux.Handle("/resilience/", d)
	mux.Handle("/ops/dash/", http.StripPrefix("/ops/dash", d))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, p := range []string{"/resilience/", "/resilience/snapshot.json", "/ops/dash/", "/ops/dash/app.js"} {
		res, _ := get(t, srv.URL+p)
		assert.Equal(t, http.StatusOK, res.StatusCode, p)
	}
}

func TestBadRequestsAreRefusedNeverPanic(t *testing.T) {
	d := newDashboard(t, dashboard.Config{MaxTiles: 50})
	srv := httptest.NewServer(d)
	defer srv.Close()
	for _, tc := range []struct {
		target string
		code   int
	}{
		{"/?theme=blue", http.StatusBadRequest},
		{"/?theme=dark&theme=light", http.StatusBadRequest},
		{"/?utm=1", http.StatusBadRequest},
		{"/?%zz", http.StatusBadRequest},
		{"/app.js?v=2", http.StatusBadRequest},
		{"/style.css?v=2", http.StatusBadRequest},
		{"/snapshot.json?limit=0", http.StatusBadRequest},
		{"/snapshot.json?limit=-3", http.StatusBadRequest},
		{"/snapshot.json?limit=51", http.StatusBadRequest},
		{"/snapshot.json?limit=abc", http.StatusBadRequest},
		{"/snapshot.json?limit=99999999999999999999", http.StatusBadRequest},
		{"/snapshot.json?limit=1&limit=2", http.StatusBadRequest},
		{"/snapshot.json?history=maybe", http.StatusBadRequest},
		{"/snapshot.json?history", http.StatusBadRequest},
		{"/snapshot.json?other=1", http.StatusBadRequest},
		{"/events?limit=1", http.StatusBadRequest},
		{"/nothing", http.StatusNotFound},
		{"/index.html", http.StatusNotFound},
		{"/?theme=dark", http.StatusOK},
		{"/?theme=light", http.StatusOK},
		{"/?theme=auto", http.StatusOK},
		{"/snapshot.json?limit=50&history=true", http.StatusOK},
		{"/snapshot.json?history=0", http.StatusOK},
	} {
		res, body := get(t, srv.URL+tc.target)
		assert.Equal(t, tc.code, res.StatusCode, "%s: %s", tc.target, body)
		if tc.code == http.StatusBadRequest {
			assert.True(t, strings.HasPrefix(body, "dashboard: "), body)
		}
	}
}

func TestOnlyGetAndHead(t *testing.T) {
	srv := httptest.NewServer(newDashboard(t, dashboard.Config{}))
	defer srv.Close()
	res, err := http.Post(srv.URL+"/snapshot.json", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	assert.Equal(t, "GET, HEAD", res.Header.Get("Allow"))

	for _, p := range []string{"/", "/snapshot.json", "/events"} {
		res, err := http.Head(srv.URL + p)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusOK, res.StatusCode, p)
	}
}

func TestLimitListsTheBreakersNotClosedFirst(t *testing.T) {
	set, err := breaker.NewSet(breaker.KeyedConfig{Config: breaker.Config{Name: "hosts", ConsecutiveFailures: 1}})
	require.NoError(t, err)
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		call := succeed
		if k == "b" || k == "d" {
			call = fail
		}
		_ = set.Execute(t.Context(), k, call)
	}
	d := newDashboard(t, dashboard.Config{Sets: []*breaker.Set{set}, MaxTiles: 3})

	m := snapshot(t, d, "")
	require.Len(t, m.Breakers, 3)
	assert.Equal(t, 2, m.BreakersMore)
	assert.Equal(t, "degraded", m.Status)
	var got []string
	for _, b := range m.Breakers {
		got = append(got, b.Key+" "+b.State)
	}
	assert.Equal(t, []string{"b open", "d open", "a closed"}, got)

	m = snapshot(t, d, "?limit=1")
	require.Len(t, m.Breakers, 1)
	assert.Equal(t, "b", m.Breakers[0].Key)
	assert.Equal(t, 4, m.BreakersMore)
}

func TestStatusSumsUpTheBreakers(t *testing.T) {
	newB := func(name string) *breaker.Breaker {
		b, err := breaker.New(breaker.Config{Name: name, ConsecutiveFailures: 1})
		require.NoError(t, err)
		return b
	}
	a, b := newB("a"), newB("b")
	d := newDashboard(t, dashboard.Config{Breakers: []*breaker.Breaker{a, b}})
	assert.Equal(t, "ok", snapshot(t, d, "").Status)
	_ = a.Execute(t.Context(), fail)
	assert.Equal(t, "degraded", snapshot(t, d, "").Status)
	b.ForceOpen()
	assert.Equal(t, "down", snapshot(t, d, "").Status)
	assert.Equal(t, "ok", snapshot(t, newDashboard(t, dashboard.Config{}), "").Status, "no breakers")
}
