package ssl

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// Encrypted Client Hello: the inner name never travels in clear, the
// server sees it, rejections carry retry configurations, and backends
// without ECH refuse instead of sending a plain ClientHello.

const (
	echPublic = "public.example" // the outer, clear name
	echInner  = "secret.example" // the inner, encrypted name
)

// echPKI is a test PKI whose server certificate is valid for both names.
func echPKI(t testing.TB) (*testPKI, *pki.Cert) {
	t.Helper()
	p := newTestPKI(t)
	both := p.root.MustIssue(pki.Spec{CommonName: echInner, DNSNames: []string{echInner, echPublic}})
	return p, both
}

func mustECHKey(t testing.TB, publicName string) EncryptedClientHelloKey {
	t.Helper()
	k, err := GenerateEncryptedClientHelloKey(publicName)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustConfigList(t testing.TB, keys ...EncryptedClientHelloKey) []byte {
	t.Helper()
	list, err := MarshalECHConfigList(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// wireRelay forwards one TCP connection at a time to target and keeps
// every byte the client sent.
type wireRelay struct {
	port uint16
	mu   sync.Mutex
	seen []byte
}

func (r *wireRelay) clientBytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.seen...)
}

func newWireRelay(t *testing.T, target uint16) *wireRelay {
	r := &wireRelay{}
	r.port = serveLoopback(t, func(c net.Conn) {
		defer c.Close()
		up, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(int(target))))
		if err != nil {
			return
		}
		defer up.Close()
		done := make(chan struct{})
		go func() {
			_, _ = io.Copy(c, up)
			_ = c.(*net.TCPConn).CloseWrite()
			close(done)
		}()
		buf := make([]byte, 32<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				r.mu.Lock()
				r.seen = append(r.seen, buf[:n]...)
				r.mu.Unlock()
				if _, werr := up.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		_ = up.(*net.TCPConn).CloseWrite()
		<-done
	})
	return r
}

// echServer listens with cfg (a Server: the shared configuration path)
// and hands each accepted socket to got; sockets echo until closed.
func echServer(t *testing.T, cfg Configuration, got chan<- *Socket) uint16 {
	t.Helper()
	srv, err := Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	acceptAll(srv, func(s *Socket) {
		if got != nil {
			got <- s
		}
		_, _ = io.Copy(s, s)
	})
	return uint16(srv.Addr().(*net.TCPAddr).Port)
}

// echDial connects to 127.0.0.1:port asking for the inner name.
func echDial(cfg Configuration, port uint16) (*Socket, error) {
	s := NewSocket()
	s.SetSslConfiguration(cfg)
	s.SetPeerVerifyName(echInner)
	s.ConnectToHostEncrypted("127.0.0.1", port)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitForEncryptedContext(ctx); err != nil {
		s.Abort()
		return s, err
	}
	return s, nil
}

// goModes are the backend modes that have ECH.
func echModes(t *testing.T, fn func(t *testing.T, m backendMode)) {
	runModes(t, func(t *testing.T, m backendMode) {
		if !IsFeatureSupported(FeatureEncryptedClientHello, m.backend) {
			t.Skipf("the %s backend has no ECH (TestECHUnsupportedBackend covers it)", m.backend)
		}
		fn(t, m)
	})
}

func TestECHHandshakeHidesInnerName(t *testing.T) {
	echModes(t, func(t *testing.T, m backendMode) {
		checkNoLeaks(t)
		p, both := echPKI(t)
		p = p.with(m)
		key := mustECHKey(t, echPublic)
		scfg := p.serverConfig(both)
		scfg.SetEncryptedClientHelloKeys([]EncryptedClientHelloKey{key})
		accepted := make(chan *Socket, 2)
		relay := newWireRelay(t, echServer(t, scfg, accepted))

		// Control: without ECH the name is on the wire (the check can fail).
		plain, err := echDial(p.clientConfig(), relay.port)
		if err != nil {
			t.Fatal(err)
		}
		srvPlain := <-accepted
		if !bytes.Contains(relay.clientBytes(), []byte(echInner)) {
			t.Fatal("the relay does not see a plain ClientHello's server name: the capture is broken")
		}
		if plain.SessionECHAccepted() || srvPlain.SslConfiguration().SessionECHAccepted() || plain.SessionOuterServerName() != "" {
			t.Errorf("plain handshake reported as ECH")
		}
		plain.Close()

		relay.mu.Lock()
		relay.seen = nil
		relay.mu.Unlock()
		ccfg := p.clientConfig()
		if err := ccfg.SetEncryptedClientHelloConfigList(mustConfigList(t, key)); err != nil {
			t.Fatal(err)
		}
		if ccfg.EncryptedClientHelloPublicName() != echPublic {
			t.Errorf("public name before connecting: %q", ccfg.EncryptedClientHelloPublicName())
		}
		s, err := echDial(ccfg, relay.port)
		if err != nil {
			t.Fatalf("ECH handshake: %v", err)
		}
		defer s.Close()
		srv := <-accepted
		if _, err := s.Write([]byte("ping\n")); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, 5)
		if _, err := io.ReadFull(s, got); err != nil || string(got) != "ping\n" {
			t.Fatalf("echo over ECH: %q %v", got, err)
		}
		wire := relay.clientBytes()
		if bytes.Contains(wire, []byte(echInner)) {
			t.Errorf("the inner name %q travelled in clear", echInner)
		}
		if !bytes.Contains(wire[:min(len(wire), 2048)], []byte(echPublic)) {
			t.Errorf("the outer ClientHello does not carry the public name %q", echPublic)
		}
		// The client's facts.
		if !s.SessionECHAccepted() || s.SessionOuterServerName() != echPublic || s.ConnectionState().ServerName != echInner ||
			!s.ConnectionState().ECHAccepted {
			t.Errorf("client facts: accepted %v outer %q inner %q", s.SessionECHAccepted(), s.SessionOuterServerName(), s.ConnectionState().ServerName)
		}
		// The server's: it saw the inner name, and the outer one.
		sc := srv.SslConfiguration()
		if !sc.SessionECHAccepted() || srv.ConnectionState().ServerName != echInner || sc.SessionOuterServerName() != echPublic {
			t.Errorf("server facts: accepted %v inner %q outer %q", sc.SessionECHAccepted(), srv.ConnectionState().ServerName, sc.SessionOuterServerName())
		}
		if g := s.SessionKeyExchangeGroup(); g != tls.X25519MLKEM768 || srv.SessionKeyExchangeGroup() != g {
			t.Errorf("key exchange: client %v server %v, want X25519MLKEM768", g, srv.SessionKeyExchangeGroup())
		}
	})
}

func TestECHRejectedWithRetryConfigs(t *testing.T) {
	echModes(t, func(t *testing.T, m backendMode) {
		checkNoLeaks(t)
		p, both := echPKI(t)
		p = p.with(m)
		current, stale := mustECHKey(t, echPublic), mustECHKey(t, echPublic)
		scfg := p.serverConfig(both)
		scfg.SetEncryptedClientHelloKeys([]EncryptedClientHelloKey{current}) // SendAsRetry
		port := echServer(t, scfg, nil)

		ccfg := p.clientConfig()
		if err := ccfg.SetEncryptedClientHelloConfigList(mustConfigList(t, stale)); err != nil {
			t.Fatal(err)
		}
		s := NewSocket()
		sent := make(chan AlertType, 4)
		s.OnAlertSent(func(_ AlertLevel, typ AlertType, _ string) { sent <- typ })
		s.SetSslConfiguration(ccfg)
		s.SetPeerVerifyName(echInner)
		s.ConnectToHostEncrypted("127.0.0.1", port)
		err := s.WaitForEncryptedContext(context.Background())
		var rej *ECHRejectedError
		if !errors.As(err, &rej) {
			t.Fatalf("want an *ECHRejectedError, got %v", err)
		}
		var tlsRej *tls.ECHRejectionError
		if !errors.As(err, &tlsRej) || !errors.Is(err, SslHandshakeFailedError) || s.SocketError() != SslHandshakeFailedError {
			t.Errorf("error chain: %v (socket error %v)", err, s.SocketError())
		}
		if rej.PublicName != echPublic || !bytes.Equal(rej.RetryConfigList, mustConfigList(t, current)) {
			t.Errorf("rejection: public name %q, retry list %x", rej.PublicName, rej.RetryConfigList)
		}
		if !strings.Contains(s.ErrorString(), "rejected Encrypted Client Hello") {
			t.Errorf("ErrorString: %q", s.ErrorString())
		}
		select {
		case typ := <-sent:
			if typ != AlertEchRequired {
				t.Errorf("alert sent: %v, want EchRequired", typ)
			}
		case <-time.After(10 * time.Second): // a hang, not a timing verdict
			t.Error("no alert sent")
		}
		s.Abort()

		// A retry with the server's configurations succeeds.
		if err := ccfg.SetEncryptedClientHelloConfigList(rej.RetryConfigList); err != nil {
			t.Fatal(err)
		}
		s2, err := echDial(ccfg, port)
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		defer s2.Close()
		if !s2.SessionECHAccepted() {
			t.Error("retry: ECH not accepted")
		}
	})
}

func TestECHServerWithoutKeys(t *testing.T) {
	echModes(t, func(t *testing.T, m backendMode) {
		checkNoLeaks(t)
		p, both := echPKI(t)
		p = p.with(m)
		accepted := make(chan *Socket, 1)
		srv, err := Listen("tcp", "127.0.0.1:0", p.serverConfig(both))
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		alerts := make(chan AlertType, 4)
		acceptAll(srv, func(s *Socket) {
			// The alert follows the client's Finished: the accepted
			// socket's first read meets it (its handler runs on the
			// socket's own goroutine, perhaps after the read returned).
			s.OnAlertReceived(func(_ AlertLevel, typ AlertType, _ string) { alerts <- typ })
			_, _ = s.Read(make([]byte, 1))
			accepted <- s
		})
		ccfg := p.clientConfig()
		if err := ccfg.SetEncryptedClientHelloConfigList(mustConfigList(t, mustECHKey(t, echPublic))); err != nil {
			t.Fatal(err)
		}
		s, err := echDial(ccfg, uint16(srv.Addr().(*net.TCPAddr).Port))
		var rej *ECHRejectedError
		if !errors.As(err, &rej) || len(rej.RetryConfigList) != 0 || !strings.Contains(err.Error(), "offered no retry") {
			t.Fatalf("want a rejection without retry configurations, got %v", err)
		}
		if s.IsEncrypted() {
			t.Error("encrypted after a rejection: ECH must never fall back silently")
		}
		// The server completed a plain handshake for the public name, then
		// got the client's ech_required (TLS 1.3: after the client's Finished).
		ss := <-accepted
		if ss.ConnectionState().ServerName != echPublic || ss.SslConfiguration().SessionECHAccepted() {
			t.Errorf("server: name %q, ECH %v", ss.ConnectionState().ServerName, ss.SslConfiguration().SessionECHAccepted())
		}
		select {
		case typ := <-alerts:
			if typ != AlertEchRequired {
				t.Errorf("server alert received: %v, want EchRequired", typ)
			}
		case <-time.After(10 * time.Second): // a hang, not a timing verdict
			t.Error("the server received no alert")
		}
	})
}

func TestECHRejectionNeedsThePublicName(t *testing.T) {
	echModes(t, func(t *testing.T, m backendMode) {
		checkNoLeaks(t)
		p, _ := echPKI(t)
		p = p.with(m)
		innerOnly := p.root.MustIssue(pki.Spec{CommonName: echInner, DNSNames: []string{echInner}})
		port := echServer(t, p.serverConfig(innerOnly), nil)
		ccfg := p.clientConfig()
		if err := ccfg.SetEncryptedClientHelloConfigList(mustConfigList(t, mustECHKey(t, echPublic))); err != nil {
			t.Fatal(err)
		}
		_, err := echDial(ccfg, port)
		var ve *VerificationError
		var rej *ECHRejectedError
		if !errors.As(err, &ve) || errors.As(err, &rej) || ve.Errors[0].Code != HostNameMismatch {
			t.Fatalf("a rejection the certificate does not prove: want a HostNameMismatch VerificationError, got %v", err)
		}
		// The system's roots (no CA set) do not know the test root either.
		sys := p.emptyConfig()
		if err := sys.SetEncryptedClientHelloConfigList(mustConfigList(t, mustECHKey(t, echPublic))); err != nil {
			t.Fatal(err)
		}
		_, err = echDial(sys, port)
		if !errors.As(err, &ve) || errors.As(err, &rej) {
			t.Fatalf("a rejection by an untrusted server: want a VerificationError, got %v", err)
		}
	})
}

func TestECHEnginePair(t *testing.T) {
	p, both := echPKI(t)
	key := mustECHKey(t, echPublic)
	ccfg := p.clientConfig()
	if err := ccfg.SetEncryptedClientHelloConfigList(mustConfigList(t, key)); err != nil {
		t.Fatal(err)
	}
	scfg := p.serverConfig(both)
	scfg.SetEncryptedClientHelloKeys([]EncryptedClientHelloKey{key})
	c, err := NewClientEngine(ccfg, echInner)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := NewServerEngine(scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cerr, serr := handshakeEngines(t, c, s, 7); cerr != nil || serr != nil {
		t.Fatalf("handshake: %v / %v", cerr, serr)
	}
	if !c.SessionECHAccepted() || c.SessionOuterServerName() != echPublic || !s.SessionECHAccepted() ||
		s.SessionOuterServerName() != echPublic || s.SslConfiguration().SessionKeyExchangeGroup() != tls.X25519MLKEM768 {
		t.Errorf("engine facts: client %v %q, server %v %q %v", c.SessionECHAccepted(), c.SessionOuterServerName(),
			s.SessionECHAccepted(), s.SessionOuterServerName(), s.SessionKeyExchangeGroup())
	}
}

func TestECHConfigListBadInput(t *testing.T) {
	key := mustECHKey(t, echPublic)
	good := mustConfigList(t, key)
	cfgBytes := key.Config()
	// A config whose KEM crypto/hpke does not know, and one whose public name is one label.
	badKEM := bytes.Clone(cfgBytes)
	badKEM[5], badKEM[6] = 0x7f, 0x7f
	oneLabel, err := (&echConfig{configID: 1, kem: hpkeDHKEMX25519, publicKey: key.config.publicKey,
		suites: []echCipherSuite{{hpkeHKDFSHA256, hpkeAES128GCM}}, publicName: "localhost"}).marshal()
	if err != nil {
		t.Fatal(err)
	}
	wrap := func(cs ...[]byte) []byte { l, _ := marshalECHConfigList(cs...); return l }
	other := bytes.Clone(cfgBytes)
	other[0], other[1] = 0xfe, 0x0c // an older draft's version: skipped
	cases := map[string][]byte{
		"garbage":           []byte("not an ECH configuration list"),
		"truncated":         good[:len(good)-3],
		"trailing bytes":    append(bytes.Clone(good), 0),
		"empty list":        {0, 0},
		"unknown KEM":       wrap(badKEM),
		"one-label name":    wrap(oneLabel),
		"only old versions": wrap(other),
		"a bare ECHConfig":  cfgBytes,
		"base64 text":       []byte(base64.StdEncoding.EncodeToString(good)),
	}
	for name, list := range cases {
		var c Configuration
		if err := c.SetEncryptedClientHelloConfigList(good); err != nil {
			t.Fatal(err)
		}
		err := c.SetEncryptedClientHelloConfigList(list)
		if !errors.Is(err, ErrMalformedECHConfigList) || !errors.Is(err, ErrInvalidUserData) {
			t.Errorf("%s: err = %v, want ErrMalformedECHConfigList", name, err)
		}
		if !bytes.Equal(c.EncryptedClientHelloConfigList(), good) {
			t.Errorf("%s: a refused list changed the configuration", name)
		}
	}
	// An unusable configuration before a usable one: the usable one is picked.
	var c Configuration
	if err := c.SetEncryptedClientHelloConfigList(wrap(badKEM, other, cfgBytes)); err != nil || c.EncryptedClientHelloPublicName() != echPublic {
		t.Errorf("mixed list: %v, public name %q", err, c.EncryptedClientHelloPublicName())
	}
	if err := c.SetEncryptedClientHelloConfigList(nil); err != nil || c.EncryptedClientHelloConfigList() != nil {
		t.Errorf("clearing: %v", err)
	}
	// ECH needs TLS 1.3: a TLS 1.2-only client fails before connecting.
	p := newTestPKI(t)
	ccfg := p.clientConfig()
	ccfg.SetProtocol(TlsV1_2)
	if err := ccfg.SetEncryptedClientHelloConfigList(good); err != nil {
		t.Fatal(err)
	}
	if err := ccfg.Validate(SslClientMode); !errors.Is(err, ErrInvalidUserData) || !strings.Contains(err.Error(), "TLS 1.3") {
		t.Errorf("ECH with TLS 1.2 only: %v", err)
	}
	if _, err := GenerateEncryptedClientHelloKey("localhost"); !errors.Is(err, ErrInvalidUserData) {
		t.Errorf("a one-label public name: %v", err)
	}
}

func TestECHKeyFile(t *testing.T) {
	k1, k2 := mustECHKey(t, echPublic), mustECHKey(t, "other.example")
	data, err := MarshalEncryptedClientHelloKeys(k1, k2)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ParseEncryptedClientHelloKeys(data)
	if err != nil || len(keys) != 2 {
		t.Fatalf("round trip: %v (%d keys)", err, len(keys))
	}
	for i, k := range []EncryptedClientHelloKey{k1, k2} {
		if !bytes.Equal(keys[i].Config(), k.Config()) || keys[i].PublicName() != k.PublicName() || !keys[i].SendAsRetry() ||
			!bytes.Equal(keys[i].private, k.private) {
			t.Errorf("key %d differs after the round trip", i)
		}
	}
	privPEM := data[:bytes.Index(data, []byte("-----END PRIVATE KEY-----"))]
	secret := strings.TrimSpace(string(privPEM[bytes.IndexByte(privPEM, '\n')+1:]))
	other, _ := MarshalEncryptedClientHelloKeys(k2)
	blocks := bytes.SplitAfter(data, []byte("-----END ECHCONFIG-----\n"))
	k1Key := blocks[0][:bytes.Index(blocks[0], []byte("-----BEGIN ECHCONFIG"))]
	k2Config := other[bytes.Index(other, []byte("-----BEGIN ECHCONFIG")):]
	cases := map[string][]byte{
		"empty":                  nil,
		"garbage":                []byte("hello"),
		"truncated":              data[:len(data)/3],
		"truncated in the end":   data[:len(data)-10],
		"key without config":     k1Key,
		"config without key":     k2Config,
		"key of another config":  append(bytes.Clone(k1Key), k2Config...),
		"a certificate instead":  []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		"corrupt ECHCONFIG":      bytes.Replace(bytes.Clone(blocks[0]), []byte("-----BEGIN ECHCONFIG-----\n"), []byte("-----BEGIN ECHCONFIG-----\nAAAA"), 1),
		"corrupt private key":    bytes.Replace(bytes.Clone(blocks[0]), []byte("-----BEGIN PRIVATE KEY-----\n"), []byte("-----BEGIN PRIVATE KEY-----\nAAAA"), 1),
		"swapped blocks order":   append(bytes.Clone(k2Config), k1Key...),
		"valid key, then a junk": append(bytes.Clone(data), []byte("junk\n")...),
	}
	for name, in := range cases {
		_, err := ParseEncryptedClientHelloKeys(in)
		if !errors.Is(err, ErrMalformedECHKeyFile) || !errors.Is(err, ErrInvalidUserData) {
			t.Errorf("%s: err = %v, want ErrMalformedECHKeyFile", name, err)
			continue
		}
		if strings.Contains(err.Error(), secret[:20]) {
			t.Errorf("%s: the error quotes the private key", name)
		}
	}
	if _, err := LoadEncryptedClientHelloKeys(t.TempDir() + "/missing.pem"); err == nil {
		t.Error("a missing file loaded")
	}
	for _, s := range []string{k1.String(), k1.GoString()} {
		if strings.Contains(s, secret[:20]) || !strings.Contains(s, echPublic) {
			t.Errorf("String: %q", s)
		}
	}
}

func TestECHUnsupportedBackend(t *testing.T) {
	checkNoLeaks(t)
	var without []string
	for _, b := range AvailableBackends() {
		if !IsFeatureSupported(FeatureEncryptedClientHello, b) {
			without = append(without, b)
		}
	}
	if !IsFeatureSupported(FeatureEncryptedClientHello, "go") {
		t.Fatal("the go backend does not list FeatureEncryptedClientHello")
	}
	if len(without) == 0 {
		t.Skip("every available backend has ECH (the openssl backend is not loaded)")
	}
	p, both := echPKI(t)
	key := mustECHKey(t, echPublic)
	for _, b := range without {
		t.Run(b, func(t *testing.T) {
			// Nothing may reach the wire: never a plain ClientHello instead.
			var got sync.Mutex
			var seen int
			port := serveLoopback(t, func(c net.Conn) {
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
				n, _ := io.Copy(io.Discard, c)
				got.Lock()
				seen += int(n)
				got.Unlock()
			})
			ccfg := p.clientConfig()
			ccfg.SetBackend(b)
			if err := ccfg.SetEncryptedClientHelloConfigList(mustConfigList(t, key)); err != nil {
				t.Fatal(err)
			}
			if _, err := Dial(context.Background(), "127.0.0.1:"+itoa(int(port)), ccfg); !errors.Is(err, ErrUnsupported) {
				t.Errorf("Dial: %v, want ErrUnsupported", err)
			}
			s := NewSocket()
			s.SetSslConfiguration(ccfg)
			s.ConnectToHostEncrypted("127.0.0.1", port)
			err := s.WaitForEncryptedContext(context.Background())
			if !errors.Is(err, ErrUnsupported) || s.SocketError() != SslInvalidUserDataError {
				t.Errorf("socket: %v (%v), want ErrUnsupported as SslInvalidUserDataError", err, s.SocketError())
			}
			s.Abort()
			if _, err := NewClientEngine(ccfg, echInner); !errors.Is(err, ErrUnsupported) {
				t.Errorf("engine: %v", err)
			}
			scfg := p.serverConfig(both)
			scfg.SetBackend(b)
			scfg.SetEncryptedClientHelloKeys([]EncryptedClientHelloKey{key})
			if _, err := Listen("tcp", "127.0.0.1:0", scfg); !errors.Is(err, ErrUnsupported) {
				t.Errorf("Listen: %v", err)
			}
			if _, err := NewServerEngine(scfg); !errors.Is(err, ErrUnsupported) {
				t.Errorf("server engine: %v", err)
			}
			time.Sleep(50 * time.Millisecond) // let a stray ClientHello arrive, if one was sent
			got.Lock()
			defer got.Unlock()
			if seen != 0 {
				t.Errorf("%d bytes reached the wire", seen)
			}
		})
	}
}

// TestKeyExchangeGroup: the session fact on every backend, with the
// default groups and with P-256 asked for.
func TestKeyExchangeGroup(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		wantDefault := tls.X25519MLKEM768
		if m.backend == "openssl" && backendByName("openssl").LibraryVersionNumber() < 0x30500000 {
			wantDefault = tls.X25519 // libssl before 3.5 has no post-quantum group
		}
		for _, tc := range []struct {
			name   string
			curves []EllipticCurve
			want   tls.CurveID
		}{
			{"default", nil, wantDefault},
			{"P-256", []EllipticCurve{CurveFromShortName("P-256")}, tls.CurveP256},
		} {
			ccfg, scfg := p.clientConfig(), p.serverConfig(p.server)
			ccfg.SetEllipticCurves(tc.curves)
			port := startServer(t, scfg, echo)
			s := NewSocket()
			s.SetSslConfiguration(ccfg)
			s.ConnectToHostEncrypted("localhost", port)
			if !s.WaitForEncrypted(5 * time.Second) {
				t.Fatalf("%s: %s", tc.name, s.ErrorString())
			}
			if got := s.SessionKeyExchangeGroup(); got != tc.want || s.ConnectionState().CurveID != tc.want {
				t.Errorf("%s: group %v (ConnectionState %v), want %v", tc.name, got, s.ConnectionState().CurveID, tc.want)
			}
			if GroupName(s.SessionKeyExchangeGroup()) == "" {
				t.Errorf("%s: no name for %v", tc.name, s.SessionKeyExchangeGroup())
			}
			s.Close()
		}
	})
}
