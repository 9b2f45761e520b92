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
		{"cn.test", true}, // Qt always consults the CN
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
