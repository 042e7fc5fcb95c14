package dashboard

import (
	"fmt"
	"time"

	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
)

// Config says what a Dashboard watches and how much it may cost. The zero
// value is valid: a page that shows only what its Observer is told, sent
// once a second to at most 128 open pages.
type Config struct {
	// Title is shown at the top of the page and as its title.
	// Zero: "resilience".
	Title string

	// Breakers are shown each as a tile coloured by its state, read with
	// Breaker.State at every message. Zero: none. Elements must not be nil.
	Breakers []*breaker.Breaker

	// Sets are keyed breaker sets: every breaker a set keeps at the time of
	// a message is shown as a tile under the set's Name and its key.
	// Zero: none. Elements must not be nil.
	Sets []*breaker.Set

	// Bulkheads are shown with their slots in use, callers waiting and
	// saturation. Zero: none. Elements must not be nil.
	Bulkheads []*bulkhead.Bulkhead

	// Recorder is the Observer of the policies: the Dashboard shows the
	// rates, refusals, timeouts, fallbacks, latencies and changes of state
	// it was told. Tiles are joined to its counts by policy name and key.
	// Zero: the Dashboard makes its own, which its Observe method feeds.
	Recorder *Recorder

	// Interval is how often the stream sends a message to each open page,
	// and how often call rates are sampled while a page is open. Zero: 1s.
	// Otherwise it must be from 100ms to 1h: the rate is bounded whatever
	// the client asks.
	Interval time.Duration

	// Window is the span of recent calls the latency percentiles cover:
	// those of the last Window/2 to Window (counts are kept in two halves,
	// the older dropped as a new one starts). Zero: 1m, or 2*Interval if
	// that is longer. Otherwise it must be at least 2*Interval.
	Window time.Duration

	// MaxTiles is the most breakers, bulkheads and other policies each
	// message lists (each list on its own); the others are counted in the
	// message's "more" fields and the page says "and N more". Breakers
	// that are not closed come first, so the ones that matter stay in view.
	// Zero: 100. Otherwise it must be between 1 and 10000.
	MaxTiles int

	// MaxStreams is the most streams open at once; a page that opens one
	// more gets 503 Service Unavailable (and its browser retries). Zero:
	// 128. Otherwise it must be positive.
	MaxStreams int

	// StreamBuffer is how many messages wait for a slow stream before it
	// is dropped: a page that does not read its stream never slows the
	// others or the service. Zero: 4. Otherwise it must be positive.
	StreamBuffer int
}

const (
	defaultTitle        = "resilience"
	defaultInterval     = time.Second
	minInterval         = 100 * time.Millisecond
	maxInterval         = time.Hour
	defaultWindow       = time.Minute
	defaultMaxKeys      = 1024
	defaultMaxTiles     = 100
	maxMaxTiles         = 10000
	defaultMaxStreams   = 128
	defaultStreamBuffer = 4
)

// withDefaults returns cfg with its zero fields set to their defaults and
// its slices copied, or an error naming the first invalid field.
func (cfg Config) withDefaults() (Config, error) {
	for i, b := range cfg.Breakers {
		if b == nil {
			return cfg, fmt.Errorf("dashboard: Config.Breakers[%d] is nil", i)
		}
	}
	for i, s := range cfg.Sets {
		if s == nil {
			return cfg, fmt.Errorf("dashboard: Config.Sets[%d] is nil", i)
		}
	}
	for i, b := range cfg.Bulkheads {
		if b == nil {
			return cfg, fmt.Errorf("dashboard: Config.Bulkheads[%d] is nil", i)
		}
	}
	if cfg.Title == "" {
		cfg.Title = defaultTitle
	}
	switch {
	case cfg.Interval == 0:
		cfg.Interval = defaultInterval
	case cfg.Interval < minInterval || cfg.Interval > maxInterval:
		return cfg, fmt.Errorf("dashboard: Config.Interval must be from %v to %v, got %v", minInterval, maxInterval, cfg.Interval)
	}
	switch {
	case cfg.Window == 0:
		cfg.Window = max(defaultWindow, 2*cfg.Interval)
	case cfg.Window < 2*cfg.Interval:
		return cfg, fmt.Errorf("dashboard: Config.Window must be at least 2*Interval (%v), got %v", 2*cfg.Interval, cfg.Window)
	}
	var err error
	if cfg.MaxTiles, err = positive("MaxTiles", cfg.MaxTiles, defaultMaxTiles); err != nil {
		return cfg, err
	}
	if cfg.MaxTiles > maxMaxTiles {
		return cfg, fmt.Errorf("dashboard: Config.MaxTiles must be at most %d, got %d", maxMaxTiles, cfg.MaxTiles)
	}
	if cfg.MaxStreams, err = positive("MaxStreams", cfg.MaxStreams, defaultMaxStreams); err != nil {
		return cfg, err
	}
	if cfg.StreamBuffer, err = positive("StreamBuffer", cfg.StreamBuffer, defaultStreamBuffer); err != nil {
		return cfg, err
	}
	cfg.Breakers = append([]*breaker.Breaker(nil), cfg.Breakers...)
	cfg.Sets = append([]*breaker.Set(nil), cfg.Sets...)
	cfg.Bulkheads = append([]*bulkhead.Bulkhead(nil), cfg.Bulkheads...)
	return cfg, nil
}

func positive(field string, v, def int) (int, error) {
	switch {
	case v == 0:
		return def, nil
	case v < 0:
		return v, fmt.Errorf("dashboard: Config.%s must be positive, got %d", field, v)
	}
	return v, nil
}
