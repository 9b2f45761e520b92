package ssl

import (
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// TestVerifyCache: a clean result is reused only for identical inputs and
// inside the certificates' validity; errors are never cached.
func TestVerifyCache(t *testing.T) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Cache Root", IsCA: true})
	other := pki.MustSelfSigned(pki.Spec{CommonName: "Other Root", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "c.test", DNSNames: []string{"c.test"}, NotAfter: time.Now().Add(2 * time.Hour)})
	chain := []Certificate{certOf(leaf)}
	roots := []Certificate{certOf(root)}
	if errs := VerifyChain(chain, VerifyOptions{Roots: roots, HostName: "c.test"}); len(errs) != 0 {
		t.Fatalf("first verification: %v", errs)
	}
	v := newVerification(chain, VerifyOptions{Roots: roots, HostName: "c.test"})
	if !cleanChains.lookup(v) {
		t.Fatal("a clean result was not cached")
	}
	for name, opts := range map[string]VerifyOptions{
		"other host":    {Roots: roots, HostName: "d.test"},
		"other roots":   {Roots: []Certificate{certOf(other)}, HostName: "c.test"},
		"later time":    {Roots: roots, HostName: "c.test", Time: time.Now().Add(3 * time.Hour)},
		"other purpose": {Roots: roots, HostName: "c.test", Purpose: PurposeClientAuth},
	} {
		if errs := VerifyChain(chain, opts); len(errs) == 0 && name != "other purpose" {
			t.Errorf("%s: accepted (a cached result leaked?)", name)
		}
	}
	// pki leaves carry serverAuth and clientAuth: the other purpose is clean too, but
	// it must have been computed, not looked up under the serverAuth key.
	if newVerification(chain, VerifyOptions{Roots: roots, HostName: "c.test", Purpose: PurposeClientAuth}).cacheKey() == v.cacheKey() {
		t.Error("purpose is not part of the key")
	}
}
