package browsertest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/go-resilience/resilience/breaker"
	"github.com/go-resilience/resilience/bulkhead"
	"github.com/go-resilience/resilience/dashboard"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateScreenshot = flag.Bool("update-screenshot", false,
	"write the screenshot taken during the outage to docs/dashboard.png, for the README")

// chromium returns the path of Debian's chromium, or skips the test
// without it (fails it in CI).
func chromium(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium is not installed, and CI=true: %v", err)
		}
		t.Skipf("chromium is not installed (apt-get install chromium): %v", err)
	}
	return path
}

// browser starts a headless chromium with a fresh profile, and returns a
// context of a tab.
func browser(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTime := context.WithTimeout(ctx, 60*time.Second)
	return ctx, func() { cancelTime(); cancelTab(); cancelAlloc() }
}

// A service calls an upstream through a breaker set (a key per
// dependency) and a bulkhead, and serves the dashboard of them.
type service struct {
	failing  atomic.Bool // the upstream answers /payments with 500
	upstream *httptest.Server
	server   *httptest.Server
	set      *breaker.Set
	db       *bulkhead.Bulkhead
	stop     chan struct{}
	wg       sync.WaitGroup
}

func newService(t *testing.T) *service {
	t.Helper()
	s := &service{stop: make(chan struct{})}
	s.upstream = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/payments" && s.failing.Load() {
			http.Error(w, "payments are down", http.StatusInternalServerError)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	rec := &dashboard.Recorder{}
	var err error
	s.set, err = breaker.NewSet(breaker.KeyedConfig{Config: breaker.Config{
		Name: "upstream", ConsecutiveFailures: 3, OpenTimeout: 500 * time.Millisecond, Observer: rec,
	}})
	require.NoError(t, err)
	s.db, err = bulkhead.New(bulkhead.Config{Name: "db", MaxConcurrent: 8, Observer: rec})
	require.NoError(t, err)
	dash, err := dashboard.New(dashboard.Config{
		Title: "checkout", Recorder: rec, Interval: 200 * time.Millisecond,
		Sets: []*breaker.Set{s.set}, Bulkheads: []*bulkhead.Bulkhead{s.db},
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/resilience/", dash)
	s.server = httptest.NewUnstartedServer(mux)
	s.server.Config.RegisterOnShutdown(dash.CloseStreams)
	s.server.Start()

	client := s.upstream.Client()
	for _, key := range []string{"payments", "inventory", "shipping"} {
		s.wg.Go(func() { s.drive(client, key) })
	}
	return s
}

// drive calls the upstream's key every few milliseconds until stop.
func (s *service) drive(client *http.Client, key string) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		_ = s.set.Execute(context.Background(), key, func(ctx context.Context) error {
			return s.db.Execute(ctx, func(ctx context.Context) error {
				req, err := http.NewRequestWithContext(ctx, "GET", s.upstream.URL+"/"+key, nil)
				if err != nil {
					return err
				}
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				res.Body.Close()
				if res.StatusCode >= 500 {
					return errors.New(res.Status)
				}
				return nil
			})
		})
	}
}

func (s *service) close() {
	close(s.stop)
	s.wg.Wait()
	s.server.Close()
	s.upstream.Close()
}

// stateOf is a JavaScript expression: the state shown by the tile of key.
func stateOf(key string) string {
	return fmt.Sprintf(`(document.querySelector('#breakers li[data-key=%q]') || {dataset: {}}).dataset.state`, key)
}

func TestTileFollowsTheBreakerAndThePageLoadsNothingElse(t *testing.T) {
	svc := newService(t)
	defer svc.close()
	ctx, cancel := browser(t)
	defer cancel()

	// Every request the page makes, and every error it reports.
	var (
		mu       sync.Mutex
		requests []string
		problems []string
	)
	require.NoError(t, chromedp.Do(ctx)) // start the browser and the tab
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, ev.Request.URL)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				problems = append(problems, fmt.Sprintf("console.%s %v", ev.Type, ev.Args))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, fmt.Sprintf("exception: %s", ev.ExceptionDetails.Text))
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				problems = append(problems, fmt.Sprintf("log: %s %s", ev.Entry.Text, ev.Entry.URL))
			}
		}
	}))

	page := svc.server.URL + "/resilience/"
	require.NoError(t, chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 860),
		chromedp.Navigate(page+"?theme=dark"),
	))
	closed := func(timeout time.Duration) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](stateOf("payments")+` === "closed"`,
			chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(20*time.Millisecond)))
		return err
	}
	require.NoError(t, closed(10*time.Second), "the payments tile never showed closed")
	// A few seconds of traffic in the sparklines, for the screenshot.
	points := func(n int) error {
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(
			`(document.querySelector('#breakers li[data-key="payments"] polyline') || {points: {length: 0}}).points.length >= %d`, n),
			chromedp.WithPollingTimeout(20*time.Second)))
		return err
	}
	require.NoError(t, points(12))

	// The outage: the tile turns open within 2s.
	svc.failing.Store(true)
	start := time.Now()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](stateOf("payments")+` === "open"`,
		chromedp.WithPollingTimeout(2*time.Second), chromedp.WithPollingInterval(20*time.Millisecond)))
	require.NoError(t, err, "the payments tile did not turn open within 2s")
	t.Logf("payments tile open %v after the upstream began failing", time.Since(start).Round(time.Millisecond))

	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#breakers li[data-key="payments"]').getAttribute("aria-label")`))
	require.NoError(t, err)
	assert.Contains(t, label, "upstream payments: open")
	state, err := chromedp.Run(ctx, chromedp.Evaluate[string](stateOf("inventory")))
	require.NoError(t, err)
	assert.Equal(t, "closed", state, "the healthy dependency stays closed")
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll('#timeline li[data-to="open"]').length > 0`,
		chromedp.WithPollingTimeout(2*time.Second)))
	require.NoError(t, err, "the timeline shows the change")
	require.NoError(t, points(20))

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(shot))
	require.NoError(t, err)
	assert.Equal(t, 1280, img.Bounds().Dx())
	out := filepath.Join(t.TempDir(), "dashboard.png")
	if *updateScreenshot {
		out = filepath.Join("..", "..", "docs", "dashboard.png")
		require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	}
	require.NoError(t, os.WriteFile(out, shot, 0o644))
	t.Logf("screenshot of the outage: %s (%d bytes)", out, len(shot))

	// Recovery: the breaker probes after its open duration and closes.
	svc.failing.Store(false)
	start = time.Now()
	require.NoError(t, closed(5*time.Second), "the payments tile did not turn closed after recovery")
	t.Logf("payments tile closed %v after the upstream recovered", time.Since(start).Round(time.Millisecond))

	// The theme button switches the theme.
	theme, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("theme").click(), document.documentElement.dataset.theme`))
	require.NoError(t, err)
	assert.Equal(t, "light", theme, "dark, then light")

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, requests)
	for _, u := range requests {
		assert.True(t, strings.HasPrefix(u, svc.server.URL+"/resilience/") || strings.HasPrefix(u, "data:"),
			"the page loaded %s, outside the dashboard", u)
	}
	assert.Empty(t, problems, "the page reported errors")
}
