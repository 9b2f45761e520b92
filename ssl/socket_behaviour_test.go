package ssl

import (
	"bytes"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// handshakePair runs one handshake between a client and a server Socket
// with the given configurations and reports whether each side encrypted.
func handshakePair(t *testing.T, clientCfg, serverCfg Configuration, setup func(client, server *Socket)) (client, server *Socket, cOK, sOK bool) {
	t.Helper()
	cli, srv := tcpPair(t)
	server = NewSocketFromConn(srv)
	server.SetSslConfiguration(serverCfg)
	client = NewSocketFromConn(cli)
	client.SetSslConfiguration(clientCfg)
	client.SetPeerVerifyName("localhost")
	if setup != nil {
		setup(client, server)
	}
	if err := server.StartServerEncryption(); err != nil {
		t.Fatal(err)
	}
	if err := client.StartClientEncryption(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); cOK = client.WaitForEncrypted(5 * time.Second) }()
	go func() { defer wg.Done(); sOK = server.WaitForEncrypted(5 * time.Second) }()
	wg.Wait()
	t.Cleanup(func() { client.Abort(); server.Abort() })
	return client, server, cOK, sOK
}

func TestClientCertificatePolicy(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		stranger := pki.MustSelfSigned(pki.Spec{CommonName: "stranger"})
		withCert := func(c *pki.Cert) Configuration {
			cfg := p.clientConfig()
			if c != nil {
				cfg.SetLocalCertificate(certOf(c))
				cfg.SetPrivateKey(NewKey(c.Key))
			}
			return cfg
		}
		tests := []struct {
			name       string
			mode       PeerVerifyMode
			fatal      bool
			cert       *pki.Cert
			ok         bool
			serverErrs []ErrorCode
		}{
			{"AutoVerifyPeer server (QueryPeer), trusted certificate", AutoVerifyPeer, false, p.client, true, nil},
			{"QueryPeer, untrusted certificate: errors reported, handshake completes", QueryPeer, false, stranger, true, []ErrorCode{SelfSignedCertificate}},
			{"QueryPeer, no certificate", QueryPeer, false, nil, true, nil},
			{"VerifyPeer, trusted certificate", VerifyPeer, false, p.client, true, nil},
			{"VerifyPeer, untrusted certificate", VerifyPeer, false, stranger, false, []ErrorCode{SelfSignedCertificate}},
			{"VerifyPeer, no certificate: NoPeerCertificate", VerifyPeer, false, nil, false, []ErrorCode{NoPeerCertificate}},
			{"VerifyPeer + missingCertificateIsFatal, no certificate", VerifyPeer, true, nil, false, nil},
			{"VerifyNone, untrusted certificate", VerifyNone, false, stranger, true, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				scfg := p.serverConfig(p.server)
				scfg.SetPeerVerifyMode(tc.mode)
				scfg.SetMissingCertificateIsFatal(tc.fatal)
				var serverErrs []ErrorCode
				_, server, cOK, sOK := handshakePair(t, withCert(tc.cert), scfg, func(_, server *Socket) {
					server.OnSslErrors(func(errs []Error) {
						for _, e := range errs {
							serverErrs = append(serverErrs, e.Code)
						}
					})
				})
				if sOK != tc.ok {
					t.Errorf("server encrypted = %v, want %v (%s)", sOK, tc.ok, server.ErrorString())
				}
				if tc.ok && !cOK {
					t.Error("client did not encrypt")
				}
				if !slices.Equal(serverErrs, tc.serverErrs) {
					t.Errorf("server sslErrors %v, want %v", serverErrs, tc.serverErrs)
				}
				if tc.ok && tc.cert != nil && tc.mode != VerifyNone && !server.PeerCertificate().Equal(certOf(tc.cert)) {
					t.Error("server does not see the client certificate")
				}
			})
		}
	})
}

func TestHandshakeInterruptedOnError(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		// The client trusts nothing: the chain errors interrupt the handshake.
		untrusting := p.emptyConfig()
		untrusting.SetCaCertificates(nil)
		untrusting.SetHandshakeMustInterruptOnError(true)
		for _, cont := range []bool{true, false} {
			var interrupted []ErrorCode
			var sslErrs []Error
			client, _, cOK, _ := handshakePair(t, untrusting, p.serverConfig(p.server), func(client, _ *Socket) {
				client.OnHandshakeInterruptedOnError(func(e Error) {
					interrupted = append(interrupted, e.Code)
					if cont {
						client.ContinueInterruptedHandshake()
					}
				})
				client.OnSslErrors(func(errs []Error) {
					sslErrs = errs
					client.IgnoreSslErrorList(errs)
				})
			})
			if cOK != cont {
				t.Errorf("continue=%v: encrypted=%v (%s)", cont, cOK, client.ErrorString())
			}
			if len(interrupted) == 0 || interrupted[0] != UnableToGetLocalIssuerCertificate {
				t.Errorf("continue=%v: interrupted with %v", cont, interrupted)
			}
			if cont && len(sslErrs) == 0 {
				t.Error("the interrupting errors must be in sslErrors too")
			}
		}
	})
}

// TestStartTLSWithBufferedBytes pipelines "STARTTLS\r\n" and the ClientHello
// in one go: the server's plain reader has the ClientHello buffered when it
// starts encryption, and must hand it to TLS.
func TestStartTLSWithBufferedBytes(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		cli, srv := tcpPair(t)
		server := NewSocketFromConn(srv)
		defer server.Close()
		server.SetSslConfiguration(p.serverConfig(p.server))
		client := NewSocketFromConn(cli)
		defer client.Close()
		client.SetSslConfiguration(p.clientConfig())
		client.SetPeerVerifyName("localhost")

		client.Write([]byte("STARTTLS\r\n"))
		if err := client.StartClientEncryption(); err != nil { // no wait for a reply: pipelined
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for !server.CanReadLine() && time.Now().Before(deadline) {
			server.WaitForReadyRead(100 * time.Millisecond)
		}
		if line := server.ReadLine(0); string(line) != "STARTTLS\r\n" {
			t.Fatalf("line %q", line)
		}
		time.Sleep(50 * time.Millisecond) // let the ClientHello land in the plain buffer
		if server.BytesAvailable() == 0 {
			t.Log("ClientHello not yet buffered; the test still checks the handover")
		}
		if err := server.StartServerEncryption(); err != nil {
			t.Fatal(err)
		}
		if !server.WaitForEncrypted(5*time.Second) || !client.WaitForEncrypted(5*time.Second) {
			t.Fatalf("STARTTLS: server %q client %q", server.ErrorString(), client.ErrorString())
		}
		client.Write([]byte("secret"))
		buf := make([]byte, 6)
		if _, err := io.ReadFull(server, buf); err != nil || string(buf) != "secret" {
			t.Errorf("after STARTTLS: %q %v", buf, err)
		}
	})
}

func TestReadBufferBackPressure(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		client, server := mustPair(t, p)
		const limit = 64 << 10
		client.SetReadBufferSize(limit)
		total := 8 << 20
		payload := bytes.Repeat([]byte("0123456789abcdef"), total/16)
		done := make(chan error, 1)
		go func() { _, err := server.Write(payload); done <- err }()
		time.Sleep(300 * time.Millisecond)
		if n := client.BytesAvailable(); n > limit+readChunk {
			t.Errorf("buffered %d bytes with a limit of %d", n, limit)
		}
		select {
		case <-done:
			t.Error("the writer finished although the reader did not read: no back-pressure")
		default:
		}
		got := make([]byte, total)
		if _, err := io.ReadFull(client, got); err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("data after back-pressure: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestAlertReceivedOnRejection(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		untrusting := p.emptyConfig()
		untrusting.SetCaCertificates(nil)
		var alerts []string
		var mu sync.Mutex
		_, _, cOK, sOK := handshakePair(t, untrusting, p.serverConfig(p.server), func(_, server *Socket) {
			server.OnAlertReceived(func(l AlertLevel, typ AlertType, desc string) {
				mu.Lock()
				alerts = append(alerts, l.String()+"/"+typ.String())
				mu.Unlock()
			})
		})
		if cOK || sOK {
			t.Fatal("handshake succeeded without trust")
		}
		mu.Lock()
		defer mu.Unlock()
		if want := "Fatal/" + rejectionAlert(m.backend).String(); len(alerts) != 1 || alerts[0] != want {
			t.Errorf("server alertReceived %v, want [%s]", alerts, want)
		}
	})
}

func TestConfigurationSemantics(t *testing.T) {
	var c Configuration
	if c.Protocol() != SecureProtocols || c.PeerVerifyMode() != AutoVerifyPeer || c.SslOptions() != DefaultSslOptions ||
		c.SessionTicketLifeTimeHint() != -1 || !c.AllowsOnDemandRoots() || c.SessionProtocol() != UnknownProtocol ||
		!c.DiffieHellmanParameters().Equal(DefaultDiffieHellmanParameters()) {
		t.Error("null configuration defaults")
	}
	c.SetPeerVerifyDepth(3)
	c.SetPeerVerifyDepth(-1)
	if c.PeerVerifyDepth() != 3 {
		t.Error("negative depth must be ignored")
	}
	c.SetSslOption(SslOptionDisableSessionPersistence, false)
	if c.TestSslOption(SslOptionDisableSessionPersistence) || !c.TestSslOption(SslOptionDisableCompression) {
		t.Error("SetSslOption")
	}
	c.SetAllowedNextProtocols([]string{"h2", "", strings.Repeat("x", 256), "http/1.1"})
	if !slices.Equal(c.AllowedNextProtocols(), []string{"h2", "http/1.1"}) {
		t.Errorf("ALPN list %v", c.AllowedNextProtocols())
	}
	if unknown := c.SetCiphersString("ECDHE-RSA-AES128-GCM-SHA256:BOGUS"); len(unknown) != 1 || len(c.Ciphers()) != 1 {
		t.Error("SetCiphersString")
	}
	if c.AddCaCertificatesFromPath("/nonexistent/*.pem", Pem, Wildcard) || !c.AllowsOnDemandRoots() {
		t.Error("a path loading nothing changes nothing")
	}

	// Sockets copy the default at construction; later changes do not reach them.
	old := DefaultConfiguration()
	defer SetDefaultConfiguration(old)
	d := DefaultConfiguration()
	d.SetProtocol(TlsV1_3)
	SetDefaultConfiguration(d)
	s := NewSocket()
	d.SetProtocol(TlsV1_2)
	SetDefaultConfiguration(d)
	if s.Protocol() != TlsV1_3 || NewSocket().Protocol() != TlsV1_2 {
		t.Error("sockets must copy the default configuration at construction")
	}

	// SslConfiguration round trip, including the on-demand rule.
	cfg := Configuration{}
	cfg.SetCaCertificates([]Certificate{})
	s.SetSslConfiguration(cfg)
	back := s.SslConfiguration()
	if back.AllowsOnDemandRoots() || len(back.CaCertificates()) != 0 {
		t.Error("round trip lost the explicit (empty) CA list")
	}
	s.SetSslConfiguration(Configuration{})
	if s.SslConfiguration().AllowsOnDemandRoots() {
		t.Error("a socket never re-enables on-demand root loading")
	}
}

func TestBackendRegistry(t *testing.T) {
	if !slices.Contains(AvailableBackends(), "go") || ActiveBackend() != "go" || !SupportsSsl() {
		t.Fatalf("backends %v active %q", AvailableBackends(), ActiveBackend())
	}
	if SetActiveBackend("nonexistent") {
		t.Error("unknown backend accepted")
	}
	if !IsProtocolSupported(TlsV1_3, "") || IsProtocolSupported(DtlsV1_2, "go") || IsProtocolSupported(TlsV1_3, "nonexistent") {
		t.Error("IsProtocolSupported")
	}
	if !IsFeatureSupported(FeatureCertificateVerification, "go") || IsFeatureSupported(FeaturePsk, "go") || IsFeatureSupported(FeatureAlerts, "go") {
		t.Error("the go backend must tell the truth about PSK and alerts")
	}
	if !IsClassImplemented(ClassSocket, "go") || IsClassImplemented(ClassDtls, "go") {
		t.Error("IsClassImplemented")
	}
	if SslLibraryVersionNumber() <= 0 || !strings.Contains(SslLibraryVersionString(), "go1.") ||
		SslLibraryBuildVersionNumber() != SslLibraryVersionNumber() {
		t.Errorf("versions %x %q", SslLibraryVersionNumber(), SslLibraryVersionString())
	}
	// Once a socket used it, the active backend is fixed.
	useBackend()
	if !SetActiveBackend("go") {
		t.Error("re-selecting the active backend must report true")
	}
	// PSK on the go backend fails clearly.
	cfg := Configuration{}
	cfg.SetPreSharedKeyIdentityHint([]byte("hint"))
	params := SessionParams{Server: true, Config: cfg, Hooks: &NewSocket().ep}
	if _, err := (goBackend{}).NewEngine(params); err == nil || !strings.Contains(err.Error(), "PSK") {
		t.Errorf("PSK on the go backend's engine: %v", err)
	}
	if _, err := (goBackend{}).NewStream(nil, params); err == nil || !strings.Contains(err.Error(), "PSK") {
		t.Errorf("PSK on the go backend's stream: %v", err)
	}
}

func TestInvalidUserData(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		other, _ := pki.NewKey(pki.ECDSAP256)
		tests := []struct {
			name   string
			cfg    func() Configuration
			msg    string
			goOnly bool // a crypto/tls limit; OpenSSL supports it
		}{
			{"certificate without key", func() Configuration {
				c := p.emptyConfig()
				c.SetLocalCertificate(certOf(p.server))
				return c
			}, "Cannot provide a certificate with no key", false},
			{"key that does not match", func() Configuration {
				c := p.emptyConfig()
				c.SetLocalCertificate(certOf(p.server))
				c.SetPrivateKey(NewKey(other))
				return c
			}, "Private key does not certify public key", false},
			{"only unsupported TLS 1.3 subset", func() Configuration {
				c := p.serverConfig(p.server)
				c.SetCiphers([]Cipher{CipherByName("TLS_AES_128_GCM_SHA256")})
				return c
			}, "cannot restrict TLS 1.3", true},
			{"unsupported curve", func() Configuration {
				c := p.serverConfig(p.server)
				c.SetEllipticCurves([]EllipticCurve{CurveFromShortName("secp256k1")})
				return c
			}, "elliptic curves", true},
		}
		for _, tc := range tests {
			if tc.goOnly && m.backend != "go" {
				continue
			}
			t.Run(tc.name, func(t *testing.T) {
				_, srv := tcpPair(t)
				s := NewSocketFromConn(srv)
				s.SetSslConfiguration(tc.cfg())
				err := s.StartServerEncryption()
				if err == nil || !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("err = %v, want %q", err, tc.msg)
				}
				if s.SocketError() != SslInvalidUserDataError {
					t.Errorf("kind %v", s.SocketError())
				}
				s.Close()
			})
		}
	})
}

func TestSocketOptions(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		client, _ := mustPair(t, p)
		if v, err := client.SocketOption(LowDelayOption); err != nil || v == 0 {
			t.Errorf("low delay must be on by default: %d %v", v, err)
		}
		for _, tc := range []struct {
			opt SocketOption
			set int
		}{{LowDelayOption, 0}, {KeepAliveOption, 1}, {SendBufferSizeSocketOption, 65536}, {ReceiveBufferSizeSocketOption, 65536}, {TypeOfServiceOption, 0x10}} {
			if err := client.SetSocketOption(tc.opt, tc.set); err != nil {
				t.Errorf("set %v: %v", tc.opt, err)
				continue
			}
			v, err := client.SocketOption(tc.opt)
			if err != nil || (v != tc.set && v != 2*tc.set && !(tc.set == 1 && v != 0)) {
				t.Errorf("%v = %d, %v; set %d", tc.opt, v, err, tc.set)
			}
		}
		if err := client.SetSocketOption(MulticastTtlOption, 1); err != ErrUnsupported {
			t.Errorf("multicast on TCP: %v", err)
		}
		if err := NewSocket().SetSocketOption(LowDelayOption, 1); err == nil {
			t.Error("options on an unconnected socket")
		}
	})
}

// TestCoalescedWrites: a burst of small writes is coalesced, yet arrives
// complete and in order; Close sends what is queued before close_notify;
// a failure while flushing is reported by a later Write.
func TestCoalescedWrites(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		client, server := mustPair(t, p)
		const n = 20000
		got := make(chan []byte, 1)
		go func() { b, _ := io.ReadAll(server); got <- b }()
		var want bytes.Buffer
		for i := range n {
			msg := []byte(strings.Repeat(string(rune('a'+i%26)), 1+i%60) + "\n")
			want.Write(msg)
			if _, err := client.Write(msg); err != nil {
				t.Fatal(err)
			}
		}
		client.Close()
		if b := <-got; !bytes.Equal(b, want.Bytes()) {
			t.Fatalf("received %d bytes, want %d (in order)", len(b), want.Len())
		}

		// A peer that resets: the error surfaces on a later write.
		c2, s2 := mustPair(t, p)
		s2.mu.Lock()
		raw := s2.raw.(*net.TCPConn)
		s2.mu.Unlock()
		raw.SetLinger(0)
		s2.Abort()
		raw.Close()
		var werr error
		for i := 0; i < 100000 && werr == nil; i++ {
			_, werr = c2.Write(make([]byte, 64))
		}
		if werr == nil {
			t.Error("writes to a reset connection never failed")
		}
	})
}
