package ssl

import (
	"net/netip"
	"strings"

	"golang.org/x/net/idna"
)

// aceProfile converts names to their ASCII-compatible (punycode) form the
// way QUrl::toAce does for host names: lower-cased, no strict STD3 checks
// (certificates carry '*' and '_').
var aceProfile = idna.New(idna.MapForLookup(), idna.StrictDomainName(false), idna.Transitional(false))

// toAce returns the ACE form of name, or "" when it cannot be converted.
func toAce(name string) string {
	s, err := aceProfile.ToASCII(name)
	if err != nil {
		return ""
	}
	return s
}

// MatchesHostname reports whether cert is valid for host exactly as the
// verifier decides it (VerifyChain reports HostNameMismatch exactly when it
// returns false). Both of these must accept the name:
//
//   - Qt's rules (QSslSocketPrivate::isMatchingHostname): an IP literal
//     matches an equal IP subject alternative name; otherwise the host, in
//     ACE form, is compared with every common name and every DNS name, with
//     Qt's wildcard rules ("*" or "f*" as the whole or the end of the first
//     of at least three labels, matching exactly one label, never an IP
//     literal or an A-label);
//   - crypto/x509's Certificate.VerifyHostname (RFC 6125 as browsers apply
//     it): DNS and IP subject alternative names only, wildcards only as a
//     whole left-most label.
//
// So it is stricter than Qt, which (measured on Qt 6.4.2) also accepts a
// certificate whose only match is its common name — with or without subject
// alternative names, an IP address in the common name included — and a
// partial-label wildcard such as "f*.example.com". Those legacy forms are
// HostNameMismatch here, which the application can ignore explicitly; the
// verifier never accepts a name crypto/x509 rejects (see
// docs/architecture.md).
func MatchesHostname(cert Certificate, host string) bool {
	return qtMatchesHostname(cert, host) && cert.x.VerifyHostname(x509HostName(host)) == nil
}

// qtMatchesHostname is QSslSocketPrivate::isMatchingHostname.
func qtMatchesHostname(cert Certificate, host string) bool {
	if cert.IsNull() {
		return false
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		for _, ip := range cert.x.IPAddresses {
			if a, ok := netip.AddrFromSlice(ip); ok && a.Unmap() == addr.Unmap() {
				return true
			}
		}
	}
	ace := toAce(host)
	if ace == "" {
		return false
	}
	for _, cn := range cert.SubjectInfo(CommonName) {
		if matchHostnamePattern(cn, ace) {
			return true
		}
	}
	for _, dns := range cert.x.DNSNames {
		if matchHostnamePattern(dns, ace) {
			return true
		}
	}
	return false
}

// x509HostName is host in the form crypto/x509 compares: ACE for names.
func x509HostName(host string) string {
	if a := toAce(host); a != "" {
		return a
	}
	return host
}

// matchHostnamePattern compares one certificate name with an ACE host name.
func matchHostnamePattern(cn, host string) bool {
	wildcard := strings.IndexByte(cn, '*')
	if wildcard < 0 {
		a := toAce(cn)
		return a != "" && a == host
	}
	firstDot := strings.IndexByte(cn, '.')
	if firstDot < 0 {
		return false
	}
	secondDot := strings.IndexByte(cn[firstDot+1:], '.')
	if secondDot < 0 || firstDot+1+secondDot+1 >= len(cn) {
		return false // fewer than three labels
	}
	if wildcard+1 != firstDot || strings.LastIndexByte(cn, '*') != wildcard {
		return false // '*' must end the first label, and only one
	}
	if len(cn) >= 4 && strings.EqualFold(cn[:4], "xn--") {
		return false // no wildcard inside an A-label (RFC 6125 §7.2)
	}
	if wildcard > 0 && (len(host) < wildcard || !strings.EqualFold(host[:wildcard], cn[:wildcard])) {
		return false
	}
	hostRest := host
	if i := strings.IndexByte(host, '.'); i >= 0 {
		hostRest = host[i+1:]
	}
	cnRest := cn[firstDot+1:]
	if hostRest != cnRest && hostRest != toAce(cnRest) {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return false // wildcards never match IP literals
	}
	return true
}
