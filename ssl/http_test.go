package ssl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// httpPKI is a root and a localhost leaf for the HTTP tests.
type httpPKI struct{ root, leaf *pki.Cert }

func newHTTPPKI() httpPKI {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "HTTP Root", IsCA: true})
	return httpPKI{root, root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})}
}

func (p httpPKI) server(alpn ...string) Configuration {
	var c Configuration
	c.SetLocalCertificateChain([]Certificate{NewCertificate(p.leaf.Cert)})
	c.SetPrivateKey(NewKey(p.leaf.Key))
	c.SetAllowedNextProtocols(alpn)
	return c
}

func (p httpPKI) client() Configuration {
	var c Configuration
	c.SetCaCertificates([]Certificate{NewCertificate(p.root.Cert)})
	return c
}

// startHTTP serves handler with ServeHTTP over Listen; it returns the
// https URL (host "localhost"), the number of TLS connections accepted so
// far, and the server.
func startHTTP(t *testing.T, cfg Configuration, handler http.Handler) (string, *atomic.Int32, *http.Server) {
	t.Helper()
	l, err := Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var conns atomic.Int32
	l.OnStartedEncryptionHandshake(func(*Socket) { conns.Add(1) })
	srv := &http.Server{Handler: handler, ErrorLog: nil}
	done := make(chan error, 1)
	go func() { done <- ServeHTTP(srv, l) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("ServeHTTP after Close: %v, want http.ErrServerClosed", err)
		}
	})
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return "https://localhost:" + port + "/", &conns, srv
}

// describe answers with what the server saw of the request's TLS session.
var describe = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil {
		fmt.Fprintf(w, "%s no TLS state", r.Proto)
		return
	}
	fmt.Fprintf(w, "%s %s alpn=%q", r.Proto, ProtocolFromVersion(r.TLS.Version), r.TLS.NegotiatedProtocol)
})

func get(t *testing.T, client *http.Client, url string) (string, *http.Response) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), resp
}

// TestHTTPTransportAndServeHTTP is the recipe for net/http: a server with
// ServeHTTP over Listen, a client with HTTPTransport. HTTP/2 where both
// offer h2, HTTP/1.1 otherwise; Request.TLS and Response.TLS set; the
// connection is reused.
func TestHTTPTransportAndServeHTTP(t *testing.T) {
	p := newHTTPPKI()
	for _, tc := range []struct {
		serverALPN []string
		proto      string
		alpn       string
	}{
		{[]string{"h2", "http/1.1"}, "HTTP/2.0", "h2"},
		{[]string{"http/1.1"}, "HTTP/1.1", "http/1.1"},
		{nil, "HTTP/1.1", ""},
	} {
		t.Run(tc.proto+"/"+strings.Join(tc.serverALPN, ","), func(t *testing.T) {
			url, conns, _ := startHTTP(t, p.server(tc.serverALPN...), describe)
			tr := NewHTTPTransport(p.client())
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			for i := 0; i < 3; i++ {
				body, resp := get(t, client, url)
				want := fmt.Sprintf("%s TlsV1_3 alpn=%q", tc.proto, tc.alpn)
				if body != want || resp.Proto != tc.proto {
					t.Errorf("request %d: server saw %q (response %s), want %q", i, body, resp.Proto, want)
				}
				if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 || resp.TLS.NegotiatedProtocol != tc.alpn ||
					len(resp.TLS.PeerCertificates) != 1 || !resp.TLS.PeerCertificates[0].Equal(p.leaf.Cert) {
					t.Errorf("request %d: resp.TLS = %+v", i, resp.TLS)
				}
			}
			if n := conns.Load(); n != 1 {
				t.Errorf("%d TLS connections for 3 requests, want 1 (reuse)", n)
			}
		})
	}
}

// TestHTTPTransportVerifies: the transport refuses an untrusted server
// with every certificate problem, as a Socket does.
func TestHTTPTransportVerifies(t *testing.T) {
	p := newHTTPPKI()
	url, _, _ := startHTTP(t, p.server("h2"), describe)
	client := &http.Client{Transport: NewHTTPTransport(Configuration{})} // system roots only
	_, err := client.Get(url)
	var ve *VerificationError
	if !errors.As(err, &ve) || !errors.Is(err, UnableToGetLocalIssuerCertificate) {
		t.Fatalf("untrusted server: %v, want a *VerificationError", err)
	}
	if !strings.HasPrefix(url, "https://") {
		t.Fatal(url)
	}
	if _, err := client.Get(strings.Replace(url, "https://", "http://", 1)); err == nil {
		t.Error("plain http URL accepted by HTTPTransport")
	}
}

// TestHTTPRecipesWithoutHTTPTransport documents what plain net/http does
// with Sockets: http.Transport with DialTLSContext works for HTTP/1.1 (ALPN
// must not offer h2) but leaves Response.TLS nil; srv.Serve over Listen
// answers an h2 client in HTTP/1.1, which fails (the reason for ServeHTTP).
func TestHTTPRecipesWithoutHTTPTransport(t *testing.T) {
	p := newHTTPPKI()
	url, _, _ := startHTTP(t, p.server("h2", "http/1.1"), describe)
	h1 := &http.Transport{DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		cfg := p.client()
		cfg.SetAllowedNextProtocols([]string{"http/1.1"})
		return Dial(ctx, addr, cfg)
	}}
	defer h1.CloseIdleConnections()
	body, resp := get(t, &http.Client{Transport: h1}, url)
	if body != `HTTP/1.1 TlsV1_3 alpn="http/1.1"` {
		t.Errorf("http.Transport: %q", body)
	}
	if resp.TLS != nil {
		t.Error("net/http now fills Response.TLS for non-*tls.Conn connections: HTTPTransport's workaround can go")
	}

	l, err := Listen("tcp", "127.0.0.1:0", p.server("h2"))
	if err != nil {
		t.Fatal(err)
	}
	plain := &http.Server{Handler: describe, ErrorLog: log.New(io.Discard, "", 0)}
	go plain.Serve(l)
	defer plain.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	tr := NewHTTPTransport(p.client())
	defer tr.CloseIdleConnections()
	if _, err := (&http.Client{Transport: tr}).Get("https://localhost:" + port + "/"); err == nil {
		t.Error("net/http's Serve now speaks HTTP/2 on Sockets: ServeHTTP's workaround can go")
	}
}

// TestServeHTTPShutdown: Shutdown ends ServeHTTP, HTTP/2 connections included.
func TestServeHTTPShutdown(t *testing.T) {
	p := newHTTPPKI()
	l, err := Listen("tcp", "127.0.0.1:0", p.server("h2"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: describe}
	done := make(chan error, 1)
	go func() { done <- ServeHTTP(srv, l) }()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	tr := NewHTTPTransport(p.client())
	defer tr.CloseIdleConnections()
	if body, _ := get(t, &http.Client{Transport: tr}, "https://localhost:"+port+"/"); !strings.HasPrefix(body, "HTTP/2.0") {
		t.Fatalf("got %q", body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("ServeHTTP: %v, want http.ErrServerClosed", err)
	}
}

// TestConnectionState compares a Socket's ConnectionState with crypto/tls's
// view of the same session from the other end, and checks it survives the
// peer closing the connection, as tls.Conn's does.
func TestConnectionState(t *testing.T) {
	t.Run("stream", func(t *testing.T) { testConnectionState(t, false) })
	t.Run("engine", func(t *testing.T) { testConnectionState(t, true) })
}

func testConnectionState(t *testing.T, engine bool) {
	p := newHTTPPKI()
	pool := x509PoolOf(p.root)
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{p.leaf.Cert.Raw}, PrivateKey: p.leaf.Key}},
		NextProtos:   []string{"h2"}, ClientCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	serverState := make(chan tls.ConnectionState, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		tc := c.(*tls.Conn)
		if tc.Handshake() == nil {
			serverState <- tc.ConnectionState()
		}
		tc.Close() // the peer goes away
	}()
	s := NewSocket()
	if cs := s.ConnectionState(); cs.HandshakeComplete || cs.Version != 0 {
		t.Errorf("before connecting: %+v", cs)
	}
	cfg := p.client()
	cfg.SetAllowedNextProtocols([]string{"h2"})
	if engine {
		cfg.SetBackendConfigurationOption(ForceEngineOption, "1")
	}
	s.SetSslConfiguration(cfg)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	var during tls.ConnectionState
	s.OnSslErrors(func([]Error) { during = s.ConnectionState() })
	s.OnPeerVerifyError(func(Error) { during = s.ConnectionState() })
	s.ConnectToHostEncrypted("localhost", parsePort(t, port))
	if !s.WaitForEncrypted(10 * time.Second) {
		t.Fatal(s.ErrorString())
	}
	if during.HandshakeComplete {
		t.Error("ConnectionState during the handshake claims it is complete")
	}
	srv := <-serverState
	check := func(when string, cs tls.ConnectionState) {
		t.Helper()
		if !cs.HandshakeComplete || cs.Version != srv.Version || cs.CipherSuite != srv.CipherSuite ||
			cs.NegotiatedProtocol != "h2" || cs.CurveID != srv.CurveID || cs.CurveID == 0 || cs.ServerName != "localhost" ||
			len(cs.PeerCertificates) != 1 || !cs.PeerCertificates[0].Equal(p.leaf.Cert) {
			t.Errorf("%s: %+v\nserver saw %+v", when, cs, srv)
		}
	}
	check("connected", s.ConnectionState())
	if _, err := io.ReadAll(s); err != nil && !errors.Is(err, io.EOF) {
		t.Logf("read until the peer closed: %v", err)
	}
	s.WaitForDisconnected(10 * time.Second)
	check("after the peer closed", s.ConnectionState())
	if s.SessionProtocol() != UnknownProtocol {
		t.Errorf("SessionProtocol after disconnect = %v; Qt clears it", s.SessionProtocol())
	}
	ekm, err := func() (b []byte, err error) {
		cs := s.ConnectionState()
		return cs.ExportKeyingMaterial("EXPERIMENTAL test", nil, 16)
	}()
	if err != nil || len(ekm) != 16 {
		t.Errorf("ExportKeyingMaterial on the go backend: %x %v", ekm, err)
	}
}

// TestConnectionStateOf checks the description built for backends without
// crypto/tls's own.
func TestConnectionStateOf(t *testing.T) {
	p := newHTTPPKI()
	chain := []Certificate{NewCertificate(p.leaf.Cert)}
	st := SessionState{Version: tls.VersionTLS12, Cipher: CipherFromID(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
		ALPN: "http/1.1", ALPNStatus: NextProtocolNegotiationUnsupported, OCSPResponse: []byte{1}, Resumed: true}
	cs := connectionStateOf(st, chain, "example.test")
	if !cs.HandshakeComplete || cs.Version != tls.VersionTLS12 || cs.CipherSuite != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 ||
		!cs.DidResume || cs.ServerName != "example.test" || string(cs.OCSPResponse) != "\x01" || len(cs.PeerCertificates) != 1 {
		t.Errorf("%+v", cs)
	}
	if cs.NegotiatedProtocol != "" {
		t.Errorf("Qt's forced http/1.1 after no ALPN overlap must not read as negotiated: %q", cs.NegotiatedProtocol)
	}
	st.ALPNStatus, st.ALPN = NextProtocolNegotiationNegotiated, "h2"
	if cs := connectionStateOf(st, nil, ""); cs.NegotiatedProtocol != "h2" || cs.PeerCertificates != nil {
		t.Errorf("%+v", cs)
	}
}

func x509PoolOf(certs ...*pki.Cert) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c.Cert)
	}
	return pool
}

func parsePort(t *testing.T, s string) uint16 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	return uint16(n)
}
