package httpx_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/go-resilience/resilience/httpx"
	"github.com/go-resilience/resilience/inject"
)

// A server that fails, on purpose, only the requests that carry a header:
// one test request can fail end to end while real traffic is untouched.
func ExampleInjectHandler() {
	faults, err := inject.New(inject.Config{Name: "game-day", Share: 1, MarkedOnly: true, Err: inject.ErrInjected})
	if err != nil {
		panic(err)
	}
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hello\n") })
	h, err := httpx.InjectHandler(httpx.InjectConfig{Injector: faults, Header: "X-Fault-Inject"}, app)
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()

	faults.Enable() // from an admin endpoint, say
	for _, header := range []string{"", "1"} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("X-Fault-Inject", header)
		resp, err := client.Do(req)
		if err != nil {
			panic(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(body))
	}
	// Output:
	// 200 hello
	// 503 injected fault
}
