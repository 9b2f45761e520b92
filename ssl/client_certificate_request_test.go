package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// TestClientCertificateWhateverCAsListed: a server whose
// CertificateRequest names CAs that did not issue the client's certificate
// still gets it, as from Qt on OpenSSL (found by BoGo's
// TLS*-Client-ClientAuth-ECDSA: crypto/tls alone silently sends none, and
// the server fails with "certificate required"). The server decides
// whether it trusts the certificate.
func TestClientCertificateWhateverCAsListed(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		other := pki.MustSelfSigned(pki.Spec{CommonName: "Some Other CA", IsCA: true})
		listed := x509.NewCertPool()
		listed.AddCert(other.Cert)
		for _, maxV := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			cli, srv := tcpPair(t)
			gotCert := make(chan int, 1)
			go func() {
				sc := tls.Server(srv, &tls.Config{
					Certificates: []tls.Certificate{{Certificate: [][]byte{p.server.Cert.Raw}, PrivateKey: p.server.Key}},
					ClientAuth:   tls.RequestClientCert,
					ClientCAs:    listed, // sent in the CertificateRequest
					MaxVersion:   maxV,
				})
				if err := sc.Handshake(); err != nil {
					gotCert <- -1
					return
				}
				gotCert <- len(sc.ConnectionState().PeerCertificates)
				buf := make([]byte, 1)
				_, _ = sc.Read(buf) // until the client closes
				sc.Close()
			}()
			cfg := p.clientConfig()
			cfg.SetLocalCertificate(certOf(p.client))
			cfg.SetPrivateKey(NewKey(p.client.Key))
			s := NewSocketFromConn(cli)
			s.SetSslConfiguration(cfg)
			s.SetPeerVerifyName("localhost")
			if err := s.StartClientEncryption(); err != nil {
				t.Fatal(err)
			}
			if !s.WaitForEncrypted(10 * time.Second) {
				t.Fatalf("TLS %x: handshake: %s", maxV, s.ErrorString())
			}
			if n := <-gotCert; n != 1 {
				t.Errorf("TLS %x: the server received %d client certificates, want 1", maxV, n)
			}
			s.Close()
		}
	})
}
