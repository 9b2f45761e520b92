package ssl

import (
	"net"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// TestMatchHostnamePattern is Qt's tst_qsslsocket::wildcardCertificateNames.
func TestMatchHostnamePattern(t *testing.T) {
	tests := []struct {
		cn, host string
		want     bool
	}{
		{"*.example.com", "www.example.com", true},
		{"xxx*.example.com", "xxxwww.example.com", true},
		{"f*.example.com", "foo.example.com", true},
		{"192.168.0.0", "192.168.0.0", true},
		{"*.éxample.com", "foo.xn--xample-9ua.com", true},
		{"www.example.com", "www.example.com", true},
		{"WWW.Example.COM", "www.example.com", true},
		{"*", "www", false},
		{"*.*.com", "www.example.com", false},
		{"*.example.com", "baa.foo.example.com", false},
		{"f*.example.com", "baa.example.com", false},
		{"*.com", "example.com", false},
		{"*fail.com", "example.com", false},
		{"*.example.", "www.example.", false},
		{"*.example.", "www.example", false},
		{"", "www", false},
		{"*.168.0.0", "192.168.0.0", false},
		{"xn--kcry6tjko*.example.org", "xn--kcry6tjkoanc.example.org", false},
		{"å*.example.org", "xn--la-xia.example.org", false},
		{"*.example.com", "example.com", false},
		{"www.example.com", "other.example.com", false},
	}
	for _, tc := range tests {
		host := toAce(tc.host)
		if got := matchHostnamePattern(tc.cn, host); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.cn, tc.host, got, tc.want)
		}
	}
}

func TestMatchesHostname(t *testing.T) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Root", IsCA: true})
	c := certOf(root.MustIssue(pki.Spec{CommonName: "cn.test", DNSNames: []string{"*.wild.test", "xn--bcher-kva.test"},
		IPs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}}))
	tests := []struct {
		host string
		want bool
	}{
		{"cn.test", false}, // Qt consults the CN; the verifier does not
		{"a.wild.test", true},
		{"a.b.wild.test", false},
		{"bücher.test", true},
		{"xn--bcher-kva.test", true},
		{"127.0.0.1", true},
		{"::1", true},
		{"127.0.0.2", false},
		{"other.test", false},
	}
	for _, tc := range tests {
		if got := MatchesHostname(c, tc.host); got != tc.want {
			t.Errorf("MatchesHostname(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
	if MatchesHostname(Certificate{}, "x") {
		t.Error("null certificate matched")
	}
}

// TestMatchesHostnameAgreesWithVerifier: MatchesHostname is true exactly
// when VerifyChain reports no HostNameMismatch, including for the legacy
// forms Qt 6.4.2 accepts (measured: CN-only, CN beside other SANs, IP
// address in the CN, partial-label wildcard), which both reject.
func TestMatchesHostnameAgreesWithVerifier(t *testing.T) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Root", IsCA: true})
	certs := []struct {
		name string
		spec pki.Spec
	}{
		{"CN only", pki.Spec{CommonName: "localhost"}},
		{"CN beside another SAN", pki.Spec{CommonName: "localhost", DNSNames: []string{"other.invalid"}}},
		{"IP in the CN", pki.Spec{CommonName: "127.0.0.1"}},
		{"partial wildcard", pki.Spec{CommonName: "x", DNSNames: []string{"f*.example.com"}}},
		{"wildcard", pki.Spec{CommonName: "x", DNSNames: []string{"*.example.com"}}},
		{"two-label wildcard", pki.Spec{CommonName: "x", DNSNames: []string{"*.com"}}},
		{"SAN and IP", pki.Spec{CommonName: "x", DNSNames: []string{"localhost", "xn--bcher-kva.example"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}},
	}
	hosts := []string{"localhost", "LOCALHOST", "127.0.0.1", "::1", "foo.example.com", "bar.example.com", "example.com",
		"a.b.example.com", "other.invalid", "xn--bcher-kva.example", "bücher.example"}
	// Qt's own answers for the legacy forms, measured with QSslSocket.
	qtAccepts := map[string]string{"CN only": "localhost", "CN beside another SAN": "localhost", "IP in the CN": "127.0.0.1",
		"partial wildcard": "foo.example.com"}
	for _, cs := range certs {
		c := certOf(root.MustIssue(cs.spec))
		for _, h := range hosts {
			errs := VerifyChain([]Certificate{c}, VerifyOptions{Roots: []Certificate{certOf(root)}, HostName: h})
			verifierOK := !ContainsError(errs, NewError(HostNameMismatch, c))
			if got := MatchesHostname(c, h); got != verifierOK {
				t.Errorf("%s, %q: MatchesHostname %v, verifier %v", cs.name, h, got, verifierOK)
			}
			if qtAccepts[cs.name] == h {
				if !qtMatchesHostname(c, h) || MatchesHostname(c, h) {
					t.Errorf("%s, %q: Qt's rules must accept and MatchesHostname reject", cs.name, h)
				}
			}
		}
	}
}
