package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer tests read while a command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestReceiverCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"receiver", "--addr", addr, "--respond", "500,200"}, env(nil), &out, io.Discard)
	}()
	put := func(body string) int {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; {
			req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/applications/42", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				return resp.StatusCode
			}
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond) // until the receiver listens
		}
	}
	if got := put(`{"fit":"high"}`); got != 500 {
		t.Fatalf("first answer %d, want 500", got)
	}
	if got := put(`{"fit":"high"}`); got != 200 {
		t.Fatalf("second answer %d, want 200", got)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("receiver exited %d", code)
	}
	s := out.String()
	if !strings.Contains(s, "PUT /applications/42") || !strings.Contains(s, "answered 500") || !strings.Contains(s, "BREAKS openapi.yaml") {
		t.Fatalf("receiver printed:\n%s", s)
	}
	if code := Main(context.Background(), []string{"receiver", "--respond", "teapot"}, env(nil), io.Discard, io.Discard); code != exitUsage {
		t.Fatalf("a bad --respond exited %d, want %d", code, exitUsage)
	}
}
