package mockserver_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/mockserver"
)

const engineerJob = "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01"

// running is a mock on a real listener, with a data dir.
type running struct {
	t    *testing.T
	mock *mockserver.Server
	srv  *httptest.Server
}

// start runs a mock on dir (serve, seed 1); stop ends it as a restart would (the data file closed).
func start(t *testing.T, dir string, cfg mockserver.Config) *running {
	t.Helper()
	cfg.DataDir, cfg.Seed = dir, 1
	return serve(t, cfg)
}

func (r *running) stop() {
	if r.srv == nil {
		return
	}
	r.srv.Close()
	if err := r.mock.Close(context.Background()); err != nil {
		r.t.Errorf("close: %v", err)
	}
	r.srv = nil
}

// call makes a request and decodes a JSON answer into out (when given); it returns the status.
// auth is "client:secret" (Basic) or an access token (Bearer), or "" for none.
func (r *running) call(method, path, auth string, body any, out any) int {
	r.t.Helper()
	code, err := r.do(method, path, auth, body, out)
	if err != nil {
		r.t.Fatal(err)
	}
	return code
}

// do is call for goroutines other than the test's: it returns what went wrong instead of failing.
func (r *running) do(method, path, auth string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.srv.URL+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if id, secret, ok := strings.Cut(auth, ":"); ok {
		req.SetBasicAuth(id, secret)
	} else if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s answered %d %s: %w", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, nil
}

func (r *running) token(client string) string {
	r.t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if code := r.call(http.MethodPost, "/connect_ats/access_token", client+":"+strings.TrimSuffix(client, "-client")+"-secret", nil, &tok); code != http.StatusOK {
		r.t.Fatalf("token: %d", code)
	}
	return tok.AccessToken
}

func (r *running) invite(tok, callback, kind string) string {
	r.t.Helper()
	var app struct {
		ReferenceID string `json:"reference_id"`
	}
	body := map[string]any{
		"job_id": engineerJob, "callback_url": callback, "invitation_type": kind,
		"applicant_details": map[string]string{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
	}
	if code := r.call(http.MethodPost, "/connect_ats/applications", tok, body, &app); code != http.StatusCreated {
		r.t.Fatalf("create: %d", code)
	}
	return app.ReferenceID
}

type clockView struct {
	Now    time.Time `json:"now"`
	Frozen bool      `json:"frozen"`
	Offset string    `json:"offset"`
}

func (r *running) clock() clockView {
	r.t.Helper()
	var c clockView
	r.call(http.MethodGet, "/_mock/clock", "", nil, &c)
	return c
}

type deliveryView struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Attempts []struct {
		StatusCode int `json:"status_code"`
	} `json:"attempts"`
}

func (r *running) deliveries(query string) []deliveryView {
	r.t.Helper()
	var out struct {
		Deliveries []deliveryView `json:"deliveries"`
	}
	r.call(http.MethodGet, "/_mock/callbacks?"+query, "", nil, &out)
	return out.Deliveries
}

func (r *running) statuses() map[string]string {
	r.t.Helper()
	var out struct {
		Applications []struct {
			ReferenceID string `json:"reference_id"`
			Status      string `json:"status"`
		} `json:"applications"`
	}
	r.call(http.MethodGet, "/_mock/applications", "", nil, &out)
	m := make(map[string]string)
	for _, a := range out.Applications {
		m[a.ReferenceID] = a.Status
	}
	return m
}

// switchable is a callback receiver answering 500 until told to answer 200.
type switchable struct {
	*httptest.Server
	code atomic.Int64
}

func newSwitchable(t *testing.T) *switchable {
	s := &switchable{}
	s.code.Store(http.StatusInternalServerError)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(int(s.code.Load()))
	}))
	t.Cleanup(s.Close)
	return s
}

func TestDataDirSurvivesARestart(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	rcv := newSwitchable(t)
	a := start(t, dir, mockserver.Config{Clock: mockserver.Clock{Start: t0, Frozen: true}, Callbacks: mockserver.CallbackPolicy{NoJitter: true}})
	demo, other := a.token("demo-client"), a.token("other-client")
	invited := a.invite(demo, rcv.URL, "email")
	completed := a.invite(demo, rcv.URL, "one_time_link")
	hired := a.invite(demo, rcv.URL, "one_time_link")
	anonymized := a.invite(demo, rcv.URL, "one_time_link")
	for _, ref := range []string{completed, hired} {
		if code := a.call(http.MethodPost, "/_mock/applications/"+ref+"/complete", "", nil, nil); code != http.StatusOK {
			t.Fatalf("complete: %d", code)
		}
	}
	if code := a.call(http.MethodPost, "/connect_ats/applications/"+hired+"/hire_applicant", demo, map[string]any{"add_to_team": true}, nil); code != http.StatusOK {
		t.Fatalf("hire: %d", code)
	}
	if code := a.call(http.MethodDelete, "/connect_ats/applications/"+anonymized+"/anonymize_application", demo, nil, nil); code != http.StatusOK {
		t.Fatalf("anonymize: %d", code)
	}
	a.call(http.MethodPost, "/_mock/tokens/revoke", "", map[string]string{"client_id": "other-client"}, nil)
	a.call(http.MethodPost, "/_mock/clock/advance", "", map[string]string{"by": "1s"}, nil)
	a.call(http.MethodGet, "/_mock/settle", "", nil, nil)
	before := a.deliveries("")
	a.stop()

	// Started with another clock option: the data dir's clock wins.
	b := start(t, dir, mockserver.Config{Clock: mockserver.Clock{Start: t0.Add(24 * time.Hour), Frozen: true}, Callbacks: mockserver.CallbackPolicy{NoJitter: true}})
	if c := b.clock(); !c.Frozen || !c.Now.Equal(t0.Add(time.Second)) {
		t.Fatalf("clock after the restart = %+v, want frozen at %v", c, t0.Add(time.Second))
	}
	want := map[string]string{invited: "invited", completed: "completed", hired: "hired", anonymized: "anonymized"}
	if got := b.statuses(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("applications after the restart = %v, want %v", got, want)
	}
	if code := b.call(http.MethodGet, "/connect_ats/jobs", demo, nil, nil); code != http.StatusOK {
		t.Fatalf("a token issued before the restart: %d", code)
	}
	if code := b.call(http.MethodGet, "/connect_ats/jobs", other, nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("a token revoked before the restart: %d", code)
	}
	var outbox struct {
		Emails []struct {
			ReferenceID string `json:"reference_id"`
		} `json:"emails"`
	}
	b.call(http.MethodGet, "/_mock/outbox", "", nil, &outbox)
	if len(outbox.Emails) != 1 || outbox.Emails[0].ReferenceID != invited {
		t.Fatalf("outbox after the restart = %+v", outbox.Emails)
	}
	after := b.deliveries("")
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("deliveries after the restart\n  %+v\nwant\n  %+v", after, before)
	}

	// The retries pending at the restart resume on the clock.
	rcv.code.Store(http.StatusOK)
	b.call(http.MethodPost, "/_mock/clock/advance", "", map[string]string{"by": "3s"}, nil) // 1 s before the retry
	b.call(http.MethodGet, "/_mock/settle", "", nil, nil)
	if n := len(b.deliveries("status=delivered")); n != 0 {
		t.Fatalf("%d retries made before they were due", n)
	}
	b.call(http.MethodPost, "/_mock/clock/advance", "", map[string]string{"by": "1s"}, nil)
	if got := b.deliveries("status=delivered&min=2&wait=10s"); len(got) != 2 || len(got[0].Attempts) != 2 {
		t.Fatalf("after the retry was due: %+v", got)
	}
	fresh := b.invite(demo, rcv.URL, "one_time_link")
	if _, ok := want[fresh]; ok {
		t.Fatalf("reference id %s issued again after the restart", fresh)
	}
	b.call(http.MethodPost, "/_mock/applications/"+fresh+"/complete", "", nil, nil)
	if ds := b.deliveries("reference_id=" + fresh); len(ds) != 1 || !strings.HasPrefix(ds[0].ID, "dlv_000003_") {
		t.Fatalf("the first delivery after the restart = %+v, want number 3", ds)
	}
}

func TestSigningKeyAcrossRestarts(t *testing.T) {
	tests := map[string]struct {
		first, second []byte // --signing-key of each start (nil: none)
		works         bool   // a token of the first start works in the second
	}{
		"generated and kept":       {nil, nil, true},
		"given, then left out":     {[]byte("key-one"), nil, true},
		"given the same again":     {[]byte("key-one"), []byte("key-one"), true},
		"a different key replaces": {[]byte("key-one"), []byte("key-two"), false},
		"given where one was kept": {nil, []byte("key-two"), false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			a := start(t, dir, mockserver.Config{SigningKey: tc.first})
			old := a.token("demo-client")
			a.stop()
			b := start(t, dir, mockserver.Config{SigningKey: tc.second})
			code := b.call(http.MethodGet, "/connect_ats/jobs", old, nil, nil)
			if got := code == http.StatusOK; got != tc.works {
				t.Fatalf("a token from before the restart answered %d", code)
			}
			// Whatever key the second start used is the one the data dir keeps now.
			current := b.token("demo-client")
			b.stop()
			c := start(t, dir, mockserver.Config{})
			if code := c.call(http.MethodGet, "/connect_ats/jobs", current, nil, nil); code != http.StatusOK {
				t.Fatalf("a token of the key in force, after another restart without a key: %d", code)
			}
		})
	}
}

func TestRunningClockKeepsItsOffset(t *testing.T) {
	dir := t.TempDir()
	ahead := 48 * time.Hour
	a := start(t, dir, mockserver.Config{Clock: mockserver.Clock{Start: time.Now().Add(ahead)}})
	a.call(http.MethodPost, "/_mock/clock/advance", "", map[string]string{"by": "1h"}, nil)
	a.stop()
	b := start(t, dir, mockserver.Config{})
	c := b.clock()
	if d := c.Now.Sub(time.Now().Add(ahead + time.Hour)); c.Frozen || d < -time.Minute || d > time.Minute {
		t.Fatalf("clock after the restart = %+v, want running %v ahead", c, ahead+time.Hour)
	}
}

func TestResetEmptiesTheDataDir(t *testing.T) {
	dir := t.TempDir()
	a := start(t, dir, mockserver.Config{})
	tok := a.token("demo-client")
	first := a.invite(tok, "http://127.0.0.1:9/cb", "email")
	if code := a.call(http.MethodPost, "/_mock/reset", "", nil, nil); code != http.StatusNoContent {
		t.Fatalf("reset: %d", code)
	}
	second := a.invite(tok, "http://127.0.0.1:9/cb", "email")
	a.stop()
	b := start(t, dir, mockserver.Config{})
	if got := b.statuses(); len(got) != 1 || got[second] != "invited" {
		t.Fatalf("after a reset and a restart: %v, want only %s", got, second)
	}
	if third := b.invite(b.token("demo-client"), "http://127.0.0.1:9/cb", "email"); slices.Contains([]string{first, second}, third) {
		t.Fatalf("reference id %s issued again", third)
	}
}

func TestOneServerPerDataDir(t *testing.T) {
	dir := t.TempDir()
	start(t, dir, mockserver.Config{})
	s, err := mockserver.New(mockserver.Config{DataDir: dir})
	if err == nil {
		_ = s.Close(context.Background())
		t.Fatal("a second mock opened a data dir in use")
	}
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Fatalf("error = %v", err)
	}
}

// BenchmarkCreate measures creations (POST /connect_ats/applications through the whole handler:
// validated, authenticated, stored, journaled) from 50 concurrent callers, in memory and with a
// data dir, where each creation is on disk before it is answered.
func BenchmarkCreate(b *testing.B) {
	body := `{"job_id":"` + engineerJob + `","callback_url":"http://127.0.0.1:9/cb","invitation_type":"one_time_link",` +
		`"applicant_details":{"first_name":"Bench","last_name":"Mark","email":"bench@example.com"}}`
	for _, name := range []string{"memory", "data dir"} {
		b.Run(name, func(b *testing.B) {
			cfg := mockserver.Config{Seed: 1, SigningKey: []byte("k"), JournalSize: 1}
			if name == "data dir" {
				cfg.DataDir = b.TempDir()
			}
			mock, err := mockserver.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer mock.Close(context.Background())
			req := httptest.NewRequest(http.MethodPost, "/connect_ats/access_token", nil)
			req.SetBasicAuth("demo-client", "demo-secret")
			rec := httptest.NewRecorder()
			mock.ServeHTTP(rec, req)
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(25) // 50 callers on 2 cores, like scripts/load's 50 connections
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest(http.MethodPost, "/connect_ats/applications", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
					rec := httptest.NewRecorder()
					mock.ServeHTTP(rec, req)
					if rec.Code != http.StatusCreated {
						b.Errorf("create: %d %s", rec.Code, rec.Body)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "creations/s")

		})
	}
}

// BenchmarkStartupDataDir measures building the mock on a data dir holding 10,000 applications
// invited by email, 2,000 of them completed with their callbacks pending (the receiver refuses
// connections; the clock is frozen, so none is due): opening and checking the file, reading it
// back, scheduling the retries. Compare BenchmarkStartup, without a data dir.
func BenchmarkStartupDataDir(b *testing.B) {
	dir := b.TempDir()
	mock, err := mockserver.New(mockserver.Config{DataDir: dir, SigningKey: []byte("k"), JournalSize: 1,
		Clock: mockserver.Clock{Start: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Frozen: true}})
	if err != nil {
		b.Fatal(err)
	}
	do := func(method, path, auth, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		rec := httptest.NewRecorder()
		mock.ServeHTTP(rec, req)
		return rec
	}
	req := httptest.NewRequest(http.MethodPost, "/connect_ats/access_token", nil)
	req.SetBasicAuth("demo-client", "demo-secret")
	rec := httptest.NewRecorder()
	mock.ServeHTTP(rec, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil {
		b.Fatal(err)
	}
	const apps, completions = 10_000, 2_000
	refs := make([]string, apps)
	var wg sync.WaitGroup
	for w := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < apps; i += 50 {
				rec := do(http.MethodPost, "/connect_ats/applications", tok.AccessToken, fmt.Sprintf(
					`{"job_id":%q,"callback_url":"http://127.0.0.1:9/cb","applicant_details":{"first_name":"A","last_name":"%d","email":"a%d@example.com"}}`,
					engineerJob, i, i))
				var app struct {
					ReferenceID string `json:"reference_id"`
				}
				if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &app) != nil {
					b.Errorf("create: %d %s", rec.Code, rec.Body)
					return
				}
				refs[i] = app.ReferenceID
				if i < completions {
					if rec := do(http.MethodPost, "/_mock/applications/"+app.ReferenceID+"/complete", "", ""); rec.Code != http.StatusOK {
						b.Errorf("complete: %d %s", rec.Code, rec.Body)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	do(http.MethodGet, "/_mock/settle", "", "")
	if err := mock.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
	if b.Failed() {
		return
	}
	for b.Loop() {
		s, err := mockserver.New(mockserver.Config{DataDir: dir, JournalSize: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	if fi, err := os.Stat(filepath.Join(dir, "equalture-mock.db")); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "MiB-file")
	}
}
