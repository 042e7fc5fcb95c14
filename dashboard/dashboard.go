package dashboard

import (
	"embed"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-resilience/resilience"
)

// assets are the page: HTML, CSS and JavaScript, with nothing to fetch
// from anywhere else.
//
//go:embed assets/index.html assets/app.js assets/style.css
var assets embed.FS

// A Dashboard is an http.Handler that serves a live page of the policies
// it watches (Config) and of the Events its Recorder is told.
// Mount it under a path that ends in a slash, with or without
// http.StripPrefix:
//
//	mux.Handle("/resilience/", dash)
//
// It answers GET and HEAD only. It keeps no global state and starts a
// goroutine only while a stream is open (one for all streams, plus the
// handler goroutine of each). A Dashboard is safe for concurrent use. Make
// one with New; the zero Dashboard is not usable.
type Dashboard struct {
	cfg Config
	rec *Recorder
	hub hub
}

// New returns a Dashboard configured by cfg, or an error naming the first
// invalid field of cfg. It copies the slices of cfg: changing them later
// changes nothing.
func New(cfg Config) (*Dashboard, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &Dashboard{cfg: cfg, rec: cfg.Recorder}
	if d.rec == nil {
		d.rec = &Recorder{}
	}
	d.hub.d = d
	return d, nil
}

// ServeHTTP serves, relative to the path the Dashboard is mounted at:
//
//   - "" (the path ending in a slash): the page. Query: theme=auto, dark
//     or light (zero: auto, the browser's preference).
//   - "app.js", "style.css": the page's script and style.
//   - "snapshot.json": one message (see the package documentation), now.
//     Query: limit=N lists at most N (1 to Config.MaxTiles) entries of
//     each list; history=true adds each entry's recent rates.
//   - "events": the stream, as server-sent events (text/event-stream):
//     a message now and then one every Config.Interval. No query.
//
// A query parameter it does not know, given twice, or with a bad value is
// answered with 400 Bad Request; another path with 404; a method other
// than GET and HEAD with 405. The stream ends when the request's context
// is done, when the stream falls Config.StreamBuffer messages behind, or
// when a write to it takes longer than that many Intervals (one second at
// least): a client that stops reading is dropped.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "dashboard: method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		http.Error(w, "dashboard: bad query: "+err.Error(), http.StatusBadRequest)
		return
	}
	p := r.URL.Path
	name := p[strings.LastIndexByte(p, '/')+1:]
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	switch name {
	case "":
		if err := checkQuery(q, "theme"); err != "" {
			http.Error(w, err, http.StatusBadRequest)
			return
		}
		switch q.Get("theme") {
		case "", "auto", "dark", "light":
		default:
			http.Error(w, "dashboard: theme must be auto, dark or light", http.StatusBadRequest)
			return
		}
		d.serveAsset(w, r, q, "index.html", "text/html; charset=utf-8")
	case "app.js":
		d.serveAsset(w, r, q, name, "text/javascript; charset=utf-8")
	case "style.css":
		d.serveAsset(w, r, q, name, "text/css; charset=utf-8")
	case "snapshot.json":
		d.serveSnapshot(w, r, q)
	case "events":
		if err := checkQuery(q); err != "" {
			http.Error(w, err, http.StatusBadRequest)
			return
		}
		d.serveEvents(w, r)
	default:
		http.NotFound(w, r)
	}
}

// Observe gives ev to the Dashboard's Recorder (Config.Recorder, or its
// own): a Dashboard is a resilience.Observer too, for policies made after
// it. See Recorder.Observe. On a nil *Dashboard it does nothing.
func (d *Dashboard) Observe(ev resilience.Event) {
	if d != nil {
		d.rec.Observe(ev)
	}
}

// Recorder returns the Dashboard's Recorder: Config.Recorder, or the one
// it made.
func (d *Dashboard) Recorder() *Recorder { return d.rec }

// contentSecurity lets the page load its own script, style and data, and
// nothing from anywhere else.
const contentSecurity = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
	"img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func (d *Dashboard) serveAsset(w http.ResponseWriter, r *http.Request, q url.Values, name, ctype string) {
	if name != "index.html" {
		if err := checkQuery(q); err != "" {
			http.Error(w, err, http.StatusBadRequest)
			return
		}
	}
	b, err := assets.ReadFile("assets/" + name)
	if err != nil { // cannot happen: the names are embedded
		http.Error(w, "dashboard: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Security-Policy", contentSecurity)
	h.Set("Cache-Control", "no-cache")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(b)
}

func (d *Dashboard) serveSnapshot(w http.ResponseWriter, r *http.Request, q url.Values) {
	if err := checkQuery(q, "limit", "history"); err != "" {
		http.Error(w, err, http.StatusBadRequest)
		return
	}
	limit := d.cfg.MaxTiles
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > d.cfg.MaxTiles {
			http.Error(w, "dashboard: limit must be an integer from 1 to "+strconv.Itoa(d.cfg.MaxTiles), http.StatusBadRequest)
			return
		}
		limit = n
	}
	history := false
	if v, ok := q["history"]; ok {
		b, err := strconv.ParseBool(v[0])
		if err != nil {
			http.Error(w, "dashboard: history must be true or false", http.StatusBadRequest)
			return
		}
		history = b
	}
	body := d.encode(time.Now(), limit, history)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

// checkQuery returns an error message when q has a parameter not in
// allowed, or one given more than once; "" otherwise.
func checkQuery(q url.Values, allowed ...string) string {
	for k, v := range q {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			return "dashboard: unknown query parameter " + strconv.Quote(k)
		}
		if len(v) != 1 {
			return "dashboard: query parameter " + strconv.Quote(k) + " given more than once"
		}
	}
	return ""
}

// timelineLen is how many changes of state the timeline keeps.
const timelineLen = 50

// A change is a breaker's change of state, for the timeline.
type change struct {
	At     time.Time `json:"time"`
	Policy string    `json:"policy"`
	Key    string    `json:"key"`
	From   string    `json:"from"`
	To     string    `json:"to"`
}

// A timeline keeps the last timelineLen changes.
type timeline struct {
	mu   sync.Mutex
	ring [timelineLen]change
	n    int // changes kept
	next int // where the next one goes
}

func (t *timeline) add(c change) {
	t.mu.Lock()
	t.ring[t.next] = c
	t.next = (t.next + 1) % timelineLen
	t.n = min(t.n+1, timelineLen)
	t.mu.Unlock()
}

// changes returns the changes kept, oldest first.
func (t *timeline) changes() []change {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]change, 0, t.n)
	for i := range t.n {
		out = append(out, t.ring[(t.next-t.n+i+timelineLen)%timelineLen])
	}
	return out
}
