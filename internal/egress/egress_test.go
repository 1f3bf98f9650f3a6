package egress_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/equalture/equalture-mock/internal/egress"
)

func policy(t *testing.T, cfg egress.Config) *egress.Policy {
	t.Helper()
	p, err := egress.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// rule is the rule err names ("" when it allows).
func rule(err error) string {
	if err == nil {
		return ""
	}
	var r *egress.Refused
	if !errors.As(err, &r) {
		return "error: " + err.Error()
	}
	return r.Rule
}

func TestCheckURL(t *testing.T) {
	self := egress.Config{Listen: []string{"127.0.0.1:8080"}, PublicURL: "https://mock.example.com"}
	everywhere := egress.Config{Listen: []string{":8080"}, PublicURL: "http://localhost:8080"}
	withList := func(c egress.Config, hosts ...string) egress.Config { c.AllowHosts = hosts; return c }
	tests := map[string]struct {
		cfg  egress.Config
		url  string
		want string
	}{
		"any host without a list":                     {self, "https://anything.example/cb", ""},
		"a loopback receiver on another port":         {self, "http://127.0.0.1:3000/cb", ""},
		"localhost on another port":                   {self, "http://localhost:3000/cb", ""},
		"the listen address":                          {self, "http://127.0.0.1:8080/_mock/reset", egress.RuleSelf},
		"localhost on the listen port":                {self, "http://localhost:8080/_mock/reset", egress.RuleSelf},
		"a subdomain of localhost":                    {self, "http://a.localhost:8080/_mock/reset", egress.RuleSelf},
		"the unspecified address":                     {self, "http://0.0.0.0:8080/_mock/reset", egress.RuleSelf},
		"an IPv4-mapped listen address":               {self, "http://[::ffff:127.0.0.1]:8080/_mock/reset", egress.RuleSelf},
		"the public URL, default port":                {self, "https://MOCK.example.com./_mock/tokens/expire", egress.RuleSelf},
		"the public URL's host on another port":       {self, "https://mock.example.com:8443/cb", ""},
		"every interface: loopback":                   {everywhere, "http://127.0.0.2:8080/_mock/reset", egress.RuleSelf},
		"every interface: IPv6 loopback":              {everywhere, "http://[::1]:8080/_mock/reset", egress.RuleSelf},
		"every interface: public URL":                 {everywhere, "http://LOCALHOST:8080/_mock/ui", egress.RuleSelf},
		"every interface: another port":               {everywhere, "http://127.0.0.1:8081/cb", ""},
		"listed host":                                 {withList(self, "ats.local"), "http://ats.local:3000/cb", ""},
		"unlisted host":                               {withList(self, "ats.local"), "http://evil.local/cb", egress.RuleAllowList},
		"wildcard":                                    {withList(self, "*.example.com"), "https://a.b.example.com/cb", ""},
		"wildcard is no suffix match":                 {withList(self, "*.example.com"), "https://example.com.evil/cb", egress.RuleAllowList},
		"patterns are case-insensitive":               {withList(self, "ATS.local"), "http://ats.LOCAL/cb", ""},
		"a listed loopback address":                   {withList(self, "127.0.0.1"), "http://127.0.0.1:3000/cb", ""},
		"a listed range":                              {withList(self, "10.0.0.0/8"), "http://10.1.2.3/cb", ""},
		"an address outside the range":                {withList(self, "10.0.0.0/8"), "http://192.168.1.1/cb", egress.RuleAllowList},
		"a star takes public addresses":               {withList(self, "*"), "http://93.184.215.14/cb", ""},
		"a star takes no private address":             {withList(self, "*"), "http://192.168.1.1/cb", egress.RulePrivate},
		"a star takes no metadata address":            {withList(self, "*"), "http://169.254.169.254/latest", egress.RulePrivate},
		"a listed name that is loopback":              {withList(self, "localhost"), "http://localhost:3000/cb", ""},
		"the mock itself even when listed":            {withList(self, "127.0.0.1"), "http://127.0.0.1:8080/_mock/reset", egress.RuleSelf},
		"the public URL even when its host is listed": {withList(self, "mock.example.com"), "https://mock.example.com/_mock/reset", egress.RuleSelf},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := policy(t, tc.cfg).CheckURL(tc.url)
			if got := rule(err); got != tc.want {
				t.Fatalf("CheckURL(%q) = %v (rule %q), want rule %q", tc.url, err, got, tc.want)
			}
		})
	}
}

// The messages are 422 texts: they name the rule and the host, never a dial error.
func TestCheckURLMessages(t *testing.T) {
	p := policy(t, egress.Config{AllowHosts: []string{"ats.local", "*.example.com"}, Listen: []string{"127.0.0.1:8080"}})
	for url, want := range map[string]string{
		"http://evil.local/cb":              "host evil.local is not allowed: the mock accepts callbacks to ats.local, *.example.com only",
		"http://127.0.0.1:8080/_mock/reset": "127.0.0.1:8080 is the mock itself (it listens on 127.0.0.1:8080): deliveries never go to the mock's own addresses, its control API included",
	} {
		if got := fmt.Sprint(p.CheckURL(url)); got != want {
			t.Errorf("CheckURL(%q) = %q, want %q", url, got, want)
		}
	}
}

func TestNewRefusesBadSettings(t *testing.T) {
	for name, cfg := range map[string]egress.Config{
		"bad range":          {AllowHosts: []string{"10.0.0.0/33"}},
		"bad listen address": {Listen: []string{"localhost"}},
		"named listen host":  {Listen: []string{"mock.example.com:8080"}},
	} {
		if _, err := egress.New(cfg); err == nil {
			t.Errorf("%s: New(%+v) accepted it", name, cfg)
		}
	}
}

// dns plays a resolver: a name stands for the addresses given, others do not exist.
type dns map[string][]string

func (d dns) resolve(_ context.Context, host string) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range d[host] {
		out = append(out, netip.MustParseAddr(a))
	}
	if out == nil {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return out, nil
}

// The dial-time check sees what a name resolves to when the delivery is made: a name that pointed
// elsewhere when it was given and resolves to the mock now (DNS rebinding) is refused before any
// connection, and so is, under an allow-list, a name matched by a wildcard that resolves to a
// private address. Real listeners show what does get through.
func TestDialContext(t *testing.T) {
	mock := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		t.Error("the mock itself was reached")
	}))
	t.Cleanup(mock.Close)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(receiver.Close)
	_, mockPort, _ := net.SplitHostPort(mock.Listener.Addr().String())
	_, rcvPort, _ := net.SplitHostPort(receiver.Listener.Addr().String())
	names := dns{"rebind.example": {"127.0.0.1"}, "ats.local": {"127.0.0.1"}, "hooks.example.com": {"127.0.0.1"}, "both.example": {"127.0.0.1", "::1"}}
	plain := egress.Config{Listen: []string{mock.Listener.Addr().String()}, PublicURL: mock.URL, Resolve: names.resolve}
	listed := plain
	listed.AllowHosts = []string{"ats.local", "*.example.com", "rebind.example"}
	tests := map[string]struct {
		cfg  egress.Config
		addr string
		want string
	}{
		"a name rebound to the mock":                 {plain, "rebind.example:" + mockPort, egress.RuleSelf},
		"the mock's address":                         {plain, "127.0.0.1:" + mockPort, egress.RuleSelf},
		"a name resolving to a receiver":             {plain, "rebind.example:" + rcvPort, ""},
		"a name resolving to the mock and elsewhere": {plain, "both.example:" + mockPort, egress.RuleSelf},
		"a listed name on loopback":                  {listed, "ats.local:" + rcvPort, ""},
		"a wildcard name on loopback":                {listed, "hooks.example.com:" + rcvPort, egress.RulePrivate},
		"a name no longer on the list":               {listed, "other.example:" + rcvPort, egress.RuleAllowList},
		"a listed name rebound to the mock":          {listed, "rebind.example:" + mockPort, egress.RuleSelf},
		"an unknown name is an ordinary dial error":  {plain, "nowhere.example:" + rcvPort, "error: lookup nowhere.example: no such host"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			conn, err := policy(t, tc.cfg).DialContext(context.Background(), "tcp", tc.addr)
			if conn != nil {
				conn.Close()
			}
			if got := rule(err); got != tc.want {
				t.Fatalf("DialContext(%q) = %v (rule %q), want rule %q", tc.addr, err, got, tc.want)
			}
		})
	}
}

// Under an allow-list, a delivery error tells nothing about the network; a refusal says which rule.
func TestShown(t *testing.T) {
	dialErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &egress.Refused{Rule: egress.RuleSelf, Reason: "refused: x is the mock itself"}}
	open := policy(t, egress.Config{})
	shared := policy(t, egress.Config{AllowHosts: []string{"ats.local"}})
	for _, tc := range []struct {
		p    *egress.Policy
		err  error
		want string
	}{
		{open, dialErr, "dial tcp: connect: connection refused"},
		{open, refused, "refused: x is the mock itself"},
		{shared, dialErr, "failed: the receiver could not be reached (the mock's log has the details)"},
		{shared, refused, "refused: x is the mock itself"},
	} {
		if got := tc.p.Shown(tc.err).Error(); got != tc.want {
			t.Errorf("Shown(%v) = %q, want %q", tc.err, got, tc.want)
		}
		if strings.Contains(tc.p.Shown(tc.err).Error(), "connection refused") && tc.p.Restricted() {
			t.Errorf("a restricted policy shows the dial error")
		}
	}
}

// Any entry makes the policy restricted, an IP address or a range as much as a name.
func TestRestricted(t *testing.T) {
	for _, hosts := range [][]string{{"ats.local"}, {"*.example.com"}, {"*"}, {"127.0.0.1"}, {"10.0.0.0/8"}} {
		if !policy(t, egress.Config{AllowHosts: hosts}).Restricted() {
			t.Errorf("allow-list %v is not restricted", hosts)
		}
	}
	if policy(t, egress.Config{AllowHosts: []string{" ", ""}}).Restricted() {
		t.Error("an allow-list of blanks is restricted")
	}
}
