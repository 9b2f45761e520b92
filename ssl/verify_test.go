package ssl

import (
	"crypto/x509"
	"errors"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// badChain is one generated chain and the errors Qt's OpenSSL backend lists
// for it, as (code, index into chain) pairs; index -1 means the root.
type badChain struct {
	name    string
	chain   []*pki.Cert // presented, leaf first
	root    *pki.Cert   // trust anchor (nil: none)
	host    string
	depth   int
	purpose Purpose
	want    []wantErr
	// openssl, when set, is what OpenSSL's verifier reports where the
	// verifier deliberately differs (the oracle test checks both).
	openssl []wantErr
}

func certsOf(cs []*pki.Cert) []Certificate {
	var out []Certificate
	for _, c := range cs {
		out = append(out, certOf(c))
	}
	return out
}

// expected turns tc.want into Errors about chain (tc.chain as Certificates).
func (tc badChain) expected(chain []Certificate) []Error {
	var want []Error
	for _, w := range tc.want {
		var c Certificate
		switch {
		case w.at >= 0:
			c = chain[w.at]
		case w.at == -1:
			c = certOf(tc.root)
		}
		want = append(want, NewError(w.code, c))
	}
	return want
}

type wantErr struct {
	code ErrorCode
	at   int // index into chain; -1 = root; -2 = no certificate
}

func certOf(c *pki.Cert) Certificate { return NewCertificate(c.Cert) }

// badChains builds the catalogue of defects shared by the table test and the
// OpenSSL oracle test.
func badChains(t testing.TB) []badChain {
	t.Helper()
	now := time.Now()
	past, future := now.Add(-48*time.Hour), now.Add(48*time.Hour)
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Test Root", IsCA: true})
	inter := root.MustIssue(pki.Spec{CommonName: "Test Intermediate", IsCA: true})
	leaf := inter.MustIssue(pki.Spec{CommonName: "leaf.test", DNSNames: []string{"leaf.test"}})
	otherRoot := pki.MustSelfSigned(pki.Spec{CommonName: "Untrusted Root", IsCA: true})
	otherInter := otherRoot.MustIssue(pki.Spec{CommonName: "Untrusted Intermediate", IsCA: true})
	expiredLeaf := inter.MustIssue(pki.Spec{CommonName: "expired.test", DNSNames: []string{"expired.test"}, NotBefore: past.Add(-time.Hour), NotAfter: past})
	futureLeaf := inter.MustIssue(pki.Spec{CommonName: "future.test", DNSNames: []string{"future.test"}, NotBefore: future})
	selfLeaf := pki.MustSelfSigned(pki.Spec{CommonName: "self.test", DNSNames: []string{"self.test"}})
	selfExpired := pki.MustSelfSigned(pki.Spec{CommonName: "selfexp.test", DNSNames: []string{"selfexp.test"}, NotBefore: past.Add(-time.Hour), NotAfter: past})
	nonCA := root.MustIssue(pki.Spec{CommonName: "Not A CA", IsCA: false, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, NoExtKeyUsage: true})
	nonCALeaf := nonCA.MustIssue(pki.Spec{CommonName: "under-nonca.test", DNSNames: []string{"under-nonca.test"}})
	pl0 := root.MustIssue(pki.Spec{CommonName: "PathLen0", IsCA: true, PathLen: pki.PathLen(0)})
	pl0sub := pl0.MustIssue(pki.Spec{CommonName: "Below PathLen0", IsCA: true})
	pl0leaf := pl0sub.MustIssue(pki.Spec{CommonName: "deep.test", DNSNames: []string{"deep.test"}})
	clientOnly := inter.MustIssue(pki.Spec{CommonName: "client.test", DNSNames: []string{"client.test"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	badSig := inter.MustIssue(pki.Spec{CommonName: "badsig.test", DNSNames: []string{"badsig.test"}, BadSignature: true})
	expiredInter := root.MustIssue(pki.Spec{CommonName: "Expired Intermediate", IsCA: true, NotBefore: past.Add(-time.Hour), NotAfter: past})
	underExpired := expiredInter.MustIssue(pki.Spec{CommonName: "under-expired.test", DNSNames: []string{"under-expired.test"}})
	multi := otherInter.MustIssue(pki.Spec{CommonName: "multi.test", DNSNames: []string{"multi.test"}, NotBefore: past.Add(-time.Hour), NotAfter: past})
	clientLeaf := inter.MustIssue(pki.Spec{CommonName: "alice", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})

	return []badChain{
		{name: "good", chain: []*pki.Cert{leaf, inter}, root: root, host: "leaf.test"},
		{name: "good, root also presented", chain: []*pki.Cert{leaf, inter, root}, root: root, host: "leaf.test"},
		{name: "expired leaf", chain: []*pki.Cert{expiredLeaf, inter}, root: root, host: "expired.test",
			want: []wantErr{{CertificateExpired, 0}}},
		{name: "not yet valid leaf", chain: []*pki.Cert{futureLeaf, inter}, root: root, host: "future.test",
			want: []wantErr{{CertificateNotYetValid, 0}}},
		{name: "self-signed leaf", chain: []*pki.Cert{selfLeaf}, root: root, host: "self.test",
			want: []wantErr{{SelfSignedCertificate, 0}}},
		{name: "self-signed and expired leaf", chain: []*pki.Cert{selfExpired}, root: root, host: "selfexp.test",
			want: []wantErr{{SelfSignedCertificate, 0}, {CertificateExpired, 0}}},
		{name: "untrusted root in chain", chain: []*pki.Cert{otherInter.MustIssue(pki.Spec{CommonName: "u.test", DNSNames: []string{"u.test"}}), otherInter, otherRoot}, root: root, host: "u.test",
			want: []wantErr{{SelfSignedCertificateInChain, 2}}},
		{name: "missing intermediate", chain: []*pki.Cert{leaf}, root: root, host: "leaf.test",
			want: []wantErr{{UnableToGetLocalIssuerCertificate, 0}, {UnableToVerifyFirstCertificate, 0}}},
		{name: "unknown issuer, intermediate presented", chain: []*pki.Cert{otherInter.MustIssue(pki.Spec{CommonName: "v.test", DNSNames: []string{"v.test"}}), otherInter}, root: root, host: "v.test",
			want: []wantErr{{UnableToGetLocalIssuerCertificate, 1}}},
		{name: "wrong host", chain: []*pki.Cert{leaf, inter}, root: root, host: "other.test",
			want: []wantErr{{HostNameMismatch, 0}}},
		{name: "CA:FALSE intermediate", chain: []*pki.Cert{nonCALeaf, nonCA}, root: root, host: "under-nonca.test",
			want: []wantErr{{InvalidCaCertificate, 1}, {InvalidPurpose, 1}}},
		{name: "path length exceeded", chain: []*pki.Cert{pl0leaf, pl0sub, pl0}, root: root, host: "deep.test",
			want: []wantErr{{PathLengthExceeded, 2}}},
		{name: "wrong extended key usage", chain: []*pki.Cert{clientOnly, inter}, root: root, host: "client.test",
			want: []wantErr{{InvalidPurpose, 0}}},
		{name: "bad signature", chain: []*pki.Cert{badSig, inter}, root: root, host: "badsig.test",
			want: []wantErr{{CertificateSignatureFailed, 0}}},
		{name: "expired intermediate", chain: []*pki.Cert{underExpired, expiredInter}, root: root, host: "under-expired.test",
			want: []wantErr{{CertificateExpired, 1}}},
		{name: "several problems at once", chain: []*pki.Cert{multi, otherInter, otherRoot}, root: root, host: "wrong.test",
			want: []wantErr{{HostNameMismatch, 0}, {SelfSignedCertificateInChain, 2}, {CertificateExpired, 0}}},
		{name: "depth limit", chain: []*pki.Cert{pl0leaf, pl0sub, pl0}, root: root, host: "deep.test", depth: 1,
			want: []wantErr{{UnspecifiedError, 2}, {UnableToGetLocalIssuerCertificate, 2}, {PathLengthExceeded, 2}}},
		{name: "client certificate for client auth", chain: []*pki.Cert{clientLeaf, inter}, root: root, purpose: PurposeClientAuth},
		{name: "server-only certificate for client auth", chain: []*pki.Cert{leaf.MustIssueServerOnly(inter), inter}, root: root, purpose: PurposeClientAuth,
			want: []wantErr{{InvalidPurpose, 0}}},
	}
}

func TestVerifyChain(t *testing.T) {
	for _, tc := range badChains(t) {
		t.Run(tc.name, func(t *testing.T) {
			chain := certsOf(tc.chain)
			got := VerifyChain(chain, VerifyOptions{Roots: []Certificate{certOf(tc.root)}, HostName: tc.host, Depth: tc.depth, Purpose: tc.purpose})
			if want := tc.expected(chain); !sameErrors(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}

func sameErrors(a, b []Error) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func TestVerifyEdgeCases(t *testing.T) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Root", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "a.test", DNSNames: []string{"a.test"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}})
	roots := []Certificate{certOf(root)}

	if got := VerifyChain(nil, VerifyOptions{Roots: roots}); len(got) != 1 || got[0].Code != UnspecifiedError {
		t.Errorf("empty chain: got %v, want [UnspecifiedError]", got)
	}
	if got := VerifyChain([]Certificate{certOf(leaf)}, VerifyOptions{Roots: roots, HostName: "127.0.0.1"}); len(got) != 0 {
		t.Errorf("IP SAN: got %v", got)
	}
	// A trusted self-signed leaf is fine.
	self := pki.MustSelfSigned(pki.Spec{CommonName: "self.test", DNSNames: []string{"self.test"}})
	if got := VerifyChain([]Certificate{certOf(self)}, VerifyOptions{Roots: []Certificate{certOf(self)}, HostName: "self.test"}); len(got) != 0 {
		t.Errorf("trusted self-signed leaf: got %v", got)
	}
	// Expired anchors are dropped: the chain then has no trusted issuer.
	oldRoot := pki.MustSelfSigned(pki.Spec{CommonName: "Old Root", IsCA: true, NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-time.Hour)})
	oldLeaf := oldRoot.MustIssue(pki.Spec{CommonName: "b.test", DNSNames: []string{"b.test"}})
	got := VerifyChain([]Certificate{certOf(oldLeaf)}, VerifyOptions{Roots: []Certificate{certOf(oldRoot)}, HostName: "b.test"})
	if len(got) == 0 || got[0].Code != UnableToGetLocalIssuerCertificate {
		t.Errorf("expired anchor: got %v", got)
	}
	// The verification time is honoured.
	got = VerifyChain([]Certificate{certOf(leaf)}, VerifyOptions{Roots: roots, HostName: "a.test", Time: time.Now().Add(72 * time.Hour)})
	if !errors.Is(&VerificationError{Errors: got}, CertificateExpired) {
		t.Errorf("future time: got %v", got)
	}
	// Qt accepts a CN-only certificate; crypto/x509 does not, and the
	// invariant wins, in MatchesHostname as in the verifier.
	cnOnly := root.MustIssue(pki.Spec{CommonName: "cn-only.test"})
	if !qtMatchesHostname(certOf(cnOnly), "cn-only.test") || MatchesHostname(certOf(cnOnly), "cn-only.test") {
		t.Error("Qt's rules match the common name; MatchesHostname must not")
	}
	got = VerifyChain([]Certificate{certOf(cnOnly)}, VerifyOptions{Roots: roots, HostName: "cn-only.test"})
	if len(got) != 1 || got[0].Code != HostNameMismatch {
		t.Errorf("CN-only certificate: got %v, want [HostNameMismatch]", got)
	}
	// Blacklisted certificates are reported first.
	bl := root.MustIssue(pki.Spec{CommonName: "MD5 Collisions Inc. (http://www.phreedom.org/md5)", Serial: big.NewInt(0x41)})
	if !certOf(bl).IsBlacklisted() {
		t.Fatal("IsBlacklisted: want true for serial 41 / MD5 Collisions Inc.")
	}
	got = VerifyChain([]Certificate{certOf(bl)}, VerifyOptions{Roots: roots})
	if len(got) == 0 || got[0].Code != CertificateBlacklisted {
		t.Errorf("blacklisted: got %v", got)
	}
}

// TestVerifyNeverAcceptsWhatX509Rejects checks the cross-check on its own:
// an unexplained crypto/x509 rejection (here a name constraint the
// enumeration does not model) still yields an error.
func TestVerifyNeverAcceptsWhatX509Rejects(t *testing.T) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Root", IsCA: true})
	tmpl := *root.Cert
	_ = tmpl
	constrained := root.MustIssue(pki.Spec{CommonName: "Constrained", IsCA: true})
	leaf := constrained.MustIssue(pki.Spec{CommonName: "x.test", DNSNames: []string{"x.test"}})
	// Re-issue the intermediate with a name constraint that excludes x.test.
	ncInter := mustConstrained(t, root, constrained, "x.test")
	got := VerifyChain([]Certificate{certOf(leaf), NewCertificate(ncInter)}, VerifyOptions{Roots: []Certificate{certOf(root)}, HostName: "x.test"})
	if len(got) == 0 {
		t.Fatal("a chain crypto/x509 rejects was accepted")
	}
	if got[len(got)-1].Code != UnspecifiedError {
		t.Errorf("got %v, want a trailing UnspecifiedError", got)
	}
}
