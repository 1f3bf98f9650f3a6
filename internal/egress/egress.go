// Package egress is the one home of "where may deliveries go": results callbacks and webhook
// events leave the mock for URLs its tenants chose, so every such URL is checked here, when it is
// given (a 422 naming the rule) and again when the delivery dials (DNS may have changed since).
//
// The rules:
//   - Never the mock itself: none of the addresses it listens on (an unspecified listen address
//     stands for every local address) and not its public URL. A tenant cannot make the mock call
//     its own control API (/_mock/reset), console or pages.
//   - With an allow-list (--callback-allow-hosts), only its hosts: "host", "*.domain", "*" (any
//     name), an IP address or a CIDR range. A name the list gives exactly may resolve anywhere;
//     any other host must resolve to public addresses: loopback, private, link-local and other
//     non-public ranges are refused unless an IP or CIDR entry lists them. Without an allow-list
//     (local development) every other host and port is allowed, loopback receivers included.
//
// The dial-time check sees the addresses a name resolves to and checks each before connecting,
// and again in the dialer's Control hook on the address really dialled.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config says where deliveries may go.
type Config struct {
	// AllowHosts are the allow-list patterns ("ats.example.com", "*.example.com", "*",
	// "10.1.2.3", "10.0.0.0/8"); empty allows every host but the mock itself.
	AllowHosts []string
	// Listen are the addresses the mock listens on ("127.0.0.1:8080", ":8080"); deliveries never
	// reach them.
	Listen []string
	// PublicURL is the mock's public base URL; deliveries never reach its host and port either.
	PublicURL string
	// Resolve looks up the addresses of a host name (net.DefaultResolver's when nil). Tests give
	// their own to play DNS.
	Resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	// Timeout bounds one connection attempt (30 s when 0); the caller's context bounds it too.
	Timeout time.Duration
}

// The rules a URL or a connection can break, as Refused.Rule names them.
const (
	RuleSelf      = "self"       // the mock's own addresses or public URL
	RuleAllowList = "allow-list" // a host --callback-allow-hosts does not list
	RulePrivate   = "private"    // a non-public address --callback-allow-hosts does not list
)

// Refused is why a URL or a connection is not allowed. Its message names the rule, fit for a 422
// on the field that gave the URL and for a delivery attempt's error, and says nothing about the
// target beyond what the caller gave (no dial error: the control API is no port scanner).
type Refused struct {
	Rule   string
	Reason string
}

func (r *Refused) Error() string { return r.Reason }

// Policy applies a Config. It is safe for concurrent use.
type Policy struct {
	names    map[string]bool // exact host names of the allow-list
	suffixes []string        // ".example.com" of "*.example.com"
	anyName  bool            // "*"
	prefixes []netip.Prefix  // IP and CIDR entries (an IP is a /32 or /128)
	patterns []string        // the allow-list as given, for messages

	listen    []netip.AddrPort // listen addresses; an unspecified address means every local one
	local     []netip.Addr     // this machine's interface addresses
	publicURL string
	pubHost   string // the public URL's host (lower case, no trailing dot) and port
	pubPort   uint16

	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
	dialer  net.Dialer

	pubMu       sync.Mutex
	pubAddrs    []netip.Addr // what the public URL's host resolved to
	pubResolved time.Time
}

// publicTTL is how long what the public URL's name resolved to is trusted before it is looked up
// again (it is looked up only when a delivery dials the public URL's port).
const publicTTL = time.Minute

// New checks cfg and returns its policy: an allow-list range or a listen address that cannot be
// read is an error.
func New(cfg Config) (*Policy, error) {
	p := &Policy{resolve: cfg.Resolve, dialer: net.Dialer{Timeout: cfg.Timeout}}
	if p.dialer.Timeout <= 0 {
		p.dialer.Timeout = 30 * time.Second
	}
	if p.resolve == nil {
		p.resolve = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	for _, raw := range cfg.AllowHosts {
		pat := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case pat == "":
			continue
		case pat == "*":
			p.anyName = true
		case strings.HasPrefix(pat, "*."):
			p.suffixes = append(p.suffixes, normalHost(pat[1:]))
		case strings.Contains(pat, "/"):
			pre, err := netip.ParsePrefix(pat)
			if err != nil {
				return nil, fmt.Errorf("egress: allow-list entry %q is not a CIDR range like 10.0.0.0/8", raw)
			}
			p.prefixes = append(p.prefixes, pre.Masked())
		default:
			if ip, err := netip.ParseAddr(strings.Trim(pat, "[]")); err == nil {
				ip = ip.Unmap()
				p.prefixes = append(p.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
				break
			}
			if p.names == nil {
				p.names = make(map[string]bool)
			}
			p.names[normalHost(pat)] = true
		}
		p.patterns = append(p.patterns, strings.TrimSpace(raw))
	}
	for _, l := range cfg.Listen {
		ap, err := listenAddr(l)
		if err != nil {
			return nil, err
		}
		p.listen = append(p.listen, ap)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if pre, err := netip.ParsePrefix(a.String()); err == nil {
				p.local = append(p.local, pre.Addr().Unmap())
			}
		}
	}
	if cfg.PublicURL != "" {
		// A public URL without a host (the links it makes are broken anyway) names no address.
		if u, err := url.Parse(cfg.PublicURL); err == nil && u.Hostname() != "" {
			p.publicURL = strings.TrimRight(cfg.PublicURL, "/")
			p.pubHost, p.pubPort = normalHost(u.Hostname()), port(u)
		}
	}
	return p, nil
}

// listenAddr reads a listen address; an empty host ("" of ":8080") is the unspecified address.
func listenAddr(s string) (netip.AddrPort, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("egress: listen address %q: %w", s, err)
	}
	pn, err := net.LookupPort("tcp", p)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("egress: listen address %q: %w", s, err)
	}
	ip := netip.IPv6Unspecified()
	if host != "" {
		if ip, err = netip.ParseAddr(host); err != nil {
			return netip.AddrPort{}, fmt.Errorf("egress: listen address %q is not an IP address and port", s)
		}
	}
	return netip.AddrPortFrom(ip.Unmap(), uint16(pn)), nil
}

// Restricted reports whether an allow-list is in force (a shared deployment).
func (p *Policy) Restricted() bool {
	return len(p.patterns) > 0
}

// CheckURL says why raw may not receive deliveries: the mock's own address or public URL (as far
// as the URL shows it: an IP address, "localhost", or the public URL's host and port; names are
// resolved when the delivery dials), or a host the allow-list does not list. It does no DNS
// lookup, so giving a URL costs nothing.
func (p *Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return &Refused{Rule: RuleAllowList, Reason: "is not an absolute URL"}
	}
	host, pt := normalHost(u.Hostname()), port(u)
	if p.pubHost != "" && host == p.pubHost && pt == p.pubPort {
		return p.self(net.JoinHostPort(host, fmt.Sprint(pt)), "the mock's public URL "+p.publicURL)
	}
	for _, ip := range literal(host) {
		if which, ok := p.isSelf(ip, pt, false); ok {
			return p.self(net.JoinHostPort(host, fmt.Sprint(pt)), which)
		}
	}
	if p.Restricted() {
		if ok, _ := p.listed(host); !ok {
			return &Refused{Rule: RuleAllowList, Reason: fmt.Sprintf("host %s is not allowed: the mock accepts callbacks to %s only", host, strings.Join(p.patterns, ", "))}
		}
		for _, ip := range literal(host) {
			if !public(ip) && !p.inPrefixes(ip) && !p.names[host] {
				return p.private(host, ip)
			}
		}
	}
	return nil
}

func (p *Policy) self(target, which string) *Refused {
	return &Refused{Rule: RuleSelf, Reason: fmt.Sprintf("%s is the mock itself (%s): deliveries never go to the mock's own addresses, its control API included", target, which)}
}

func (p *Policy) private(host string, ip netip.Addr) *Refused {
	what := host
	if host != ip.String() {
		what = fmt.Sprintf("%s resolves to %s, which", host, ip)
	}
	return &Refused{Rule: RulePrivate, Reason: fmt.Sprintf("%s is a loopback, private or otherwise non-public address: with --callback-allow-hosts, such addresses are refused unless the list names them (the host exactly, the IP address or its CIDR range)", what)}
}

// listed reports whether the allow-list lists host, and whether it names it exactly (a name
// entry equal to it, or an IP entry or range holding it).
func (p *Policy) listed(host string) (ok, exact bool) {
	if ip, err := netip.ParseAddr(host); err == nil {
		if p.inPrefixes(ip.Unmap()) {
			return true, true
		}
		return p.anyName, false
	}
	if p.names[host] {
		return true, true
	}
	for _, s := range p.suffixes {
		if strings.HasSuffix(host, s) {
			return true, false
		}
	}
	return p.anyName, false
}

func (p *Policy) inPrefixes(ip netip.Addr) bool {
	return slices.ContainsFunc(p.prefixes, func(pre netip.Prefix) bool { return pre.Contains(ip) })
}

// isSelf reports whether ip:port is one of the mock's own addresses, and which; resolve allows a
// lookup of the public URL's name (at dial time only).
func (p *Policy) isSelf(ip netip.Addr, port uint16, resolve bool) (string, bool) {
	for _, l := range p.listen {
		if l.Port() != port {
			continue
		}
		// Dialling an unspecified address reaches the local machine; an unspecified listen
		// address takes every local address.
		if l.Addr() == ip || ip.IsUnspecified() || l.Addr().IsUnspecified() && p.isLocal(ip) {
			return "it listens on " + l.String(), true
		}
	}
	if p.pubHost != "" && port == p.pubPort && slices.Contains(p.publicAddrs(resolve), ip) {
		return "the mock's public URL " + p.publicURL, true
	}
	return "", false
}

// isLocal reports whether ip is an address of this machine.
func (p *Policy) isLocal(ip netip.Addr) bool {
	return ip.IsLoopback() || ip.IsUnspecified() || slices.Contains(p.local, ip)
}

// publicAddrs is what the public URL's host stands for: its literal addresses, and with resolve
// what its name resolved to in the last minute.
func (p *Policy) publicAddrs(resolve bool) []netip.Addr {
	if lit := literal(p.pubHost); lit != nil {
		return lit
	}
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	if resolve && time.Since(p.pubResolved) > publicTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		addrs, err := p.resolve(ctx, p.pubHost)
		cancel()
		p.pubResolved = time.Now()
		if err == nil {
			p.pubAddrs = unmapAll(addrs)
		}
	}
	return p.pubAddrs
}

// DialContext connects to addr ("host:port") as a delivery may: it resolves the host, refuses
// every address the policy refuses and dials the others in turn; the dialer's Control hook checks
// the address really dialled once more. A refusal is a *Refused.
func (p *Policy) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	h, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	pn, err := net.LookupPort(network, ps)
	if err != nil {
		return nil, err
	}
	host, pt := normalHost(h), uint16(pn)
	if p.Restricted() {
		if ok, _ := p.listed(host); !ok {
			return nil, &Refused{Rule: RuleAllowList, Reason: fmt.Sprintf("refused: host %s is not on the allow-list", host)}
		}
	}
	ips := literal(host)
	if ips == nil {
		if ips, err = p.resolve(ctx, host); err != nil {
			return nil, err
		}
		ips = unmapAll(ips)
	}
	var firstErr error
	for _, ip := range ips {
		if err := p.checkIP(host, ip, pt); err != nil {
			firstErr = firstOf(firstErr, err)
			continue
		}
		d := p.dialer
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			return p.checkIP(host, ap.Addr().Unmap(), ap.Port())
		}
		conn, err := d.DialContext(ctx, network, netip.AddrPortFrom(ip, pt).String())
		if err == nil {
			return conn, nil
		}
		firstErr = firstOf(firstErr, err)
		if ctx.Err() != nil {
			break
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("no addresses for %s", host)
	}
	return nil, firstErr
}

func firstOf(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// checkIP refuses ip:port, reached for host, when it is the mock itself or, under an allow-list,
// a non-public address the list does not name.
func (p *Policy) checkIP(host string, ip netip.Addr, port uint16) error {
	if which, ok := p.isSelf(ip, port, true); ok {
		return &Refused{Rule: RuleSelf, Reason: fmt.Sprintf("refused: %s is the mock itself (%s)", host, which)}
	}
	if p.Restricted() && !public(ip) && !p.inPrefixes(ip) {
		if _, exact := p.listed(host); !exact {
			return &Refused{Rule: RulePrivate, Reason: fmt.Sprintf("refused: %s resolves to a non-public address the allow-list does not name", host)}
		}
	}
	return nil
}

// Shown is what a delivery attempt's error says to whoever reads the delivery log: a refusal as
// it is; under an allow-list any other connection error only as "failed", so the control API
// tells nothing about the network beyond the allowed receivers (the mock's log has the details).
func (p *Policy) Shown(err error) error {
	var r *Refused
	if errors.As(err, &r) {
		return r
	}
	if p.Restricted() {
		return errors.New("failed: the receiver could not be reached (the mock's log has the details)")
	}
	return err
}

// literal returns the addresses host stands for without a lookup: an IP address, or loopback for
// "localhost" and its subdomains (RFC 6761); nil for other names.
func literal(host string) []netip.Addr {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip.Unmap()}
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return []netip.Addr{netip.AddrFrom4([4]byte{127, 0, 0, 1}), netip.IPv6Loopback()}
	}
	return nil
}

func unmapAll(addrs []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, len(addrs))
	for i, a := range addrs {
		out[i] = a.Unmap()
	}
	return out
}

// normalHost is a host as compared: lower case, without brackets, zone or trailing dot.
func normalHost(h string) string {
	h = strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
	if ip, err := netip.ParseAddr(h); err == nil {
		return ip.Unmap().WithZone("").String()
	}
	return h
}

// port is u's port, or its scheme's default.
func port(u *url.URL) uint16 {
	if p := u.Port(); p != "" {
		n, err := net.LookupPort("tcp", p)
		if err == nil {
			return uint16(n)
		}
	}
	if strings.EqualFold(u.Scheme, "https") {
		return 443
	}
	return 80
}

// nonPublic are the ranges no delivery under an allow-list reaches unless it lists them, besides
// what netip classifies (loopback, private, link-local, multicast, unspecified).
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),      // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),  // carrier-grade NAT, cloud-internal in places
	netip.MustParsePrefix("192.0.0.0/24"),   // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),  // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),    // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),   // NAT64: an IPv4 address inside
	netip.MustParsePrefix("64:ff9b:1::/48"), // local NAT64
	netip.MustParsePrefix("2002::/16"),      // 6to4: an IPv4 address inside
	netip.MustParsePrefix("2001::/32"),      // Teredo
	netip.MustParsePrefix("100::/64"),       // discard
}

// public reports whether ip is a public unicast address.
func public(ip netip.Addr) bool {
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified() ||
		ip.IsMulticast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	return !slices.ContainsFunc(nonPublic, func(pre netip.Prefix) bool { return pre.Contains(ip) })
}
