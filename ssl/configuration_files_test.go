package ssl

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"golang.org/x/crypto/ocsp"
)

// TestDialRefusedKeepsCause: a refused Dial matches syscall.ECONNREFUSED and
// ConnectionRefusedError, names the address, and its *SocketErr unwraps.
func TestDialRefusedKeepsCause(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = Dial(ctx, addr, DefaultConfiguration())
	if !errors.Is(err, syscall.ECONNREFUSED) || !errors.Is(err, ConnectionRefusedError) {
		t.Fatalf("Dial to a closed port: %v; want errors.Is ECONNREFUSED and ConnectionRefusedError", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("%q does not name the address %s", err, addr)
	}
	var se *SocketErr
	var op *net.OpError
	if !errors.As(err, &se) || se.Unwrap() == nil || !errors.As(err, &op) {
		t.Errorf("%v: want a *SocketErr wrapping a *net.OpError", err)
	}
	// Host not found keeps the resolver's error. (A label longer than 63
	// bytes: the resolver refuses it without asking a DNS server.)
	_, err = Dial(ctx, strings.Repeat("x", 64)+".invalid:443", DefaultConfiguration())
	var dns *net.DNSError
	if !errors.Is(err, HostNotFoundError) || !errors.As(err, &dns) {
		t.Errorf("unknown host: %v; want HostNotFoundError wrapping a *net.DNSError", err)
	}
}

// TestVerificationErrorNamesEvery: Error() lists every problem; the
// socket's ErrorString keeps Qt's first message.
func TestVerificationErrorNamesEvery(t *testing.T) {
	a := NewCertificate(pki.MustSelfSigned(pki.Spec{CommonName: "a.test"}).Cert)
	ve := &VerificationError{Errors: []Error{NewError(HostNameMismatch, a), NewError(CertificateExpired, a), NewError(NoPeerCertificate, Certificate{})}}
	msg := ve.Error()
	for _, want := range []string{"3 errors", "HostNameMismatch", HostNameMismatch.Message(), "CertificateExpired", "NoPeerCertificate", "a.test"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if one := (&VerificationError{Errors: ve.Errors[:1]}).Error(); !strings.Contains(one, HostNameMismatch.Message()) || strings.Contains(one, "Expired") {
		t.Errorf("one error: %q", one)
	}
	if ve.qtErrorString() != HostNameMismatch.Message() {
		t.Errorf("qtErrorString = %q", ve.qtErrorString())
	}
}

// staple signs an OCSP response about leaf with issuer.
func staple(t *testing.T, issuer, leaf *pki.Cert, next time.Time) []byte {
	t.Helper()
	der, err := ocsp.CreateResponse(issuer.Cert, issuer.Cert, ocsp.Response{Status: ocsp.Good, SerialNumber: leaf.Cert.SerialNumber,
		ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: next}, issuer.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestListenAndDialValidate: a configuration that could only fail inside
// handshakes fails at once, with ErrInvalidUserData, before any connection.
func TestListenAndDialValidate(t *testing.T) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "V Root", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	other := root.MustIssue(pki.Spec{CommonName: "other"})
	good := func() Configuration {
		var c Configuration
		c.SetLocalCertificateChain([]Certificate{NewCertificate(leaf.Cert), NewCertificate(root.Cert)})
		c.SetPrivateKey(NewKey(leaf.Key))
		return c
	}
	tests := []struct {
		name   string
		mutate func(*Configuration)
	}{
		{"no certificate", func(c *Configuration) { *c = Configuration{} }},
		{"key of another certificate", func(c *Configuration) { c.SetPrivateKey(NewKey(other.Key)) }},
		{"certificate without key", func(c *Configuration) { c.SetPrivateKey(Key{}) }},
		{"public key only", func(c *Configuration) { c.SetPrivateKey(NewKey(leaf.Key).Public()) }},
		{"garbage OCSP staple", func(c *Configuration) { c.SetOcspStaple([]byte("garbage")) }},
		{"OCSP staple about another certificate", func(c *Configuration) { c.SetOcspStaple(staple(t, root, other, time.Now().Add(time.Hour))) }},
		{"expired OCSP staple", func(c *Configuration) { c.SetOcspStaple(staple(t, root, leaf, time.Now().Add(-time.Hour))) }},
		{"server-side OCSP stapling request", func(c *Configuration) { c.SetOcspStaplingEnabled(true) }},
		{"unsupported protocol", func(c *Configuration) { c.SetProtocol(UnknownProtocol) }},
	}
	for _, tc := range tests {
		cfg := good()
		tc.mutate(&cfg)
		srv, err := Listen("tcp", "127.0.0.1:0", cfg)
		if err == nil {
			srv.Close()
		}
		if !errors.Is(err, ErrInvalidUserData) {
			t.Errorf("Listen with %s: %v, want ErrInvalidUserData", tc.name, err)
		}
	}
	cfg := good()
	cfg.SetOcspStaple(staple(t, root, leaf, time.Now().Add(time.Hour)))
	srv, err := Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatalf("Listen with a good configuration and staple: %v", err)
	}
	srv.Close()

	// Dial checks a client certificate the same way; the address is
	// unreachable on purpose: validation must come first.
	client := good()
	client.SetPrivateKey(NewKey(other.Key))
	_, err = Dial(context.Background(), "127.0.0.1:1", client)
	if !errors.Is(err, ErrInvalidUserData) || errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Dial with a mismatched client key: %v, want ErrInvalidUserData before connecting", err)
	}
}

// TestLoadKeyPair loads files, with and without a passphrase.
func TestLoadKeyPair(t *testing.T) {
	dir := t.TempDir()
	root := pki.MustSelfSigned(pki.Spec{CommonName: "F Root", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "files.test"})
	other := root.MustIssue(pki.Spec{CommonName: "other.test"})
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	encrypted, err := NewKey(leaf.Key).ToPem([]byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	chain := write("chain.pem", pki.ChainPEM(leaf, root))
	plainKey := write("plain.key", leaf.KeyPEM())
	derKey := write("der.key", NewKey(leaf.Key).ToDer(nil))
	encKey := write("enc.key", encrypted)
	otherKey := write("other.key", other.KeyPEM())
	garbage := write("garbage.pem", []byte("not PEM at all"))

	for _, tc := range []struct {
		cert, key, pass string
		want            error
	}{
		{chain, plainKey, "", nil},
		{chain, derKey, "", nil},
		{chain, encKey, "secret", nil},
		{chain, encKey, "wrong", ErrBadPassphrase},
		{chain, encKey, "", ErrBadPassphrase},
		{chain, otherKey, "", ErrInvalidUserData},
		{garbage, plainKey, "", ErrMalformed},
		{chain, garbage, "", ErrMalformed},
		{filepath.Join(dir, "missing.pem"), plainKey, "", os.ErrNotExist},
	} {
		var c Configuration
		err := c.LoadKeyPair(tc.cert, tc.key, []byte(tc.pass))
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s + %s: %v", filepath.Base(tc.cert), filepath.Base(tc.key), err)
		case tc.want == nil:
			if got := c.LocalCertificateChain(); len(got) != 2 || !got[0].X509().Equal(leaf.Cert) || c.PrivateKey().IsNull() {
				t.Errorf("%s + %s: chain %d, key null %v", tc.cert, tc.key, len(got), c.PrivateKey().IsNull())
			}
		case !errors.Is(err, tc.want):
			t.Errorf("%s + %s (%q): %v, want %v", filepath.Base(tc.cert), filepath.Base(tc.key), tc.pass, err, tc.want)
		case len(c.LocalCertificateChain()) != 0:
			t.Errorf("%s + %s: failed but changed the configuration", tc.cert, tc.key)
		}
	}
	var c Configuration
	if err := c.SetCaCertificatesFile(chain); err != nil || len(c.CaCertificates()) != 2 {
		t.Errorf("SetCaCertificatesFile: %v, %d", err, len(c.CaCertificates()))
	}
	if err := c.SetLocalCertificateChainFile(chain); err != nil || len(c.LocalCertificateChain()) != 2 {
		t.Errorf("SetLocalCertificateChainFile: %v", err)
	}
	if err := c.SetPrivateKeyFile(encKey, []byte("secret")); err != nil || !c.PrivateKey().Equal(NewKey(leaf.Key)) {
		t.Errorf("SetPrivateKeyFile: %v", err)
	}
	if err := c.SetOcspStapleFile(garbage); !errors.Is(err, ErrInvalidUserData) || len(c.OcspStaple()) != 0 {
		t.Errorf("SetOcspStapleFile(garbage): %v", err)
	}
	good := write("staple.der", staple(t, root, leaf, time.Now().Add(time.Hour)))
	if err := c.SetOcspStapleFile(good); err != nil || len(c.OcspStaple()) == 0 {
		t.Errorf("SetOcspStapleFile(good): %v", err)
	}
}

// TestKeyLogWriter: the secrets of a handshake reach the writer in NSS
// format, for both ends; nothing is logged without one.
func TestKeyLogWriter(t *testing.T) {
	p := newHTTPPKI()
	var serverLog, clientLog syncBuffer
	scfg := p.server()
	scfg.SetKeyLogWriter(&serverLog)
	srv, err := Listen("tcp", "127.0.0.1:0", scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	acceptAll(srv, func(s *Socket) { s.Write([]byte("x")); s.WaitForBytesWritten(5 * time.Second) })
	ccfg := p.client()
	ccfg.SetKeyLogWriter(&clientLog)
	_, port, _ := net.SplitHostPort(srv.Addr().String())
	c, err := Dial(context.Background(), "localhost:"+port, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	c.Read(make([]byte, 1))
	c.Close()
	for who, b := range map[string]*syncBuffer{"client": &clientLog, "server": &serverLog} {
		text := b.String()
		if !strings.Contains(text, "CLIENT_HANDSHAKE_TRAFFIC_SECRET ") || !strings.Contains(text, "SERVER_TRAFFIC_SECRET_0 ") {
			t.Errorf("%s key log:\n%s", who, text)
		}
	}
	if (Configuration{}).KeyLogWriter() != nil {
		t.Error("a key log writer by default")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProxyFromEnvironment reads HTTPS_PROXY, ALL_PROXY and NO_PROXY.
func TestProxyFromEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		host string
		want Proxy
		err  bool
	}{
		{nil, "example.com", Proxy{Type: NoProxy}, false},
		{map[string]string{"HTTPS_PROXY": "http://proxy.test:3128"}, "example.com", Proxy{Type: HttpProxy, HostName: "proxy.test", Port: 3128}, false},
		{map[string]string{"https_proxy": "proxy.test"}, "example.com", Proxy{Type: HttpProxy, HostName: "proxy.test", Port: 80}, false},
		{map[string]string{"ALL_PROXY": "socks5://u:p@127.0.0.1"}, "example.com", Proxy{Type: Socks5Proxy, HostName: "127.0.0.1", Port: 1080, User: "u", Password: "p"}, false},
		{map[string]string{"HTTPS_PROXY": "http://a.test:1", "ALL_PROXY": "socks5://b.test:2"}, "example.com", Proxy{Type: HttpProxy, HostName: "a.test", Port: 1}, false},
		{map[string]string{"HTTPS_PROXY": "http://a.test:1", "NO_PROXY": ".example.com"}, "www.example.com", Proxy{Type: NoProxy}, false},
		{map[string]string{"HTTPS_PROXY": "http://a.test:1", "no_proxy": "*"}, "example.com", Proxy{Type: NoProxy}, false},
		{map[string]string{"HTTPS_PROXY": "http://a.test:1"}, "localhost", Proxy{Type: NoProxy}, false},
		{map[string]string{"HTTPS_PROXY": "ftp://a.test:1"}, "example.com", Proxy{}, true},
	} {
		got, err := proxyFromEnv(tc.host, func(k string) string { return tc.env[k] })
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%v for %s: %+v, %v; want %+v (error %v)", tc.env, tc.host, got, err, tc.want, tc.err)
		}
	}
}
