package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/app"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/service"
	"github.com/equalture/equalture-mock/internal/testenv"
)

// start runs the whole mock in the http.Server the binary runs it in, on a loopback port.
func start(t *testing.T, opts app.Options) (*app.App, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	opts.Service.PublicURL = base
	opts.Clock = clock.NewFrozen(testenv.T0)
	opts.SigningKey = []byte("hostile")
	a, err := app.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Config = app.HTTPServer(a.Handler, nil)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		_ = a.Close(context.Background())
	})
	return a, base
}

// heapBytes is the live heap after a full collection.
func heapBytes() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

const mib = 1 << 20

// A thousand 1 MiB requests (over the body limit, and malformed at the limit), then the whole
// journal read: the heap stays within the journal's byte bound plus the mock's own needs, because
// the journal keeps at most 64 KiB of each body and its byte bound, and reads it in pages.
func TestMemoryBoundedUnderHugeBodies(t *testing.T) {
	if raceDetector {
		t.Skip("a gigabyte of bodies under the race detector takes minutes and its heap is not the mock's: make test runs this without -race")
	}
	const journalBytes = 16 * mib
	a, base := start(t, app.Options{JournalMaxBytes: journalBytes})
	before := heapBytes()
	over := bytes.Repeat([]byte("x"), mib+100) // 413
	junk := bytes.Repeat([]byte("{"), mib)     // at the limit: read whole, then 400 from the control API
	client := &http.Client{Timeout: 30 * time.Second}
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < 1000; i += 4 {
				path, body, want := "/connect_ats/applications", over, http.StatusRequestEntityTooLarge
				if i%2 == 1 {
					path, body, want = "/_mock/faults", junk, http.StatusBadRequest
				}
				req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					errs <- fmt.Errorf("request %d answered %d, want %d", i, resp.StatusCode, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if b := a.Journal.Bytes(); b > journalBytes {
		t.Fatalf("the journal holds %d bytes, over its %d bound", b, journalBytes)
	}
	read := 0
	for cursor := ""; ; {
		resp, err := client.Get(base + "/_mock/journal?limit=1000" + cursor)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Requests []struct {
				Truncated bool  `json:"request_body_truncated"`
				Size      int64 `json:"request_body_size"`
			} `json:"requests"`
			Next string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Requests {
			if !e.Truncated || e.Size < mib {
				t.Fatalf("a 1 MiB body is not marked truncated with its size: %+v", e)
			}
		}
		read += len(page.Requests)
		if page.Next == "" {
			break
		}
		cursor = "&cursor=" + page.Next
	}
	if read == 0 || read >= 1000 {
		t.Fatalf("read %d entries: the byte bound should keep some, not all, of 1,000", read)
	}
	// The bound: the journal's bytes and a generous allowance for everything else the process
	// holds after the load (buffers, the contracts, the test's own); without the bounds, a
	// thousand 1 MiB bodies alone would be a gigabyte.
	if after, limit := heapBytes(), before+journalBytes+32*mib; after > limit {
		t.Fatalf("heap grew from %d MiB to %d MiB, over the %d MiB bound", before/mib, after/mib, limit/mib)
	}
}

// hostile is one generated bad request.
type hostile struct {
	method, path, contentType, auth string
	body                            []byte
}

var (
	hostilePaths = []string{
		"/connect_ats/access_token", "/connect_ats/jobs", "/connect_ats/applications",
		"/connect_ats/applications/%s/hire_applicant", "/connect_ats/applications/%s/anonymize_application",
		"/connect_ats/applications/%s/public_link?locale=%s", "/connect_ats/applications/%s/results?locale=%s",
		"/connect_ats/applications/%s/status", "/connect_ats/nope", "/connect_ats/", "/connect_ats/applications//status",
		"/_mock/clock/advance", "/_mock/clock/set", "/_mock/faults", "/_mock/faults/%s", "/_mock/applications/%s/complete",
		"/_mock/tokens/expire", "/_mock/journal?status=%s&limit=%s&cursor=%s", "/_mock/callbacks/%s/redeliver",
		"/_mock/outbox?wait=%s", "/_mock/settle?wait=%s", "/_mock/nope",
	}
	hostileValues = []string{
		"", "x", "..", "%2e%2e", "00000000-0000-4000-8000-000000000000", "1234-1234-4567-1111",
		strings.Repeat("a", 4096), "-1", "99999999999999999999", "1e309", "%00", "null", "true", "%3Cscript%3E", "%C3%28",
	}
	hostileBodies = []string{
		"", "{", "}", "[]", "null", `"string"`, "1", `{"job_id":` + strings.Repeat("[", 20000), `{"a":1,}`,
		`{"job_id":null,"applicant_details":[]}`, `{"job_id":"` + testenv.EngineerJob + `","callback_url":"http://[::1","applicant_details":{"first_name":"\u0000","last_name":"x","email":"a@b.c"}}`,
		`{"add_to_team":{"a":1},"start_date":17}`, `{"by":"forever"}`, `{"now":"yesterday"}`, `{"status":99,"break":"fire"}`,
		`{"scores":{"working_memory":"high"},"fit":7}`, "\xff\xfe{\x00", "\xef\xbb\xbf{}", `{"` + strings.Repeat("k", 70000) + `":1}`,
		`{"job_id":"` + strings.Repeat("é", 300000) + `"}`,
	}
	hostileTypes = []string{"", "application/json", "application/json; charset=utf-16", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "application/json;;;", "*/*"}
	hostileAuth  = []string{"", "Bearer", "Bearer garbage", "Bearer SFMyNTY.e30.x", "Basic !!!", "Basic " + strings.Repeat("A", 60000), "Digest x", "Bearer " + strings.Repeat("x", 30000)}
	// Mostly the methods the API has, so most requests reach validation rather than a 405.
	methods = []string{http.MethodGet, http.MethodGet, http.MethodPost, http.MethodPost, http.MethodPost, http.MethodDelete, http.MethodPut, http.MethodPatch, http.MethodOptions, http.MethodHead}
)

func generate(r *rand.Rand) hostile {
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	path := pick(hostilePaths)
	var args []any
	for range strings.Count(path, "%s") {
		args = append(args, pick(hostileValues))
	}
	if len(args) > 0 {
		path = fmt.Sprintf(path, args...)
	}
	h := hostile{method: pick(methods), path: path, contentType: pick(hostileTypes), auth: pick(hostileAuth), body: []byte(pick(hostileBodies))}
	if r.IntN(50) == 0 {
		h.body = bytes.Repeat([]byte("z"), mib+1+r.IntN(mib)) // over the limit
	}
	return h
}

// Thousands of generated bad requests against both APIs — bad paths, parameters, bodies,
// encodings, content types, credentials, oversized bodies and headers — with slow senders on the
// side: no 5xx, no panic, every error a JSON error body, memory bounded, and a normal flow still
// works afterwards.
func TestHostileInput(t *testing.T) {
	a, base := start(t, app.Options{JournalMaxBytes: 8 * mib})
	before := heapBytes()
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}

	ctx, stopSlow := context.WithCancel(context.Background())
	var slow sync.WaitGroup
	for range 3 {
		slow.Add(1)
		go func() { // a sender trickling a body until the test ends
			defer slow.Done()
			pr, pw := io.Pipe()
			go func() {
				defer pw.Close()
				for ctx.Err() == nil {
					if _, err := pw.Write([]byte(`{"a":`)); err != nil {
						return
					}
					time.Sleep(20 * time.Millisecond)
				}
			}()
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/connect_ats/applications", pr)
			req.Header.Set("Content-Type", "application/json")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}

	const total = 4000
	reqs := make(chan hostile, total)
	r := rand.New(rand.NewPCG(42, 7))
	for range total {
		reqs <- generate(r)
	}
	close(reqs)
	var (
		mu       sync.Mutex
		failures []string
		statuses = map[int]int{}
	)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for h := range reqs {
				status, problem := send(client, base, h)
				mu.Lock()
				statuses[status]++
				if problem != "" && len(failures) < 20 {
					failures = append(failures, problem)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	stopSlow()
	slow.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("statuses of %d hostile requests: %v", total, statuses)

	if after, limit := heapBytes(), before+8*mib+32*mib; after > limit {
		t.Errorf("heap grew from %d MiB to %d MiB, over the %d MiB bound", before/mib, after/mib, limit/mib)
	}

	// The mock still serves a whole flow.
	tok, err := a.Auth.Issue(testenv.DemoID)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/connect_ats/applications", strings.NewReader(testenv.CreateBody(testenv.EngineerJob, "")))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct {
		ReferenceID string `json:"reference_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating after the storm: %d", resp.StatusCode)
	}
	if _, err := a.Service.Complete(created.ReferenceID, service.Completion{}); err != nil {
		t.Fatal(err)
	}
	req, _ = http.NewRequest(http.MethodGet, base+"/connect_ats/applications/"+created.ReferenceID+"/results", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if resp, err = client.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("results after the storm: %v %v", resp, err)
	}
	resp.Body.Close()
}

// send sends one hostile request and says what is wrong with the answer, if anything. The path
// goes on the wire as written. Every request is valid HTTP: what is not (a bad percent-escape in
// the path, a broken request line) is refused by Go's HTTP server with its own plain-text 400
// before the mock sees it, as the README says.
func send(client *http.Client, base string, h hostile) (int, string) {
	req, err := http.NewRequest(h.method, base, bytes.NewReader(h.body))
	if err != nil {
		return 0, err.Error()
	}
	req.URL.Opaque, req.URL.RawQuery, _ = strings.Cut(h.path, "?")
	if h.contentType != "" {
		req.Header.Set("Content-Type", h.contentType)
	}
	if h.auth != "" {
		req.Header.Set("Authorization", h.auth)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Sprintf("%s %.80s: no answer: %v", h.method, h.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4*mib))
	what := fmt.Sprintf("%s %.80s (%s, %.40q) answered %d %.200s", h.method, h.path, h.contentType, h.body, resp.StatusCode, b)
	switch {
	case resp.StatusCode >= 500:
		return resp.StatusCode, what
	case resp.StatusCode >= 400 && h.method != http.MethodHead:
		var v struct {
			Errors map[string]any `json:"errors"`
		}
		if json.Unmarshal(b, &v) != nil || len(v.Errors) == 0 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			return resp.StatusCode, what + ": not a JSON error"
		}
	}
	return resp.StatusCode, ""
}
