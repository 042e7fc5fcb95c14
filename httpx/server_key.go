package httpx

import "net/http"

// RouteKey returns a ServerConfig.Key that keys a request by the pattern
// mux routes it to ("GET /items/{id}"), or "" when mux has no route for
// it, so that each route may get its own Policy (ServerConfig.PolicyFor)
// and its own metrics. A Server wrapping mux itself sees requests before
// mux has routed them, so the key asks mux; a handler registered on mux
// and wrapped on its own could read r.Pattern instead. Routing twice
// costs a route match per request. The key is safe for concurrent use.
func RouteKey(mux *http.ServeMux) func(*http.Request) string {
	return func(r *http.Request) string {
		if r.Pattern != "" {
			return r.Pattern
		}
		_, pattern := mux.Handler(r)
		return pattern
	}
}

// HeaderKey returns a ServerConfig.Key that keys a request by the value
// of the request header name (a client or tenant id), so that each client
// may get its own Policy, such as its own rate limit from a
// ratelimit.Set. A request without the header has the key "". Clients
// choose their header values: bound the keys the Policy keeps (a
// ratelimit.Set does) and strip the header at the edge from traffic you
// do not trust. The key is safe for concurrent use.
func HeaderKey(name string) func(*http.Request) string {
	name = http.CanonicalHeaderKey(name)
	return func(r *http.Request) string {
		if v := r.Header[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
}
