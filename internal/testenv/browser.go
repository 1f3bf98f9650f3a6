package testenv

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Browser requests pages the way a browser does, without one: cookies kept, forms posted
// urlencoded, redirects not followed (tests check them). Every HTML page it gets is checked to be
// well formed (CheckHTML) and fails the test when it is not.
type Browser struct {
	t      testing.TB
	base   string
	client *http.Client
}

// Page is an answer to a Browser.
type Page struct {
	Status   int
	Header   http.Header
	Body     string
	Location string // where a redirect goes
}

// NewBrowser returns a Browser for the server at base.
func NewBrowser(t testing.TB, base string) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &Browser{t: t, base: base, client: &http.Client{
		Jar:           jar,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Get gets path.
func (b *Browser) Get(path string) Page {
	b.t.Helper()
	return b.Do(http.MethodGet, path, nil)
}

// Post posts form to path.
func (b *Browser) Post(path string, form url.Values, headers ...string) Page {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return b.Do(http.MethodPost, path, form, headers...)
}

// Do sends method to path with form (urlencoded, when not nil) and headers (name, value pairs).
func (b *Browser) Do(method, path string, form url.Values, headers ...string) Page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	// Every page; not the one-line note net/http writes under a redirect, which no browser shows,
	// nor the empty body of a HEAD.
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") && res.StatusCode/100 != 3 && method != http.MethodHead {
		if err := CheckHTML(raw); err != nil {
			b.t.Fatalf("%s %s: the page's HTML is not well formed:\n%v", method, path, err)
		}
	}
	return Page{Status: res.StatusCode, Header: res.Header, Body: string(raw), Location: res.Header.Get("Location")}
}

// WantPage fails the test unless p has status and says each of contains.
func WantPage(t testing.TB, p Page, status int, contains ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status = %d, want %d; page:\n%s", p.Status, status, p.Body)
	}
	for _, c := range contains {
		if !strings.Contains(p.Body, c) {
			t.Errorf("the page does not say %q:\n%s", c, p.Body)
		}
	}
}
