package httpx

import (
	"net/http"
	"strings"
)

// HostKey is the key a Transport uses when Config.Key is nil: the request
// URL's scheme and host with an explicit port, such as
// "https://api.example.com:443", so that http and https to one host, or two
// ports of one host, get breakers of their own, and "example.com" and
// "example.com:80" share one. The host is used as written in the URL (host
// names are not lower-cased). It is safe for concurrent use.
func HostKey(req *http.Request) string {
	u := req.URL
	if u == nil {
		return ""
	}
	host, hasPort := splitPort(u.Host)
	if !hasPort {
		switch u.Scheme {
		case "https", "wss":
			return u.Scheme + "://" + host + ":443"
		case "http", "ws":
			return u.Scheme + "://" + host + ":80"
		}
	}
	return u.Scheme + "://" + host
}

// splitPort reports whether hostport (a URL's Host: a name, an IPv4 address
// or a bracketed IPv6 address, with an optional ":port") has a non-empty
// port. When the port is missing it returns the host without the empty
// port's colon ("example.com:" is "example.com").
func splitPort(hostport string) (string, bool) {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 || strings.LastIndexByte(hostport, ']') > i {
		return hostport, false // no colon, or only colons inside [v6]
	}
	if i == len(hostport)-1 {
		return hostport[:i], false
	}
	return hostport, true
}
