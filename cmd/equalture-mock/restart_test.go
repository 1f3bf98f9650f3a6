package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/equalture/equalture-mock/internal/testenv"
)

// The binary on a data dir, killed with SIGKILL while it works and started again: nothing it
// acknowledged is lost, the callback retries it had pending resume, and what it answered it had
// anonymized is unreadable in every file of the data dir.

const (
	engineerJob = "0b5c1f1e-7d0a-4a43-9a55-3c2f3f6c8a01"
	created     = 500
	completed   = 100
)

// mockProcess is the binary running serve.
type mockProcess struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	stderr *testenv.SyncBuffer
	exited chan struct{}
}

// startMock runs bin serve on a free loopback port with dataDir and waits until it listens.
func startMock(t *testing.T, bin, dataDir string) *mockProcess {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--seed", "1",
		"--log-format", "json", "--log-level", "info")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &mockProcess{t: t, cmd: cmd, stderr: &testenv.SyncBuffer{}, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.kill)
	listening := make(chan string, 1)
	go func() {
		defer close(p.exited)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			fmt.Fprintln(p.stderr, sc.Text())
			var line struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "equalture-mock listening" {
				listening <- line.Addr
			}
		}
		_ = cmd.Wait()
	}()
	select {
	case addr := <-listening:
		p.url = "http://" + addr
	case <-p.exited:
		t.Fatalf("the mock exited before listening:\n%s", p.stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("the mock did not listen within 30s:\n%s", p.stderr)
	}
	return p
}

// kill sends SIGKILL: no shutdown, no flush, no deferred function runs.
func (p *mockProcess) kill() {
	_ = p.cmd.Process.Kill()
	<-p.exited
}

var client = &http.Client{Timeout: 30 * time.Second}

// call makes a request and decodes a JSON answer into out; it returns the status (0 when the
// request got no answer).
func (p *mockProcess) call(method, path, auth string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.url+path, rd)
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
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err // an answer cut short is no answer
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s answered %d %s: %w", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, nil
}

// must is call for requests that have to succeed with want.
func (p *mockProcess) must(want int, method, path, auth string, body, out any) {
	p.t.Helper()
	code, err := p.call(method, path, auth, body, out)
	if err != nil || code != want {
		p.t.Fatalf("%s %s: %d %v, want %d\n%s", method, path, code, err, want, p.stderr)
	}
}

func (p *mockProcess) token() string {
	p.t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	p.must(http.StatusOK, http.MethodPost, "/connect_ats/access_token", "demo-client:demo-secret", nil, &tok)
	return tok.AccessToken
}

// create invites an applicant and returns the reference id the mock acknowledged ("" when it did
// not answer 201).
func (p *mockProcess) create(tok, callback string, i int) (string, error) {
	var app struct {
		ReferenceID string `json:"reference_id"`
	}
	code, err := p.call(http.MethodPost, "/connect_ats/applications", tok, map[string]any{
		"job_id": engineerJob, "callback_url": callback, "invitation_type": "one_time_link",
		"applicant_details": map[string]string{"first_name": "Kill", "last_name": fmt.Sprint(i), "email": fmt.Sprintf("kill+%d@example.com", i)},
	}, &app)
	if err != nil || code != http.StatusCreated {
		return "", fmt.Errorf("create %d: %d %v", i, code, err)
	}
	return app.ReferenceID, nil
}

type application struct {
	ReferenceID string `json:"reference_id"`
	Status      string `json:"status"`
}

type deliveryView struct {
	ID          string `json:"id"`
	ReferenceID string `json:"reference_id"`
	Status      string `json:"status"`
	Attempts    []struct {
		StatusCode int `json:"status_code"`
	} `json:"attempts"`
}

func (p *mockProcess) applications() map[string]string {
	p.t.Helper()
	var out struct {
		Applications []application `json:"applications"`
	}
	p.must(http.StatusOK, http.MethodGet, "/_mock/applications", "", nil, &out)
	m := make(map[string]string, len(out.Applications))
	for _, a := range out.Applications {
		m[a.ReferenceID] = a.Status
	}
	return m
}

func (p *mockProcess) deliveries(query string) []deliveryView {
	p.t.Helper()
	var out struct {
		Deliveries []deliveryView `json:"deliveries"`
	}
	p.must(http.StatusOK, http.MethodGet, "/_mock/callbacks?"+query, "", nil, &out)
	return out.Deliveries
}

func (p *mockProcess) settle() {
	p.t.Helper()
	var out struct {
		Settled bool `json:"settled"`
	}
	p.must(http.StatusOK, http.MethodGet, "/_mock/settle?wait=30s", "", nil, &out)
	if !out.Settled {
		p.t.Fatalf("the mock did not settle within 30s\n%s", p.stderr)
	}
}

// parallel runs fn(i) for i in [0, n) on 8 goroutines and returns the first error.
func parallel(n int, fn func(i int) error) error {
	var (
		next  atomic.Int64
		first atomic.Value
		wg    sync.WaitGroup
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if err := fn(i); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := first.Load().(error); err != nil {
		return err
	}
	return nil
}

func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it")
	}
	bin := testenv.MockBinary(t)
	dataDir := t.TempDir()

	var receiverCode atomic.Int64
	receiverCode.Store(http.StatusInternalServerError)
	var hits sync.Map // delivery id → attempts received
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		n, _ := hits.LoadOrStore(r.Header.Get("X-Equalture-Delivery-Id"), new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		w.WriteHeader(int(receiverCode.Load()))
	}))
	t.Cleanup(receiver.Close)

	first := startMock(t, bin, dataDir)
	// Frozen, so retries come due only when the test moves the clock (the data dir keeps that).
	first.must(http.StatusOK, http.MethodPost, "/_mock/clock/freeze", "", nil, nil)
	tok := first.token()
	refs := make([]string, created)
	err := parallel(created, func(i int) (err error) {
		refs[i], err = first.create(tok, receiver.URL+"/applications/"+fmt.Sprint(i), i)
		return err
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, first.stderr)
	}
	err = parallel(completed, func(i int) error {
		code, err := first.call(http.MethodPost, "/_mock/applications/"+refs[i]+"/complete", "", nil, nil)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("complete %s: %d %v", refs[i], code, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, first.stderr)
	}
	first.settle() // every first attempt made: the receiver answered 500 to each
	if got := len(first.deliveries("status=pending")); got != completed {
		t.Fatalf("%d deliveries pending before the kill, want %d", got, completed)
	}

	// More creations race the kill: whatever was answered 201 must survive it.
	var (
		mu    sync.Mutex
		acked []string
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	enough := make(chan struct{})
	var once sync.Once
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				ref, err := first.create(tok, receiver.URL+"/late", 10_000+w*1_000+i)
				if err != nil {
					return // the kill
				}
				mu.Lock()
				acked = append(acked, ref)
				if len(acked) == 100 {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(30 * time.Second):
		t.Fatalf("100 creations took over 30s\n%s", first.stderr)
	}
	first.kill()
	stop.Store(true)
	wg.Wait()
	receiverCode.Store(http.StatusOK) // the frozen clock keeps the retries from coming due yet

	started := time.Now()
	second := startMock(t, bin, dataDir)
	t.Logf("restarted with %d applications in %v (spawn to listening)", created+len(acked), time.Since(started).Round(time.Millisecond))
	apps := second.applications()
	for i, ref := range refs {
		want := "invited"
		if i < completed {
			want = "completed"
		}
		if got := apps[ref]; got != want {
			t.Fatalf("application %d (%s) after kill -9: %q, want %q", i, ref, got, want)
		}
	}
	for _, ref := range acked {
		if apps[ref] != "invited" {
			t.Fatalf("application %s, acknowledged just before the kill, is %q after it", ref, apps[ref])
		}
	}
	if extra := len(apps) - created - len(acked); extra < 0 || extra > 4 {
		t.Fatalf("%d applications besides the acknowledged ones (at most the 4 in flight may have been saved)", extra)
	}

	second.settle()
	pending := second.deliveries("status=pending")
	if len(pending) != completed {
		t.Fatalf("%d deliveries pending after the restart, want %d", len(pending), completed)
	}
	for _, d := range pending {
		if len(d.Attempts) != 1 || d.Attempts[0].StatusCode != http.StatusInternalServerError {
			t.Fatalf("delivery %s after the restart: %+v", d.ID, d)
		}
	}
	if n := len(second.deliveries("status=delivered")); n != 0 {
		t.Fatalf("%d retries made before the clock brought them due", n)
	}
	// The second attempt is due 5 s (±10%) after the first.
	second.must(http.StatusOK, http.MethodPost, "/_mock/clock/advance", "", map[string]string{"by": "6s"}, nil)
	delivered := second.deliveries(fmt.Sprintf("status=delivered&min=%d&wait=30s", completed))
	if len(delivered) != completed {
		t.Fatalf("%d of %d deliveries delivered after the restart\n%s", len(delivered), completed, second.stderr)
	}
	for _, d := range delivered {
		if len(d.Attempts) != 2 || d.Attempts[1].StatusCode != http.StatusOK {
			t.Fatalf("delivery %s: %+v", d.ID, d)
		}
		if n, _ := hits.Load(d.ID); n == nil || n.(*atomic.Int64).Load() != 2 {
			t.Fatalf("the receiver got delivery %s %v times, want 2 (500, then 200)", d.ID, n)
		}
	}

	// The same seed: ids drawn after the restart are new ones.
	ref, err := second.create(second.token(), receiver.URL+"/after", 99_999)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := apps[ref]; ok {
		t.Fatalf("reference id %s issued again after the restart", ref)
	}

	// Erasure reaches the disk before the answer: applications anonymized just before a SIGKILL
	// leave nothing readable in the data dir — no name, email, scores or fit (every application
	// record is sealed), and not the keys their records were sealed with.
	before := dataKeys(t, dataDir)
	tok = second.token()
	for _, ref := range refs[:10] {
		second.must(http.StatusOK, http.MethodDelete, "/connect_ats/applications/"+ref+"/anonymize_application", tok, nil, nil)
	}
	second.kill()
	after := dataKeys(t, dataDir)
	needles := []string{"kill+", `"scores"`, `"fit"`}
	for k := range before {
		if !after[k] {
			needles = append(needles, k, hex.EncodeToString([]byte(k)), base64.StdEncoding.EncodeToString([]byte(k)))
		}
	}
	if len(needles) < 3+3*10 {
		t.Fatalf("%d keys destroyed by 10 anonymizations", (len(needles)-3)/3)
	}
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dataDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				t.Fatalf("after anonymizations and a SIGKILL, %s holds %q", e.Name(), n)
			}
		}
	}
	third := startMock(t, bin, dataDir)
	apps = third.applications()
	for i, ref := range refs[:completed] {
		if want := map[bool]string{true: "anonymized", false: "completed"}[i < 10]; apps[ref] != want {
			t.Fatalf("application %d after anonymizations and a SIGKILL: %q, want %q", i, apps[ref], want)
		}
	}
}

// dataKeys reads the key file as its layout says (internal/persist/keys.go): a 64-byte header,
// then 64-byte slots holding a key's id (8 bytes, 0 for a free slot) and the key (32).
func dataKeys(t *testing.T, dir string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "equalture-mock.keys"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for off := 64; off+64 <= len(b); off += 64 {
		if binary.BigEndian.Uint64(b[off:]) != 0 {
			keys[string(b[off+8:off+40])] = true
		}
	}
	return keys
}
