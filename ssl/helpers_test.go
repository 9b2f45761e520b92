package ssl

import (
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// mustConstrained re-signs tmpl's certificate under issuer with an excluded
// DNS name constraint, keeping its key, so that children of tmpl chain to it.
func mustConstrained(t *testing.T, issuer, tmpl *pki.Cert, excluded string) *x509.Certificate {
	t.Helper()
	c := *tmpl.Cert
	c.ExcludedDNSDomains = []string{excluded}
	der, err := x509.CreateCertificate(rand.Reader, &c, issuer.Cert, tmpl.Key.Public(), issuer.Key)
	if err != nil {
		t.Fatal(err)
	}
	x, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return x
}
