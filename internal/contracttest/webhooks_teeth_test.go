package contracttest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// The mock's events reach the suite's receiver through a proxy that changes them: the suite
// catches each change, naming what broke.
func TestSuiteCatchesBrokenWebhookEvents(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		change func(event map[string]any)
		want   []string
	}{
		"a body changed on the way (keys in another order, the signature no longer matches)": {
			change: func(map[string]any) {},
			want:   []string{"assessment_started", "the signature does not verify with the webhook's secret"},
		},
		"assessment_started without its start date": {
			change: func(e map[string]any) {
				if e["type"] == "assessment_started" {
					delete(e["data"].(map[string]any), "application_start_date")
				}
			},
			want: []string{"assessment_started", `"data.application_start_date" can't be blank`},
		},
		"the documentation's other name for the event": {
			change: func(e map[string]any) {
				if e["type"] == "assessment_started" {
					e["type"] = "application_started"
				}
			},
			want: []string{`event type "application_started" is not one the contract documents`},
		},
	}
	base := mock(t)
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			receiverAddr := freeAddr(t)
			rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: receiverAddr})
			director := rp.Director
			rp.Director = func(r *http.Request) {
				director(r)
				if r.Method != http.MethodPost {
					return // results callbacks pass as they are
				}
				b, _ := io.ReadAll(r.Body)
				var e map[string]any
				if json.Unmarshal(b, &e) == nil {
					tc.change(e)
					b, _ = json.Marshal(e) // sorted keys: not the bytes the mock signed
				}
				r.Body = io.NopCloser(bytes.NewReader(b))
				r.ContentLength = int64(len(b))
				r.Header.Set("Content-Length", strconv.Itoa(len(b)))
			}
			srv := httptest.NewServer(rp)
			t.Cleanup(srv.Close)
			code, out := run(t, base, base+"/_mock", "POSTs assessment_started",
				"EQUALTURE_CONTRACT_RECEIVER_ADDR="+receiverAddr, "EQUALTURE_CONTRACT_RECEIVER_URL="+srv.URL,
				"EQUALTURE_CONTRACT_CALLBACK_TIMEOUT=3s")
			if code == 0 {
				t.Fatalf("the suite passed changed events:\n%s", out)
			}
			t.Logf("caught: %s", failure(out))
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("the failure does not say %q:\n%s", w, tail(out))
				}
			}
		})
	}
}
