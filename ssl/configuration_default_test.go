package ssl

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// withSystemRoots makes roots the system's trust anchors for the test, and
// restores the real ones and the default configuration afterwards.
func withSystemRoots(t *testing.T, roots ...*pki.Cert) {
	t.Helper()
	oldRoots, oldDefault := systemCAs, DefaultConfiguration()
	systemCAs = func() []Certificate { return certsOf(roots) }
	t.Cleanup(func() {
		systemCAs = oldRoots
		SetDefaultConfiguration(oldDefault)
	})
}

// TestAddDefaultCaCertificates: adding default CA certificates keeps the
// system's trust anchors in use for sockets made afterwards, as Qt 6.4.2
// does (measured with a private /etc/ssl/certs, docs/qt-measured-verification.md
// §4) and CopperSpice documents; SetCaCertificates still replaces them.
func TestAddDefaultCaCertificates(t *testing.T) {
	checkNoLeaks(t)
	sysRoot := pki.MustSelfSigned(pki.Spec{CommonName: "Pretend System Root", IsCA: true})
	added := pki.MustSelfSigned(pki.Spec{CommonName: "Added Root", IsCA: true})
	fromFile := pki.MustSelfSigned(pki.Spec{CommonName: "Root From A File", IsCA: true})
	stranger := pki.MustSelfSigned(pki.Spec{CommonName: "Stranger Root", IsCA: true})
	leafOf := func(r *pki.Cert) *pki.Cert {
		return r.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	}
	sysLeaf, addedLeaf, fileLeaf, strangerLeaf := leafOf(sysRoot), leafOf(added), leafOf(fromFile), leafOf(stranger)
	withSystemRoots(t, sysRoot)
	dir := t.TempDir()
	path := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(path, fromFile.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}

	// Verify (QSslCertificate::verify) uses the default configuration's anchors.
	trusted := func(leaf *pki.Cert) bool {
		return len(Verify([]Certificate{certOf(leaf)}, "localhost")) == 0
	}
	if !trusted(sysLeaf) || trusted(addedLeaf) {
		t.Fatal("before adding: only the system root is trusted")
	}
	AddDefaultCaCertificate(certOf(added))
	AddDefaultCaCertificate(certOf(added)) // already there: not added twice
	if AddDefaultCaCertificatesFromPath(filepath.Join(dir, "missing.pem"), Pem, FixedString) {
		t.Error("a path loading nothing must report false")
	}
	if !AddDefaultCaCertificatesFromPath(path, Pem, FixedString) {
		t.Error("the path overload loaded nothing")
	}
	AddDefaultCaCertificates() // nothing: no change
	d := DefaultConfiguration()
	if !d.AllowsOnDemandRoots() || len(d.CaCertificates()) != 2 {
		t.Fatalf("default configuration: on demand %v, CA list %d (want true, 2)", d.AllowsOnDemandRoots(), len(d.CaCertificates()))
	}
	for _, tc := range []struct {
		leaf *pki.Cert
		want bool
	}{{sysLeaf, true}, {addedLeaf, true}, {fileLeaf, true}, {strangerLeaf, false}} {
		if got := trusted(tc.leaf); got != tc.want {
			t.Errorf("Verify, leaf under %s: trusted %v, want %v", tc.leaf.Cert.Issuer.CommonName, got, tc.want)
		}
	}

	// A socket made now copies the default and trusts the same anchors in a
	// real handshake, on every backend.
	runModes(t, func(t *testing.T, m backendMode) {
		for _, tc := range []struct {
			leaf *pki.Cert
			want bool
		}{{sysLeaf, true}, {addedLeaf, true}, {strangerLeaf, false}} {
			scfg := m.apply(Configuration{})
			scfg.SetLocalCertificate(certOf(tc.leaf))
			scfg.SetPrivateKey(NewKey(tc.leaf.Key))
			_, _, cOK, _ := handshakePair(t, m.apply(NewSocket().SslConfiguration()), scfg, nil)
			if cOK != tc.want {
				t.Errorf("socket, leaf under %s: encrypted %v, want %v", tc.leaf.Cert.Issuer.CommonName, cOK, tc.want)
			}
		}
	})

	// SetCaCertificates on the default replaces the system roots; adding
	// afterwards does not bring them back.
	d.SetCaCertificates([]Certificate{certOf(added)})
	SetDefaultConfiguration(d)
	AddDefaultCaCertificates(certOf(fromFile))
	if trusted(sysLeaf) || !trusted(addedLeaf) || !trusted(fileLeaf) {
		t.Error("after SetCaCertificates: only the listed anchors are trusted")
	}
}
