package ssl_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// dialTestServer serves a certificate for "service.internal" only on
// 127.0.0.1 and reports the SNI name each accepted socket received.
func dialTestServer(t *testing.T) (addr string, roots []ssl.Certificate, sni <-chan string) {
	t.Helper()
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Dial Test CA", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "service.internal", DNSNames: []string{"service.internal"}})
	var cfg ssl.Configuration
	cfg.SetLocalCertificate(ssl.NewCertificate(leaf.Cert))
	cfg.SetPrivateKey(ssl.NewKey(leaf.Key))
	srv, err := ssl.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	names := make(chan string, 16)
	go func() {
		for {
			c, err := srv.Accept()
			if err != nil {
				return
			}
			s := c.(*ssl.Socket)
			select {
			case names <- s.ConnectionState().ServerName:
			default:
			}
			go func() {
				defer s.Close()
				s.Write([]byte("hello\n"))
				io.Copy(io.Discard, s)
			}()
		}
	}()
	return srv.Addr().String(), []ssl.Certificate{ssl.NewCertificate(root.Cert)}, names
}

// TestDialerPeerVerifyName: the tls.Config.ServerName equivalent checks the
// certificate against the given name and sends it as SNI, also when the
// address is an IP literal; without it, the certificate fails for the IP.
func TestDialerPeerVerifyName(t *testing.T) {
	addr, roots, sni := dialTestServer(t)
	var cfg ssl.Configuration
	cfg.SetCaCertificates(roots)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if _, err := ssl.Dial(ctx, addr, cfg); !errors.Is(err, ssl.HostNameMismatch) {
		t.Fatalf("Dial to the IP without a verify name: %v, want HostNameMismatch", err)
	}

	d := ssl.Dialer{Config: cfg, PeerVerifyName: "service.internal"}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("Dialer with PeerVerifyName: %v", err)
	}
	defer conn.Close()
	s := conn.(*ssl.Socket)
	if got := s.PeerVerifyName(); got != "service.internal" {
		t.Errorf("PeerVerifyName() = %q", got)
	}
	if !s.IsEncrypted() {
		t.Error("not encrypted")
	}
	if got := <-sni; got != "service.internal" {
		t.Errorf("server saw SNI %q, want service.internal", got)
	}
	line := make([]byte, 6)
	if _, err := io.ReadFull(conn, line); err != nil || string(line) != "hello\n" {
		t.Errorf("read %q, %v", line, err)
	}
}

// TestDialerNetworks: "tcp4" and "tcp6" keep to their family; other
// networks are refused before any connection.
func TestDialerNetworks(t *testing.T) {
	addr, roots, _ := dialTestServer(t)
	_, port, _ := net.SplitHostPort(addr)
	var cfg ssl.Configuration
	cfg.SetCaCertificates(roots)
	d := ssl.Dialer{Config: cfg, PeerVerifyName: "service.internal", Timeout: 10 * time.Second}

	conn, err := d.Dial("tcp4", net.JoinHostPort("localhost", port))
	if err != nil {
		t.Fatalf("tcp4 to localhost: %v", err)
	}
	if ra := conn.RemoteAddr().(*net.TCPAddr); ra.IP.To4() == nil {
		t.Errorf("tcp4 connected to %v", ra)
	}
	conn.Close()

	if _, err := d.Dial("tcp6", addr); err == nil {
		t.Error("tcp6 to an IPv4 literal connected")
	}
	var unknown net.UnknownNetworkError
	if _, err := d.Dial("udp", addr); !errors.As(err, &unknown) {
		t.Errorf("udp: %v, want net.UnknownNetworkError", err)
	}
	if _, err := d.Dial("tcp", "127.0.0.1"); err == nil {
		t.Error("an address without a port was accepted")
	}
}

// TestDialerTimeout: a server that never answers the handshake fails the
// dial within the Dialer's timeout, not never.
func TestDialerTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	held := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			held <- c // accepted, never answered
		}
	}()
	d := ssl.Dialer{Timeout: 200 * time.Millisecond}
	done := make(chan error, 1)
	go func() { _, err := d.Dial("tcp", l.Addr().String()); done <- err }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("dial to a silent server succeeded")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Dialer.Timeout did not end the dial")
	}
	select {
	case c := <-held:
		c.Close()
	default:
	}
}

// TestDialerHTTPTransport: DialContext plugs into net/http's transport.
func TestDialerHTTPTransport(t *testing.T) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Dial Test CA", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	var scfg ssl.Configuration
	scfg.SetLocalCertificate(ssl.NewCertificate(leaf.Cert))
	scfg.SetPrivateKey(ssl.NewKey(leaf.Key))
	srv, err := ssl.Listen("tcp", "127.0.0.1:0", scfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok "+r.Host)
	})}
	go ssl.ServeHTTP(hs, srv)
	defer hs.Close()

	var cfg ssl.Configuration
	cfg.SetCaCertificates([]ssl.Certificate{ssl.NewCertificate(root.Cert)})
	d := &ssl.Dialer{Config: cfg}
	tr := &http.Transport{DialTLSContext: d.DialContext}
	defer tr.CloseIdleConnections()
	port := strconv.Itoa(srv.Addr().(*net.TCPAddr).Port)
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://localhost:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if string(body) != "ok localhost:"+port {
		t.Errorf("body %q", body)
	}
}
