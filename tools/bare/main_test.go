package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/app"
)

func TestHandlerAnswersTheBodyToEveryRequest(t *testing.T) {
	body := []byte(`[{"id":"x"}]` + "\n")
	h := handler(body, "application/json; charset=utf-8")
	for _, target := range []string{"/connect_ats/jobs", "/anything?else"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
		if got, want := rec.Code, http.StatusOK; got != want {
			t.Fatalf("%s: status %d, want %d", target, got, want)
		}
		if got, want := rec.Header().Get("Content-Type"), "application/json; charset=utf-8"; got != want {
			t.Fatalf("%s: Content-Type %q, want %q", target, got, want)
		}
		if got := rec.Body.Bytes(); !bytes.Equal(got, body) {
			t.Fatalf("%s: body %q, want %q", target, got, body)
		}
	}
}

func TestRunUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"no body file":  {},
		"unknown flag":  {"--body-file", "-", "--nope"},
		"extra operand": {"--body-file", "-", "extra"},
	} {
		t.Run(name, func(t *testing.T) {
			if got, want := run(context.Background(), args, strings.NewReader(""), io.Discard), 2; got != want {
				t.Fatalf("run(%q) = %d, want %d", args, got, want)
			}
		})
	}
}

// The yardstick runs in a server set as the mock's: only the handlers differ.
func TestServerIsSetAsTheMocks(t *testing.T) {
	bare, mock := server(http.NotFoundHandler()), app.HTTPServer(http.NotFoundHandler(), nil)
	got := []any{bare.ReadHeaderTimeout, bare.ReadTimeout, bare.WriteTimeout, bare.IdleTimeout, bare.MaxHeaderBytes}
	want := []any{mock.ReadHeaderTimeout, mock.ReadTimeout, mock.WriteTimeout, mock.IdleTimeout, mock.MaxHeaderBytes}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("bare's server has (ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout, MaxHeaderBytes) %v; the mock's %v", got, want)
		}
	}
}
