package ssl

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// TestEveryProtocolValue connects with each Protocol value against a server
// that accepts TLS 1.0 to 1.3: the TLS values negotiate what they ask for;
// DTLS values and UnknownProtocol fail with SslInvalidUserDataError and no
// connection attempt.
func TestEveryProtocolValue(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		scfg := p.serverConfig(p.server)
		scfg.SetProtocol(AnyProtocol)
		for proto := UnknownProtocol; proto <= TlsV1_3OrLater; proto++ {
			t.Run(proto.String(), func(t *testing.T) {
				ccfg := p.clientConfig()
				ccfg.SetProtocol(proto)
				min, max, ok := proto.VersionRange()
				scfg := scfg
				if ok && m.backend == "openssl" && (proto == TlsV1_0 || proto == TlsV1_1) {
					// OpenSSL 3 refuses TLS 1.0 and 1.1 above security level 0
					// (docs/openssl-backend.md): ask for it, as a user must.
					for _, c := range []*Configuration{&ccfg, &scfg} {
						c.SetBackendConfigurationOption("CipherString", "DEFAULT:@SECLEVEL=0")
					}
				}
				if !ok {
					s := NewSocket()
					s.SetSslConfiguration(ccfg)
					attempted := false
					s.OnStateChanged(func(SocketState) { attempted = true })
					s.ConnectToHostEncrypted("127.0.0.1", 1)
					if attempted || s.SocketError() != SslInvalidUserDataError {
						t.Errorf("attempted=%v error=%v", attempted, s.SocketError())
					}
					return
				}
				client, _, cOK, sOK := handshakePair(t, ccfg, scfg, nil)
				if !cOK || !sOK {
					t.Fatalf("handshake failed: %s", client.ErrorString())
				}
				want := max
				if want == 0 {
					want = 0x0304
				}
				got := client.SessionProtocol()
				if got != ProtocolFromVersion(want) || want < min {
					t.Errorf("negotiated %v, want %v", got, ProtocolFromVersion(want))
				}
			})
		}
	})
}

func TestCipherAndCurveSelection(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		ccfg := p.clientConfig()
		ccfg.SetCiphersString("ECDHE-ECDSA-AES256-GCM-SHA384")
		// P-256 too: in TLS 1.2 the ECDSA P-256 certificate's curve must be
		// among the client's groups (RFC 8422; OpenSSL enforces it).
		ccfg.SetEllipticCurves([]EllipticCurve{CurveFromShortName("secp384r1"), CurveFromShortName("prime256v1")})
		client, server, cOK, sOK := handshakePair(t, ccfg, p.serverConfig(p.server), nil)
		if !cOK || !sOK {
			t.Fatal(client.ErrorString())
		}
		if c := client.SessionCipher(); c.Name() != "ECDHE-ECDSA-AES256-GCM-SHA384" || client.SessionProtocol() != TlsV1_2 {
			t.Errorf("cipher %v protocol %v", c, client.SessionProtocol())
		}
		if !server.SessionCipher().Equal(client.SessionCipher()) {
			t.Error("both sides must agree on the cipher")
		}
		// Only TLS 1.3 suites: TLS 1.3 only.
		ccfg = p.clientConfig()
		ccfg.SetCiphers(DefaultCiphers()[:3])
		if ccfg.Ciphers()[0].Protocol() != TlsV1_3 {
			t.Fatal("expected the TLS 1.3 suites first")
		}
		client, _, cOK, _ = handshakePair(t, ccfg, p.serverConfig(p.server), nil)
		if !cOK || client.SessionProtocol() != TlsV1_3 {
			t.Errorf("TLS 1.3 suites: %v %v", cOK, client.SessionProtocol())
		}
	})
}

// TestClientVerifyModes: what a client does with an untrusted server under
// each mode, and the depth limit.
func TestClientVerifyModes(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		stranger := pki.MustSelfSigned(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
		tests := []struct {
			mode      PeerVerifyMode
			ok        bool
			sslErrors int
		}{
			{VerifyNone, true, 0},
			{QueryPeer, true, 1},
			{VerifyPeer, false, 1},
			{AutoVerifyPeer, false, 1},
		}
		for _, tc := range tests {
			t.Run(tc.mode.String(), func(t *testing.T) {
				ccfg := p.clientConfig()
				ccfg.SetPeerVerifyMode(tc.mode)
				n := 0
				_, _, cOK, _ := handshakePair(t, ccfg, p.serverConfig(stranger), func(c, _ *Socket) {
					c.OnSslErrors(func(errs []Error) { n = len(errs) })
				})
				if cOK != tc.ok || n != tc.sslErrors {
					t.Errorf("encrypted %v (want %v), %d sslErrors (want %d)", cOK, tc.ok, n, tc.sslErrors)
				}
			})
		}
		// Depth: leaf <- intermediate <- root with depth 1 is fine, depth 0 means no limit;
		// a chain with two intermediates exceeds depth 1.
		inter1 := p.root.MustIssue(pki.Spec{CommonName: "I1", IsCA: true})
		inter2 := inter1.MustIssue(pki.Spec{CommonName: "I2", IsCA: true})
		leaf := inter2.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
		scfg := p.emptyConfig()
		scfg.SetLocalCertificateChain([]Certificate{certOf(leaf), certOf(inter2), certOf(inter1)})
		scfg.SetPrivateKey(NewKey(leaf.Key))
		for _, depth := range []int{0, 2, 1} {
			ccfg := p.clientConfig()
			ccfg.SetPeerVerifyDepth(depth)
			client, _, cOK, _ := handshakePair(t, ccfg, scfg, nil)
			if want := depth != 1; cOK != want {
				t.Errorf("depth %d: encrypted %v, want %v (%s)", depth, cOK, want, client.ErrorString())
			}
		}
	})
}

func TestBufferedView(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		client, server := mustPair(t, p)
		if client.AtEnd() != false && client.BytesAvailable() != 0 {
			t.Error("fresh socket")
		}
		ready := make(chan struct{}, 10)
		client.OnReadyRead(func() { ready <- struct{}{} })
		server.Write([]byte("line one\nline two\npartial"))
		deadline := time.Now().Add(5 * time.Second)
		for client.BytesAvailable() < 25 && time.Now().Before(deadline) {
			client.WaitForReadyRead(200 * time.Millisecond)
		}
		select {
		case <-ready:
		case <-time.After(5 * time.Second):
			t.Error("no readyRead")
		}
		if !client.CanReadLine() || string(client.Peek(4)) != "line" {
			t.Error("CanReadLine / Peek")
		}
		if l := client.ReadLine(0); string(l) != "line one\n" {
			t.Errorf("ReadLine %q", l)
		}
		if l := client.ReadLine(4); string(l) != "line" {
			t.Errorf("ReadLine(4) %q", l)
		}
		if n := client.SkipData(1); n != 1 {
			t.Errorf("SkipData %d", n)
		}
		if rest := client.ReadAll(); string(rest) != "two\npartial" {
			t.Errorf("ReadAll %q", rest)
		}
		if client.CanReadLine() || client.ReadLine(0) != nil || client.BytesToWrite() != 0 || client.EncryptedBytesToWrite() != 0 {
			t.Error("empty buffer")
		}
		if client.WaitForBytesWritten(10 * time.Millisecond) {
			t.Error("WaitForBytesWritten with nothing queued must be false")
		}
		// A context wait honours cancellation.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		if err := client.WaitForReadyReadContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("context wait: %v", err)
		}
		server.Close()
		client.WaitForDisconnected(5 * time.Second)
		if !client.AtEnd() {
			t.Error("AtEnd after the peer closed")
		}
		if client.WaitForDisconnected(0) {
			t.Error("WaitForDisconnected on an unconnected socket must be false")
		}
		// Qt's bytesWritten event for plaintext.
		c2, _ := mustPair(t, p)
		var written, encWritten int64
		c2.OnBytesWritten(func(n int64) { written += n })
		c2.OnEncryptedBytesWritten(func(n int64) { encWritten += n })
		c2.Write(make([]byte, 1000))
		// As in Qt, they are emitted after the write returns (from the
		// event loop there, the socket's worker here); the wait returns
		// once they were.
		if !c2.WaitForBytesWritten(5 * time.Second) {
			t.Error("WaitForBytesWritten after a write: false")
		}
		if written != 1000 || encWritten <= 1000 {
			t.Errorf("bytesWritten %d, encryptedBytesWritten %d", written, encWritten)
		}
	})
}

func TestIPv6HostLookupAndDescriptor(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), echo)
		for _, host := range []string{"localhost", "127.0.0.1"} {
			s := NewSocket()
			s.SetSslConfiguration(p.clientConfig())
			s.ConnectToHostEncrypted(host, port)
			if !s.WaitForEncrypted(5*time.Second) || s.PeerPort() != port || s.PeerName() != host || s.LocalPort() == 0 {
				t.Errorf("%s: %s", host, s.ErrorString())
			}
			s.Close()
		}
		if l, err := net.Listen("tcp", "[::1]:0"); err == nil {
			cfg := p.serverConfig(p.server)
			go func() {
				c, err := l.Accept()
				if err != nil {
					return
				}
				s := NewSocketFromConn(c)
				s.SetSslConfiguration(cfg)
				s.StartServerEncryption()
				s.WaitForEncrypted(5 * time.Second)
				s.Close()
			}()
			s := NewSocket()
			s.SetSslConfiguration(p.clientConfig())
			s.ConnectToHostEncrypted("::1", uint16(l.Addr().(*net.TCPAddr).Port))
			if !s.WaitForEncrypted(5*time.Second) || s.PeerAddress() != "::1" {
				t.Errorf("IPv6: %s %q", s.ErrorString(), s.PeerAddress())
			}
			s.Close()
			l.Close()
		} else {
			t.Logf("no IPv6 loopback here: %v", err)
		}
		// Unknown host.
		s := NewSocket()
		s.ConnectToHostEncrypted("does-not-exist.invalid", 443)
		if s.WaitForEncrypted(10*time.Second) || s.SocketError() != HostNotFoundError {
			t.Errorf("unknown host: %v", s.SocketError())
		}
		// From a socket descriptor.
		cli, srv := tcpPair(t)
		f, err := srv.(*net.TCPConn).File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		d := NewSocket()
		if err := d.SetSocketDescriptor(f.Fd()); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		if d.State() != ConnectedState || d.SocketDescriptor() < 0 {
			t.Errorf("descriptor socket: %v %d", d.State(), d.SocketDescriptor())
		}
		cli.Write([]byte("plain"))
		buf := make([]byte, 5)
		d.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := d.Read(buf); err != nil || string(buf) != "plain" {
			t.Errorf("plain read: %q %v", buf, err)
		}
		d.Close()
	})
}
