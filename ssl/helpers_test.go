package ssl

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"net"
	"sync"
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

// serveLoopback listens on 127.0.0.1 and runs handle for each connection
// until the test ends; it returns the port.
func serveLoopback(t *testing.T, handle func(net.Conn)) uint16 {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				handle(c)
			}()
		}
	}()
	return uint16(l.Addr().(*net.TCPAddr).Port)
}

// acceptAll runs serve for every socket srv accepts, closing each after.
func acceptAll(srv *Server, serve func(*Socket)) {
	go func() {
		for {
			c, err := srv.Accept()
			if err != nil {
				return
			}
			go func() {
				s := c.(*Socket)
				defer s.Close()
				serve(s)
			}()
		}
	}()
}
