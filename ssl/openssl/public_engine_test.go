//go:build cgo && linux

package openssl_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
	"github.com/sslsocket/sslsocket/ssl/openssl"
)

// The public ssl.Engine on this backend, against itself and against the
// go backend, through package ssl's endpoint (Qt's policy and events).

type ids struct {
	root, server, client *pki.Cert
}

func newIDs() *ids {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Engine Interop Root", IsCA: true})
	return &ids{
		root:   root,
		server: root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1")}}),
		client: root.MustIssue(pki.Spec{CommonName: "client"}),
	}
}

func cert(c *pki.Cert) ssl.Certificate { return ssl.NewCertificate(c.Cert) }

func (p *ids) clientConfig(backend string, proto ssl.Protocol) ssl.Configuration {
	var c ssl.Configuration
	c.SetBackend(backend)
	c.SetProtocol(proto)
	c.SetCaCertificates([]ssl.Certificate{cert(p.root)})
	return c
}

func (p *ids) serverConfig(backend string, identity ...*pki.Cert) ssl.Configuration {
	var c ssl.Configuration
	c.SetBackend(backend)
	var chain []ssl.Certificate
	for _, x := range identity {
		chain = append(chain, cert(x))
	}
	c.SetLocalCertificateChain(chain)
	c.SetPrivateKey(ssl.NewKey(identity[0].Key))
	c.SetCaCertificates([]ssl.Certificate{cert(p.root)})
	return c
}

func engines(t testing.TB, ccfg, scfg ssl.Configuration) (c, s *ssl.Engine) {
	t.Helper()
	c, err := ssl.NewClientEngine(ccfg, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	s, err = ssl.NewServerEngine(scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

var moveBuf = make([]byte, ssl.MaxPendingOutput)

// move carries from's output to to, chunk bytes at a time (0: at once).
func move(t testing.TB, from, to *ssl.Engine, chunk int) bool {
	moved := false
	for {
		n := from.TakeOutput(moveBuf)
		if n == 0 {
			return moved
		}
		moved = true
		for off := 0; off < n; {
			end := n
			if chunk > 0 {
				end = min(n, off+chunk)
			}
			if err := to.Feed(moveBuf[off:end]); err != nil {
				t.Fatal(err)
			}
			off = end
		}
	}
}

func handshake(t testing.TB, c, s *ssl.Engine, chunk int) (cerr, serr error) {
	for range 1000000 {
		cerr, serr = c.Handshake(), s.Handshake()
		moved := move(t, c, s, chunk)
		moved = move(t, s, c, chunk) || moved
		if !moved {
			return cerr, serr
		}
	}
	t.Fatal("the handshake does not converge")
	return nil, nil
}

// pipe writes data on a and reads it on b, moving chunk bytes at a time.
func pipe(t testing.TB, a, b *ssl.Engine, data []byte, chunk int) []byte {
	var got []byte
	buf := make([]byte, 16<<10)
	for range 1000000 {
		if len(data) > 0 {
			n, err := a.Write(data)
			data = data[n:]
			if err != nil && !errors.Is(err, ssl.ErrWantWrite) {
				t.Fatalf("write: %v", err)
			}
		}
		move(t, a, b, chunk)
		for {
			n, err := b.Read(buf)
			got = append(got, buf[:n]...)
			if errors.Is(err, ssl.ErrWantRead) {
				break
			}
			if err != nil {
				t.Fatalf("read: %v", err)
			}
		}
		move(t, b, a, chunk)
		if len(data) == 0 && a.EncryptedBytesToWrite() == 0 && b.EncryptedBytesAvailable() == 0 {
			return got
		}
	}
	t.Fatal("no progress")
	return nil
}

func TestAvailableAndListedFirst(t *testing.T) {
	if !openssl.Available() {
		t.Fatalf("libssl 3 must load for these tests: %v", openssl.LoadError())
	}
	if got := ssl.AvailableBackends(); !slices.Equal(got, []string{"openssl", "go"}) {
		t.Errorf("AvailableBackends = %v", got)
	}
	if ssl.ActiveBackend() != "go" {
		t.Errorf("the default active backend changed to %q", ssl.ActiveBackend())
	}
	for _, f := range []ssl.SupportedFeature{ssl.FeaturePsk, ssl.FeatureAlerts, ssl.FeatureOcsp, ssl.FeatureSessionTicket,
		ssl.FeatureClientSideAlpn, ssl.FeatureServerSideAlpn, ssl.FeatureCertificateVerification} {
		if !ssl.IsFeatureSupported(f, "openssl") {
			t.Errorf("feature %v missing", f)
		}
	}
	if !ssl.IsProtocolSupported(ssl.TlsV1_3, "openssl") || ssl.IsClassImplemented(ssl.ClassDtls, "openssl") {
		t.Error("protocols/classes")
	}
}

func TestEnginesAcrossBackends(t *testing.T) {
	p := newIDs()
	for _, cb := range []string{"openssl", "go"} {
		for _, sb := range []string{"openssl", "go"} {
			for _, proto := range []ssl.Protocol{ssl.TlsV1_2, ssl.TlsV1_3} {
				for _, chunk := range []int{0, 1} {
					name := fmt.Sprintf("%s-client/%s-server/%v/chunk%d", cb, sb, proto, chunk)
					t.Run(name, func(t *testing.T) {
						ccfg := p.clientConfig(cb, proto)
						ccfg.SetLocalCertificate(cert(p.client))
						ccfg.SetPrivateKey(ssl.NewKey(p.client.Key))
						scfg := p.serverConfig(sb, p.server)
						scfg.SetPeerVerifyMode(ssl.VerifyPeer)
						c, s := engines(t, ccfg, scfg)
						var encrypted int
						c.OnEncrypted(func() { encrypted++ })
						s.OnEncrypted(func() { encrypted++ })
						if cerr, serr := handshake(t, c, s, chunk); cerr != nil || serr != nil {
							t.Fatalf("client %v, server %v", cerr, serr)
						}
						if encrypted != 2 || c.SessionProtocol() != proto || s.SessionProtocol() != proto {
							t.Errorf("encrypted %d, protocols %v %v", encrypted, c.SessionProtocol(), s.SessionProtocol())
						}
						if !c.SessionCipher().Equal(s.SessionCipher()) || c.SessionCipher().IsNull() {
							t.Errorf("ciphers %v / %v", c.SessionCipher(), s.SessionCipher())
						}
						if !s.PeerCertificate().Equal(cert(p.client)) || !c.PeerCertificate().Equal(cert(p.server)) {
							t.Error("peer certificates")
						}
						msg := bytes.Repeat([]byte("openssl and go "), 3000)
						if got := pipe(t, c, s, msg, chunk); !bytes.Equal(got, msg) {
							t.Errorf("client→server %d bytes", len(got))
						}
						if got := pipe(t, s, c, msg[:1000], chunk); !bytes.Equal(got, msg[:1000]) {
							t.Errorf("server→client %d bytes", len(got))
						}
					})
				}
			}
		}
	}
}

// TestSameErrorsAsTheGoBackend: for the same defective chains, both
// backends report the same sslErrors (package ssl's verifier).
func TestSameErrorsAsTheGoBackend(t *testing.T) {
	p := newIDs()
	inter := p.root.MustIssue(pki.Spec{CommonName: "Intermediate", IsCA: true})
	cases := map[string][]*pki.Cert{
		"wrong host":  {p.root.MustIssue(pki.Spec{CommonName: "wrong", DNSNames: []string{"wrong.example.invalid"}})},
		"expired":     {p.root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})},
		"self-signed": {pki.MustSelfSigned(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})},
		"leaf only":   {inter.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})},
	}
	for name, chain := range cases {
		t.Run(name, func(t *testing.T) {
			var lists [][]ssl.Error
			for _, cb := range []string{"go", "openssl"} {
				c, s := engines(t, p.clientConfig(cb, ssl.SecureProtocols), p.serverConfig("go", chain...))
				var got []ssl.Error
				c.OnSslErrors(func(errs []ssl.Error) { got = errs })
				var sent []ssl.AlertType
				c.OnAlertSent(func(_ ssl.AlertLevel, a ssl.AlertType, _ string) { sent = append(sent, a) })
				cerr, _ := handshake(t, c, s, 0)
				var ve *ssl.VerificationError
				if !errors.As(cerr, &ve) || len(got) == 0 {
					t.Fatalf("%s: %v, sslErrors %v", cb, cerr, got)
				}
				// The openssl backend sends the alert the error names (Qt's,
				// via VerificationError.AlertType).
				if cb == "openssl" && (len(sent) != 1 || sent[0] != ve.AlertType()) {
					t.Errorf("openssl alerts sent %v, want [%v]", sent, ve.AlertType())
				}
				lists = append(lists, got)
			}
			if len(lists[0]) != len(lists[1]) {
				t.Fatalf("go %v, openssl %v", lists[0], lists[1])
			}
			for i := range lists[0] {
				if !lists[0][i].Equal(lists[1][i]) {
					t.Errorf("error %d: go %v, openssl %v", i, lists[0][i], lists[1][i])
				}
			}
		})
	}
}

// TestQtAlertsThroughEngine: the alerts Qt reports on OpenSSL, as events.
func TestQtAlertsThroughEngine(t *testing.T) {
	p := newIDs()
	type ev struct {
		level ssl.AlertLevel
		typ   ssl.AlertType
		desc  string
	}
	ccfg := p.clientConfig("openssl", ssl.TlsV1_3)
	scfg := p.serverConfig("openssl", p.server)
	scfg.SetProtocol(ssl.TlsV1_2)
	c, s := engines(t, ccfg, scfg)
	var sent, received []ev
	s.OnAlertSent(func(l ssl.AlertLevel, a ssl.AlertType, d string) { sent = append(sent, ev{l, a, d}) })
	c.OnAlertReceived(func(l ssl.AlertLevel, a ssl.AlertType, d string) { received = append(received, ev{l, a, d}) })
	handshake(t, c, s, 0)
	want := ev{ssl.AlertLevelFatal, ssl.AlertProtocolVersion, "protocol version"}
	if len(sent) != 1 || sent[0] != want || len(received) != 1 || received[0] != want {
		t.Errorf("server sent %v, client received %v", sent, received)
	}
	// close_notify both ways after a good handshake.
	c, s = engines(t, p.clientConfig("openssl", ssl.TlsV1_3), p.serverConfig("openssl", p.server))
	var cn []ev
	s.OnAlertReceived(func(l ssl.AlertLevel, a ssl.AlertType, d string) { cn = append(cn, ev{l, a, d}) })
	if cerr, serr := handshake(t, c, s, 0); cerr != nil || serr != nil {
		t.Fatal(cerr, serr)
	}
	if err := c.Shutdown(); err != nil {
		t.Fatal(err)
	}
	move(t, c, s, 0)
	s.Read(make([]byte, 10))
	if len(cn) != 1 || cn[0] != (ev{ssl.AlertLevelWarning, ssl.AlertCloseNotify, "close notify"}) {
		t.Errorf("server received %v", cn)
	}
}

// TestPSKThroughEngine: Qt's PSK exchange with the public events.
func TestPSKThroughEngine(t *testing.T) {
	var ccfg, scfg ssl.Configuration
	for _, c := range []*ssl.Configuration{&ccfg, &scfg} {
		c.SetBackend("openssl")
		c.SetProtocol(ssl.TlsV1_2)
	}
	ccfg.SetPeerVerifyMode(ssl.VerifyNone)
	scfg.SetPreSharedKeyIdentityHint([]byte("H"))
	c, s := engines(t, ccfg, scfg)
	key := bytes.Repeat([]byte{1}, 32)
	var hint, identity string
	c.OnPreSharedKeyAuthenticationRequired(func(a *ssl.PreSharedKeyAuthenticator) {
		hint = string(a.IdentityHint())
		a.SetIdentity([]byte("client1"))
		a.SetPreSharedKey(key)
	})
	s.OnPreSharedKeyAuthenticationRequired(func(a *ssl.PreSharedKeyAuthenticator) {
		identity = string(a.Identity())
		a.SetPreSharedKey(key)
	})
	if cerr, serr := handshake(t, c, s, 0); cerr != nil || serr != nil {
		t.Fatal(cerr, serr)
	}
	if hint != "H" || identity != "client1" {
		t.Errorf("hint %q identity %q", hint, identity)
	}
	if got := pipe(t, c, s, []byte("psk"), 0); string(got) != "psk" {
		t.Errorf("%q", got)
	}
}
