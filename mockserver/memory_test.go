package mockserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/mockserver"
)

// liveHeap is the heap's live objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // the first may leave finalizers' and sweeps' garbage behind
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// heapPerApplication is what one stored application costs in live heap, invited (by email, the
// default: its invitation email is kept too) and completed (its results delivered to a receiver),
// in bytes; restart is how long building the mock again on its data dir took (0 in memory).
type heapPerApplication struct {
	Invited, Completed float64
	Restart            time.Duration
	RestartedHeap      float64 // bytes per application after the restart
}

// measureHeap creates n applications through the whole handler, measures the live heap, completes
// them all (the callbacks delivered), measures again; with dir it then closes the mock and builds
// it again on its data dir. The journal is emptied before each measurement: its bodies are bounded
// on their own and are not the applications' cost.
func measureHeap(tb testing.TB, n int, dir string) heapPerApplication {
	tb.Helper()
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	defer receiver.Close()
	mock, err := mockserver.New(mockserver.Config{Seed: 1, SigningKey: []byte("k"), DataDir: dir,
		Clock: mockserver.Clock{Start: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Frozen: true}})
	if err != nil {
		tb.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = mock.Close(context.Background())
		}
	}()
	do := func(method, path, auth, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		mock.ServeHTTP(rec, req)
		return rec
	}
	rec := do(http.MethodPost, "/connect_ats/access_token", "Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=", "")
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
		tb.Fatal(err)
	}
	bearer := "Bearer " + tok.AccessToken
	settle := func() {
		if rec := do(http.MethodGet, "/_mock/settle?wait=60s", "", ""); !strings.Contains(rec.Body.String(), `"settled":true`) {
			tb.Fatalf("settle: %s", rec.Body)
		}
		do(http.MethodDelete, "/_mock/journal", "", "")
	}
	settle()
	before := liveHeap()
	refs := make([]string, n)
	parallel := func(fn func(i int) error) {
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				for i := w; i < n; i += 16 {
					if err := fn(i); err != nil {
						tb.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if tb.Failed() {
			tb.FailNow()
		}
	}
	parallel(func(i int) error {
		rec := do(http.MethodPost, "/connect_ats/applications", bearer, fmt.Sprintf(
			`{"job_id":%q,"callback_url":%q,"applicant_details":{"first_name":"Ada","last_name":"Lovelace %d","email":"ada%d@example.com"}}`,
			engineerJob, receiver.URL+"/applications/"+strconv.Itoa(i), i, i))
		var app struct {
			ReferenceID string `json:"reference_id"`
		}
		if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &app) != nil {
			return fmt.Errorf("create: %d %s", rec.Code, rec.Body)
		}
		refs[i] = app.ReferenceID
		return nil
	})
	settle()
	var out heapPerApplication
	invited := liveHeap()
	out.Invited = float64(int64(invited)-int64(before)) / float64(n)
	parallel(func(i int) error {
		if rec := do(http.MethodPost, "/_mock/applications/"+refs[i]+"/complete", "", ""); rec.Code != http.StatusOK {
			return fmt.Errorf("complete: %d %s", rec.Code, rec.Body)
		}
		return nil
	})
	settle()
	if rec := do(http.MethodGet, "/_mock/callbacks?status=delivered&kind=results&min="+strconv.Itoa(n)+"&wait=60s", "", ""); rec.Code != http.StatusOK {
		tb.Fatalf("callbacks: %d", rec.Code)
	}
	do(http.MethodDelete, "/_mock/journal", "", "")
	out.Completed = float64(int64(liveHeap())-int64(before)) / float64(n)
	runtime.KeepAlive(refs)
	if dir == "" {
		return out
	}
	if err := mock.Close(context.Background()); err != nil {
		tb.Fatal(err)
	}
	closed = true
	mock = nil
	base := liveHeap()
	start := time.Now()
	mock2, err := mockserver.New(mockserver.Config{DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	out.Restart = time.Since(start)
	out.RestartedHeap = float64(int64(liveHeap())-int64(base)) / float64(n)
	if err := mock2.Close(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return out
}

// MaxHeapPerApplication bounds the live heap one stored application costs, invited or completed
// with its callback delivered, in memory or read back from a data dir: a hundred thousand
// applications fit in 150 MiB. The journal's bodies are bounded on their own and not counted.
const MaxHeapPerApplication = 1536

// TestMemoryBoundedPerApplication holds the mock to MaxHeapPerApplication.
func TestMemoryBoundedPerApplication(t *testing.T) {
	if raceDetector || testing.Short() {
		t.Skip("the race detector's shadow memory is not the mock's; make test runs this without -race")
	}
	m := measureHeap(t, 5000, t.TempDir())
	t.Logf("live heap per application: invited %.0f B, completed %.0f B, read back from the data dir %.0f B", m.Invited, m.Completed, m.RestartedHeap)
	for what, b := range map[string]float64{"invited": m.Invited, "completed": m.Completed, "read back": m.RestartedHeap} {
		if b > MaxHeapPerApplication {
			t.Errorf("an application %s costs %.0f B of live heap, over %d", what, b, MaxHeapPerApplication)
		}
	}
}

// BenchmarkLiveHeapPerApplication reports the live heap one application costs, invited and
// completed, in memory and (with a restart) on a data dir: go test -run '^$' -bench LiveHeap
// -benchtime 1x ./mockserver (APPS=n sets how many applications, 20,000 by default).
func BenchmarkLiveHeapPerApplication(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("APPS")); err == nil && v > 0 {
		n = v
	}
	for _, name := range []string{"memory", "data dir"} {
		b.Run(name, func(b *testing.B) {
			var m heapPerApplication
			for b.Loop() {
				dir := ""
				if name == "data dir" {
					dir = b.TempDir()
				}
				m = measureHeap(b, n, dir)
			}
			b.ReportMetric(m.Invited, "B/invited")
			b.ReportMetric(m.Completed, "B/completed")
			if name == "data dir" {
				b.ReportMetric(m.RestartedHeap, "B/restored")
				b.ReportMetric(float64(m.Restart.Milliseconds()), "ms-restart")
			}
		})
	}
}
