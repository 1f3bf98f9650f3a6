package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/testenv"
)

func TestReceiverCommand(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out testenv.SyncBuffer
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

func TestReceiverCommandVerifiesEvents(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out testenv.SyncBuffer
	done := make(chan int)
	go func() {
		done <- Main(ctx, []string{"receiver", "--addr", addr, "--secret", secret}, env(nil), &out, io.Discard)
	}()
	event := `{"id":"5f0c6f5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f","type":"assessment_finished","data":{"reference_id":"d2c37d4d-b8d4-46a9-b230-42a246ad6153"}}`
	post := func(key string) {
		t.Helper()
		sig, err := delivery.Sign(key, "5f0c6f5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f", "1764331200", []byte(event))
		if err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); ; {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/events", strings.NewReader(event))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("webhook-id", "5f0c6f5e-2b1a-4c3d-9e8f-7a6b5c4d3e2f")
			req.Header.Set("webhook-timestamp", "1764331200")
			req.Header.Set("webhook-signature", sig)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				return
			}
			if time.Now().After(deadline) {
				t.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond) // until the receiver listens
		}
	}
	post(secret)
	post("whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtYmJiYmJi")
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("receiver exited %d", code)
	}
	s := out.String()
	for _, want := range []string{"POST /events: event assessment_finished", "honours openapi.yaml, signature verified", "BREAKS openapi.yaml: the signature does not verify"} {
		if !strings.Contains(s, want) {
			t.Fatalf("receiver printed no %q:\n%s", want, s)
		}
	}
	if code := Main(context.Background(), []string{"receiver", "--secret", "hunter2"}, env(nil), io.Discard, io.Discard); code != exitUsage {
		t.Fatalf("a bad --secret exited %d, want %d", code, exitUsage)
	}
}
