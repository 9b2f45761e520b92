package ssl

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
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

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func mustDHDer(t *testing.T, hexP string, g int64) []byte {
	t.Helper()
	p, ok := new(big.Int).SetString(hexP, 16)
	if !ok {
		t.Fatal("bad hex")
	}
	der, err := asn1.Marshal(dhParams{P: p, G: big.NewInt(g)})
	if err != nil {
		t.Fatal(err)
	}
	return der
}
