package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"
)

// Break changes one kind of answer on its way from a target: its status, headers and JSON body
// (nil when the body is not a JSON object). It reports whether it touched the answer.
type Break func(req *http.Request, status *int, header http.Header, body map[string]any) bool

// Breaker serves target through a reverse proxy on a loopback listener, closed when the test
// ends: inject (when not nil) changes each request on its way to target, brk (when not nil) each
// answer on its way back. It is a service that breaks the contract in one chosen way, for the tests
// that prove the contract suite and the proxy notice.
func Breaker(t testing.TB, target string, inject func(*http.Request), brk Break) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	if inject != nil {
		director := rp.Director
		rp.Director = func(r *http.Request) {
			director(r)
			inject(r)
		}
	}
	if brk != nil {
		rp.ModifyResponse = func(resp *http.Response) error {
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			resp.Body.Close()
			var body map[string]any
			_ = json.Unmarshal(b, &body)
			status := resp.StatusCode
			if brk(resp.Request, &status, resp.Header, body) {
				if body != nil {
					b, _ = json.Marshal(body)
				}
				resp.StatusCode = status
			}
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
			return nil
		}
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	return srv.URL
}
