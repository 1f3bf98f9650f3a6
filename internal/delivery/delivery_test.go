package delivery_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/equalture/equalture-mock/internal/assets"
	"github.com/equalture/equalture-mock/internal/clock"
	"github.com/equalture/equalture-mock/internal/delivery"
	"github.com/equalture/equalture-mock/internal/domain"
	"github.com/equalture/equalture-mock/internal/fixtures"
	"github.com/equalture/equalture-mock/internal/persist"
	"github.com/equalture/equalture-mock/internal/results"
	"github.com/equalture/equalture-mock/internal/spec"
	"github.com/equalture/equalture-mock/internal/store"
	"github.com/equalture/equalture-mock/internal/testenv"
)

var t0 = testenv.T0

// lc is the lifecycle the embedded contracts state.
var lc = func() *domain.Lifecycle {
	l, err := spec.EmbeddedLifecycle()
	if err != nil {
		panic(err)
	}
	return l
}()

const (
	jobID         = testenv.EngineerJob
	callbackToken = "cb-token-123"
	webhookSecret = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHM="
)

// world is a store, a frozen clock and a sender wired as the service wires them (the sender is
// the store's publisher), with the demo client given a callback token and a webhook secret; with
// a data dir, both write to it.
type world struct {
	t     testing.TB
	cfg   delivery.Config
	dir   string // "" in memory
	clock *clock.Virtual
	fx    *fixtures.Set
	gen   *results.Generator
	db    *persist.DB
	store *store.Store
	d     *delivery.Sender
}

func newWorld(t testing.TB, cfg delivery.Config, opts ...func(*world)) *world {
	t.Helper()
	embedded := assets.Fixtures()
	clients, _ := fs.ReadFile(embedded, "clients.yaml")
	traits, _ := fs.ReadFile(embedded, "traits.yaml")
	c := strings.Replace(string(clients), "    name: Demo ATS\n",
		"    name: Demo ATS\n    callback_token: "+callbackToken+"\n    webhook_secret: "+webhookSecret+"\n", 1)
	fx, err := fixtures.Load(fstest.MapFS{"clients.yaml": {Data: []byte(c)}, "traits.yaml": {Data: traits}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Schedule == nil {
		cfg.Schedule = []time.Duration{0, 5 * time.Second, 5 * time.Minute}
	}
	w := &world{t: t, cfg: cfg, clock: clock.NewFrozen(t0), fx: fx, gen: results.NewGenerator(fx, 1)}
	for _, o := range opts {
		o(w)
	}
	w.open()
	t.Cleanup(w.close)
	return w
}

// onDisk keeps the world's deliveries and applications in a data file in dir.
func onDisk(dir string) func(*world) { return func(w *world) { w.dir = dir } }

// open builds the store and the sender (on the data dir, holding what it holds).
func (w *world) open() {
	w.t.Helper()
	var err error
	if w.dir != "" {
		if w.db, err = persist.Open(w.dir); err != nil {
			w.t.Fatal(err)
		}
	}
	w.d, err = delivery.New(w.cfg, delivery.Deps{
		Clock: w.clock, Fixtures: w.fx, DB: w.db,
		Lookup: func(ref string) (domain.Application, error) { return w.store.Lookup(ref) },
		Results: func(a domain.Application) any {
			job, _ := w.fx.Job(a.ClientID, a.JobID)
			return w.gen.Render(job, a.Scores, "en", "https://dashboard.example/applications/"+a.ReferenceID)
		},
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if w.store, err = store.Open(store.Deps{Clock: w.clock, Lifecycle: lc, DB: w.db, Publisher: w.d, Seed: 1}); err != nil {
		w.t.Fatal(err)
	}
}

// close stops the sender and closes the data file, as a shutdown does.
func (w *world) close() {
	if w.d == nil {
		return
	}
	_ = w.d.Close(context.Background())
	_ = w.db.Close()
	w.d, w.db = nil, nil
}

// restart closes the world and opens it again on its data dir, resuming what was pending.
func (w *world) restart() {
	w.t.Helper()
	w.close()
	w.open()
	w.d.Resume()
}

// settle waits until every attempt due at the clock's time has been made: after it, nothing
// happens until the clock moves.
func (w *world) settle() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.d.Settled(ctx); err != nil {
		w.t.Fatalf("deliveries never settled: %v", err)
	}
}

// complete creates and completes an application whose callback goes to url.
func (w *world) complete(url string) string {
	w.t.Helper()
	ref := w.create(url, jobID)
	w.update(ref, func(a *domain.Application, now time.Time) ([]domain.Event, error) {
		job, _ := w.fx.Job(a.ClientID, a.JobID)
		return lc.Complete(a, now, w.gen.Draw(a.ReferenceID, job))
	})
	return ref
}

// create invites an applicant of the demo client to job, the callback going to url.
func (w *world) create(url, job string) string {
	w.t.Helper()
	return w.createFor("demo-client", url, job)
}

func (w *world) createFor(client, url, job string) string {
	w.t.Helper()
	a, err := w.store.Create(domain.Application{ClientID: client, JobID: job, CallbackURL: url}, 7*24*time.Hour)
	if err != nil {
		w.t.Fatal(err)
	}
	return a.ReferenceID
}

// update runs a transition of ref, failing the test when it is refused.
func (w *world) update(ref string, fn func(*domain.Application, time.Time) ([]domain.Event, error)) domain.Application {
	w.t.Helper()
	a, err := w.store.Update("", ref, fn)
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

func (w *world) start(ref string) { w.update(ref, lc.Start) }

// until waits (real time, bounded) for the delivery of ref to satisfy ok.
func (w *world) until(ref string, ok func(delivery.Delivery) bool) delivery.Delivery {
	w.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		changed := w.d.Changed().Changed()
		if ds := w.d.List(delivery.Filter{ReferenceID: ref}); len(ds) == 1 && ok(ds[0]) {
			return ds[0]
		}
		select {
		case <-changed:
		case <-time.After(time.Until(deadline)):
			w.t.Fatalf("delivery of %s never reached the expected state: %+v", ref, w.d.List(delivery.Filter{ReferenceID: ref}))
		}
	}
}

func status(s delivery.Status) func(delivery.Delivery) bool {
	return func(d delivery.Delivery) bool { return d.Status == s }
}

func attempts(n int, s delivery.Status) func(delivery.Delivery) bool {
	return func(d delivery.Delivery) bool { return len(d.Attempts) == n && d.Status == s }
}

// receiver is a callback endpoint answering a script of statuses (the last one repeats).
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	script  []int
	delay   time.Duration
	got     []*http.Request
	bodies  [][]byte
	counter atomic.Int64
}

func newReceiver(t *testing.T, script ...int) *receiver {
	r := &receiver{script: script}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.got)
		r.got = append(r.got, req)
		r.bodies = append(r.bodies, body)
		code := r.script[min(n, len(r.script)-1)]
		delay := r.delay
		r.mu.Unlock()
		r.counter.Add(1)
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) request(i int) (*http.Request, []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got[i], r.bodies[i]
}

func TestDeliversTheContractsPayloadWithAuthAndSignature(t *testing.T) {
	w := newWorld(t, delivery.Config{})
	rcv := newReceiver(t, 200)
	ref := w.complete(rcv.URL + "/applications/42")
	dl := w.until(ref, attempts(1, delivery.Delivered))

	req, body := rcv.request(0)
	if req.Method != http.MethodPut || req.URL.Path != "/applications/42" || req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("got %s %s (%s)", req.Method, req.URL.Path, req.Header.Get("Content-Type"))
	}
	if got := req.Header.Get("Authorization"); got != "Bearer "+callbackToken {
		t.Fatalf("Authorization = %q", got)
	}
	if req.Header.Get(delivery.HeaderID) != dl.ID || req.Header.Get(delivery.HeaderAttempt) != "1" {
		t.Fatalf("delivery headers = %q / %q", req.Header.Get(delivery.HeaderID), req.Header.Get(delivery.HeaderAttempt))
	}
	if err := verify(webhookSecret, req.Header, body, t0, 5*time.Minute); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if err := verify(webhookSecret, req.Header, append([]byte(" "), body...), t0, 5*time.Minute); err == nil {
		t.Fatal("a changed body passed signature verification")
	}

	sp, err := spec.Load(context.Background(), assets.VendorSpec())
	if err != nil {
		t.Fatal(err)
	}
	schema, err := sp.CallbackSchema("createApplication", "applicationResults")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if err := sp.ValidateValue(schema, v); err != nil {
		t.Fatalf("callback payload breaks the contract: %v\n%s", err, body)
	}
	if dl.Attempts[0].StatusCode != 200 || !dl.Attempts[0].At.Equal(t0) {
		t.Fatalf("attempt log = %+v", dl.Attempts[0])
	}
}

func TestNoAuthHeadersWithoutConfiguration(t *testing.T) {
	w := newWorld(t, delivery.Config{})
	rcv := newReceiver(t, 200)
	// other-client has neither a token nor a secret.
	ref := w.createFor("other-client", rcv.URL, "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c04")
	w.update(ref, func(a *domain.Application, now time.Time) ([]domain.Event, error) {
		return lc.Complete(a, now, domain.NewScores(map[string]int{"planning": 3}))
	})
	w.until(ref, status(delivery.Delivered))
	req, _ := rcv.request(0)
	if req.Header.Get("Authorization") != "" || req.Header.Get("webhook-signature") != "" {
		t.Fatalf("unconfigured client sent auth: %v", req.Header)
	}
}

func TestRetriesOnTheClockUntilSuccess(t *testing.T) {
	w := newWorld(t, delivery.Config{Jitter: 0})
	rcv := newReceiver(t, 500, 500, 200)
	ref := w.complete(rcv.URL)

	dl := w.until(ref, attempts(1, delivery.Pending))
	if want := t0.Add(5 * time.Second); dl.NextAttemptAt == nil || !dl.NextAttemptAt.Equal(want) {
		t.Fatalf("next attempt at %v, want %v", dl.NextAttemptAt, want)
	}
	w.clock.Advance(4 * time.Second)
	w.settle() // a wrongly early retry would have been made by now
	if n := rcv.counter.Load(); n != 1 {
		t.Fatalf("%d attempts before the retry was due", n)
	}
	w.clock.Advance(time.Second)
	dl = w.until(ref, attempts(2, delivery.Pending))
	if want := t0.Add(5*time.Second + 5*time.Minute); !dl.NextAttemptAt.Equal(want) {
		t.Fatalf("third attempt at %v, want %v", dl.NextAttemptAt, want)
	}
	w.clock.Advance(5 * time.Minute)
	dl = w.until(ref, attempts(3, delivery.Delivered))
	codes := []int{dl.Attempts[0].StatusCode, dl.Attempts[1].StatusCode, dl.Attempts[2].StatusCode}
	if fmt.Sprint(codes) != "[500 500 200]" || rcv.counter.Load() != 3 {
		t.Fatalf("attempts %v, receiver saw %d", codes, rcv.counter.Load())
	}
	if req, _ := rcv.request(2); req.Header.Get(delivery.HeaderAttempt) != "3" {
		t.Fatalf("third attempt header = %q", req.Header.Get(delivery.HeaderAttempt))
	}
}

func TestFailsAfterMaxAttemptsAndRedelivers(t *testing.T) {
	w := newWorld(t, delivery.Config{Schedule: []time.Duration{0, time.Minute}, MaxAttempts: 3, Jitter: 0})
	rcv := newReceiver(t, 503, 503, 503, 200)
	ref := w.complete(rcv.URL)
	for i := 1; i < 3; i++ {
		w.until(ref, attempts(i, delivery.Pending))
		w.clock.Advance(time.Minute) // later attempts reuse the last delay
	}
	dl := w.until(ref, attempts(3, delivery.Failed))
	if !strings.Contains(dl.Reason, "3 attempts") || dl.NextAttemptAt != nil {
		t.Fatalf("failed delivery = %+v", dl)
	}
	for _, a := range dl.Attempts {
		if a.StatusCode != 503 || a.LatencyMS < 0 {
			t.Fatalf("attempt = %+v", a)
		}
	}
	if _, err := w.d.Redeliver("nope"); err == nil {
		t.Fatal("redelivered an unknown delivery")
	}
	if _, err := w.d.Redeliver(dl.ID); err != nil {
		t.Fatal(err)
	}
	dl = w.until(ref, attempts(4, delivery.Delivered))
	if req, _ := rcv.request(3); req.Header.Get(delivery.HeaderAttempt) != "4" || req.Header.Get(delivery.HeaderID) != dl.ID {
		t.Fatalf("redelivery headers: %v", req.Header)
	}
}

func TestGoneStopsRetrying(t *testing.T) {
	w := newWorld(t, delivery.Config{})
	rcv := newReceiver(t, 410, 200)
	ref := w.complete(rcv.URL)
	dl := w.until(ref, attempts(1, delivery.Failed))
	if got, want := dl.Reason, delivery.ReasonGone; got != want {
		t.Fatalf("reason = %q, want %q", got, want)
	}
	w.clock.Advance(time.Hour)
	w.settle()
	if n := rcv.counter.Load(); n != 1 {
		t.Fatalf("receiver called %d times after 410", n)
	}
}

func TestTimeoutAndConnectionErrorsAreFailedAttempts(t *testing.T) {
	w := newWorld(t, delivery.Config{Timeout: 100 * time.Millisecond, MaxAttempts: 1})
	slow := newReceiver(t, 200)
	slow.delay = 2 * time.Second
	ref := w.complete(slow.URL)
	dl := w.until(ref, attempts(1, delivery.Failed))
	if !strings.Contains(dl.Attempts[0].Error, "timeout") || dl.Attempts[0].LatencyMS < 100 {
		t.Fatalf("slow receiver attempt = %+v", dl.Attempts[0])
	}

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String() + "/cb"
	ln.Close()
	ref = w.complete(dead)
	dl = w.until(ref, attempts(1, delivery.Failed))
	if !strings.Contains(dl.Attempts[0].Error, "refused") {
		t.Fatalf("dead receiver attempt = %+v", dl.Attempts[0])
	}
}

func TestSuccessSet(t *testing.T) {
	tests := map[string]struct {
		success string
		want    delivery.Status
	}{
		"204 is not 200":    {"200", delivery.Pending},
		"204 counts as 2xx": {"2xx", delivery.Delivered},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, delivery.Config{Success: tc.success})
			ref := w.complete(newReceiver(t, 204).URL)
			w.until(ref, attempts(1, tc.want))
		})
	}
	if _, err := delivery.New(delivery.Config{Success: "3xx"}, delivery.Deps{}); err == nil {
		t.Fatal("success 3xx accepted")
	}
}

func TestJitterStaysWithinBounds(t *testing.T) {
	w := newWorld(t, delivery.Config{Jitter: 0.1, Schedule: []time.Duration{0, 100 * time.Second}, Seed: 9})
	rcv := newReceiver(t, 500)
	for i := 0; i < 5; i++ {
		ref := w.complete(rcv.URL)
		dl := w.until(ref, attempts(1, delivery.Pending))
		if d := dl.NextAttemptAt.Sub(t0); d < 90*time.Second || d > 110*time.Second {
			t.Fatalf("a 100s delay with 10%% jitter became %v", d)
		}
	}
}

func TestTimeScale(t *testing.T) {
	w := newWorld(t, delivery.Config{TimeScale: 0.001, Jitter: 0, Schedule: []time.Duration{0, 5 * time.Minute}})
	ref := w.complete(newReceiver(t, 500, 200).URL)
	dl := w.until(ref, attempts(1, delivery.Pending))
	if d := dl.NextAttemptAt.Sub(t0); d != 300*time.Millisecond {
		t.Fatalf("5m at scale 0.001 = %v", d)
	}
}

func TestThousandCompletionsNoneLostNoLeak(t *testing.T) {
	var got sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get(delivery.HeaderID), true)
		rw.WriteHeader(200)
	}))
	defer srv.Close()
	// Counted with the receiver up: Close must also let go of the connections its workers kept.
	before := runtime.NumGoroutine()
	w := newWorld(t, delivery.Config{Workers: 8})
	const n = 1000
	refs := make([]string, n)
	for i := range refs {
		refs[i] = w.create(srv.URL, jobID)
	}
	var wg sync.WaitGroup
	for _, ref := range refs {
		wg.Go(func() {
			_, _ = w.store.Update("", ref, func(a *domain.Application, now time.Time) ([]domain.Event, error) {
				return lc.Complete(a, now, domain.NewScores(map[string]int{"working_memory": 3}))
			})
		})
	}
	wg.Wait()
	w.settle() // every attempt is due at once: settled, each has been made
	if got := len(w.d.List(delivery.Filter{Status: delivery.Delivered})); got != n {
		t.Fatalf("%d of %d delivered", got, n)
	}
	count := 0
	got.Range(func(any, any) bool { count++; return true })
	if count != n || len(w.d.List(delivery.Filter{})) != n {
		t.Fatalf("receiver saw %d distinct deliveries, log holds %d, want %d", count, len(w.d.List(delivery.Filter{})), n)
	}
	if err := w.d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Closed connections take a moment to wind down their goroutines: wait (bounded) for them.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got, want := runtime.NumGoroutine(), before; got > want {
		t.Fatalf("goroutines after Close = %d, want at most %d (as before)", got, want)
	}
}

func TestJitterIsReproducible(t *testing.T) {
	// Two runs with one seed retry the same application at the same time, however their
	// deliveries interleave; other applications spread around the nominal delay.
	next := func(seed uint64, refs int) []time.Time {
		w := newWorld(t, delivery.Config{Jitter: 0.1, Schedule: []time.Duration{0, 100 * time.Second}, Seed: seed})
		rcv := newReceiver(t, 500)
		var out []time.Time
		for range refs {
			ref := w.complete(rcv.URL)
			out = append(out, *w.until(ref, attempts(1, delivery.Pending)).NextAttemptAt)
		}
		return out
	}
	a, b := next(7, 4), next(7, 4)
	for i := range a {
		if !a[i].Equal(b[i]) {
			t.Fatalf("application %d: next attempt at %v, then %v with the same seed", i, a[i], b[i])
		}
	}
	if a[0].Equal(a[1]) && a[1].Equal(a[2]) && a[2].Equal(a[3]) {
		t.Fatalf("four applications got the same jittered delay %v", a[0].Sub(t0))
	}
}

func TestCloseWaitsForAttemptsInFlight(t *testing.T) {
	w := newWorld(t, delivery.Config{})
	rcv := newReceiver(t, 200)
	rcv.delay = 300 * time.Millisecond
	ref := w.complete(rcv.URL)
	w.until(ref, status(delivery.Delivering))
	start := time.Now()
	if err := w.d.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if dl := w.d.List(delivery.Filter{})[0]; dl.Status != delivery.Delivered || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("Close returned after %v with %+v", time.Since(start), dl)
	}

	w2 := newWorld(t, delivery.Config{MaxAttempts: 1})
	hung := newReceiver(t, 200)
	hung.delay = 5 * time.Second
	ref = w2.complete(hung.URL)
	w2.until(ref, status(delivery.Delivering))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := w2.d.Close(ctx); err == nil {
		t.Fatal("Close with a short deadline did not report the attempt still in flight")
	}
	if dl := w2.d.List(delivery.Filter{})[0]; dl.Status != delivery.Failed || len(dl.Attempts) != 1 {
		t.Fatalf("cut attempt was not logged: %+v", dl)
	}
}

func TestReset(t *testing.T) {
	w := newWorld(t, delivery.Config{})
	rcv := newReceiver(t, 500)
	ref := w.complete(rcv.URL)
	w.until(ref, attempts(1, delivery.Pending))
	w.d.Reset()
	if n := len(w.d.List(delivery.Filter{})); n != 0 {
		t.Fatalf("%d deliveries after reset", n)
	}
	w.clock.Advance(time.Hour)
	w.settle()
	if n := rcv.counter.Load(); n != 1 {
		t.Fatalf("a reset delivery was retried (%d calls)", n)
	}
}

func TestSignKnownVector(t *testing.T) {
	// Standard Webhooks' reference example.
	sig, err := delivery.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; sig != want {
		t.Fatalf("Sign = %s, want %s", sig, want)
	}
	h := http.Header{"Webhook-Id": {"msg_p5jXN8AQM9LWM0D4loKWxJek"}, "Webhook-Timestamp": {"1614265330"}, "Webhook-Signature": {"v1,bogus " + sig}}
	if err := verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, []byte(`{"test": 2432232314}`), time.Unix(1614265330, 0), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", h, []byte(`{"test": 2432232314}`), time.Unix(1614265330, 0).Add(time.Hour), time.Minute); err == nil {
		t.Fatal("a stale timestamp passed")
	}
}

// BenchmarkDeliveries measures completions turned into delivered callbacks to a local receiver.
func BenchmarkDeliveries(b *testing.B) {
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(200)
	}))
	defer srv.Close()
	w := newWorld(b, delivery.Config{Workers: 8})
	refs := make([]string, b.N)
	for i := range refs {
		refs[i] = w.create(srv.URL, jobID)
	}
	b.ResetTimer()
	start := time.Now()
	for _, ref := range refs {
		_, _ = w.store.Update("", ref, func(a *domain.Application, now time.Time) ([]domain.Event, error) { return lc.Complete(a, now, nil) })
	}
	deadline := time.Now().Add(60 * time.Second)
	for received.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d delivered", received.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

// verify checks a received delivery's Standard Webhooks headers against secret, as a receiver
// would: the signature (any of the space-separated "v1,..." values) and a timestamp within
// tolerance of now.
func verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return errors.New("missing webhook-id, webhook-timestamp or webhook-signature")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("bad webhook-timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook-timestamp is %s away from now", d.Round(time.Second))
	}
	want, err := delivery.Sign(secret, id, ts, body)
	if err != nil {
		return err
	}
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("no webhook-signature matches")
}

// With a zero-delay schedule a failed attempt is due again at once, so an idle worker takes the
// delivery while the first is still recording its attempt; redeliveries do the same. Under -race
// this catches any read of a delivery outside the dispatcher's lock (it caught finish reading the
// outcome after unlocking: many idle workers, few deliveries, many attempts make it near certain).
func TestZeroDelayRetriesAndRedeliveriesDoNotRace(t *testing.T) {
	const tries = 150
	w := newWorld(t, delivery.Config{Schedule: []time.Duration{0}, MaxAttempts: tries, Workers: 32})
	rcv := newReceiver(t, 500)
	refs := make([]string, 1)
	for i := range refs {
		refs[i] = w.complete(rcv.URL)
	}
	w.settle()
	var wg sync.WaitGroup
	for _, ref := range refs {
		dl := w.until(ref, attempts(tries, delivery.Failed))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.d.Redeliver(dl.ID); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	w.settle()
	for _, ref := range refs {
		w.until(ref, attempts(2*tries, delivery.Failed))
	}
	if got, want := rcv.counter.Load(), int64(2*tries*len(refs)); got != want {
		t.Fatalf("receiver got %d attempts, want %d", got, want)
	}
}
