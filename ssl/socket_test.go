package ssl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// testPKI is a CA and a server and client identity under it.
type testPKI struct {
	root, server, client *pki.Cert
	mode                 backendMode // applied to every configuration made here
}

// with returns the PKI making configurations for backend mode m.
func (p *testPKI) with(m backendMode) *testPKI {
	q := *p
	q.mode = m
	return &q
}

// emptyConfig is Configuration{} in the PKI's backend mode.
func (p *testPKI) emptyConfig() Configuration { return p.mode.apply(Configuration{}) }

func newTestPKI(t testing.TB) *testPKI {
	t.Helper()
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Socket Test Root", IsCA: true})
	return &testPKI{
		root:   root,
		server: root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}, IPs: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}}),
		client: root.MustIssue(pki.Spec{CommonName: "client", ExtKeyUsage: nil}),
	}
}

// serverConfig is a configuration serving identity, trusting the test root.
func (p *testPKI) serverConfig(identity *pki.Cert) Configuration {
	c := p.emptyConfig()
	c.SetLocalCertificate(certOf(identity))
	c.SetPrivateKey(NewKey(identity.Key))
	c.SetCaCertificates([]Certificate{certOf(p.root)})
	return c
}

func (p *testPKI) clientConfig() Configuration {
	c := p.emptyConfig()
	c.SetCaCertificates([]Certificate{certOf(p.root)})
	return c
}

// recorder logs a socket's events in order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.events = append(r.events, fmt.Sprintf(format, args...))
	r.mu.Unlock()
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

// record subscribes to the lifecycle events (data events are left out to
// keep the sequences deterministic).
func record(s *Socket) *recorder {
	r := &recorder{}
	s.OnStateChanged(func(st SocketState) { r.add("stateChanged(%s)", st) })
	s.OnHostFound(func() { r.add("hostFound") })
	s.OnConnected(func() { r.add("connected") })
	s.OnModeChanged(func(m SslMode) { r.add("modeChanged(%s)", m) })
	s.OnPeerVerifyError(func(e Error) { r.add("peerVerifyError(%s)", e.Code.String()) })
	s.OnSslErrors(func(errs []Error) { r.add("sslErrors(%d)", len(errs)) })
	s.OnEncrypted(func() { r.add("encrypted") })
	s.OnErrorOccurred(func(e SocketError) { r.add("errorOccurred(%s)", e) })
	s.OnDisconnected(func() { r.add("disconnected") })
	return r
}

// startServer accepts connections on loopback and hands each to serve as
// a server Socket that has started its handshake.
func startServer(t *testing.T, cfg Configuration, serve func(*Socket)) (port uint16) {
	t.Helper()
	return serveLoopback(t, func(c net.Conn) {
		s := NewSocketFromConn(c)
		s.SetSslConfiguration(cfg)
		if err := s.StartServerEncryption(); err != nil {
			c.Close()
			return
		}
		defer s.Close()
		serve(s)
	})
}

// echo serves one encrypted echo session.
func echo(s *Socket) {
	if !s.WaitForEncrypted(5 * time.Second) {
		return
	}
	_, _ = io.Copy(s, s)
}

func TestSocketHandshakeAndEcho(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), echo)

		s := NewSocket()
		defer s.Abort()
		s.SetSslConfiguration(p.clientConfig())
		rec := record(s)
		s.ConnectToHostEncrypted("localhost", port)
		// Written before encrypted: queued, then sent first.
		if n, err := s.Write([]byte("early ")); n != 6 || err != nil {
			t.Fatalf("early write: %d %v", n, err)
		}
		if !s.WaitForEncrypted(5 * time.Second) {
			t.Fatalf("not encrypted: %s (%v)", s.ErrorString(), rec.list())
		}
		if _, err := s.Write([]byte("late\n")); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len("early late\n"))
		if _, err := io.ReadFull(s, got); err != nil || string(got) != "early late\n" {
			t.Fatalf("echo: %q %v", got, err)
		}
		if s.SessionProtocol() != TlsV1_3 || s.SessionCipher().IsNull() || !s.PeerCertificate().Equal(certOf(p.server)) {
			t.Errorf("session: %v %v %v", s.SessionProtocol(), s.SessionCipher(), s.PeerCertificate().SubjectDisplayName())
		}
		if len(s.SslHandshakeErrors()) != 0 {
			t.Errorf("handshake errors: %v", s.SslHandshakeErrors())
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		want := []string{"stateChanged(HostLookupState)", "stateChanged(ConnectingState)", "hostFound",
			"stateChanged(ConnectedState)", "modeChanged(SslClientMode)", "connected", "encrypted",
			"stateChanged(ClosingState)", "stateChanged(UnconnectedState)", "disconnected"}
		if got := rec.list(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("events:\n got  %v\n want %v", got, want)
		}
		if s.State() != UnconnectedState {
			t.Errorf("state after Close: %v", s.State())
		}
	})
}

func TestSocketVerificationFailure(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), echo)

		s := NewSocket()
		s.SetSslConfiguration(p.clientConfig())
		s.SetPeerVerifyName("wrong.example")
		rec := record(s)
		s.ConnectToHostEncrypted("127.0.0.1", port)
		err := s.WaitForEncryptedContext(context.Background())
		var ve *VerificationError
		if !errors.As(err, &ve) || !errors.Is(err, HostNameMismatch) {
			t.Fatalf("err = %v, want a VerificationError with HostNameMismatch", err)
		}
		if s.SocketError() != SslHandshakeFailedError || s.ErrorString() != HostNameMismatch.Message() {
			t.Errorf("error: %v %q", s.SocketError(), s.ErrorString())
		}
		s.WaitForDisconnected(5 * time.Second)
		want := "peerVerifyError(HostNameMismatch) sslErrors(1) errorOccurred(SslHandshakeFailedError)"
		if got := strings.Join(rec.list(), " "); !strings.Contains(got, want) || !strings.HasSuffix(got, "disconnected") || strings.Contains(got, "encrypted ") {
			t.Errorf("events: %s", got)
		}
		if len(s.SslHandshakeErrors()) != 1 || s.IsEncrypted() {
			t.Error("sslHandshakeErrors must keep the list; not encrypted")
		}
	})
}

func TestSocketIgnoreErrors(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), echo)
		leaf := certOf(p.server)
		tests := []struct {
			name   string
			setup  func(s *Socket)
			during func(s *Socket, errs []Error)
			ok     bool
		}{
			{"not ignored", nil, nil, false},
			{"IgnoreSslErrors before connecting is reset by it", func(s *Socket) { s.IgnoreSslErrors() }, nil, false},
			{"IgnoreSslErrors in the handler", nil, func(s *Socket, _ []Error) { s.IgnoreSslErrors() }, true},
			{"exact list before connecting", func(s *Socket) {
				s.IgnoreSslErrorList([]Error{NewError(HostNameMismatch, leaf)})
			}, nil, true},
			{"list with the wrong certificate", func(s *Socket) {
				s.IgnoreSslErrorList([]Error{NewError(HostNameMismatch, certOf(p.root))})
			}, nil, false},
			{"list missing one error", func(s *Socket) {
				s.IgnoreSslErrorList([]Error{NewError(CertificateExpired, leaf)})
			}, nil, false},
			{"abort in the handler", nil, func(s *Socket, _ []Error) { s.Abort() }, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := NewSocket()
				s.SetSslConfiguration(p.clientConfig())
				s.SetPeerVerifyName("wrong.example")
				if tc.setup != nil {
					tc.setup(s)
				}
				if tc.during != nil {
					s.OnSslErrors(func(errs []Error) { tc.during(s, errs) })
				}
				s.ConnectToHostEncrypted("127.0.0.1", port)
				ok := s.WaitForEncrypted(5 * time.Second)
				if ok != tc.ok {
					t.Errorf("encrypted = %v, want %v (%s)", ok, tc.ok, s.ErrorString())
				}
				if ok && len(s.SslHandshakeErrors()) != 1 {
					t.Errorf("ignored errors must stay visible: %v", s.SslHandshakeErrors())
				}
				s.Close()
			})
		}
	})
}

func TestSocketPauseAndResume(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), echo)
		for _, ignore := range []bool{true, false} {
			s := NewSocket()
			s.SetSslConfiguration(p.clientConfig())
			s.SetPeerVerifyName("wrong.example")
			s.SetPauseMode(PauseOnSslErrors)
			got := make(chan []Error, 1)
			s.OnSslErrors(func(errs []Error) { got <- errs })
			s.ConnectToHostEncrypted("127.0.0.1", port)
			<-got
			if s.IsEncrypted() {
				t.Fatal("encrypted while paused")
			}
			if ignore {
				s.IgnoreSslErrors()
			}
			s.Resume()
			if ok := s.WaitForEncrypted(5 * time.Second); ok != ignore {
				t.Errorf("ignore=%v: encrypted=%v", ignore, ok)
			}
			s.Close()
		}
	})
}

func TestSocketUnsupportedProtocol(t *testing.T) {
	s := NewSocket()
	s.SetProtocol(DtlsV1_2)
	var got []SocketError
	s.OnErrorOccurred(func(e SocketError) { got = append(got, e) })
	s.ConnectToHostEncrypted("127.0.0.1", 1)
	if s.State() != UnconnectedState || len(got) != 1 || got[0] != SslInvalidUserDataError ||
		s.ErrorString() != "Attempted to use an unsupported protocol." {
		t.Errorf("state %v errors %v %q", s.State(), got, s.ErrorString())
	}
}

func TestSocketConnectionRefused(t *testing.T) {
	port := uint16(freePort(t))
	s := NewSocket()
	s.ConnectToHostEncrypted("127.0.0.1", port)
	err := s.WaitForEncryptedContext(context.Background())
	if !errors.Is(err, ConnectionRefusedError) || s.SocketError() != ConnectionRefusedError {
		t.Errorf("err = %v, kind %v", err, s.SocketError())
	}
}

func TestDial(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), echo)
		cfg := p.clientConfig()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := Dial(ctx, fmt.Sprintf("localhost:%d", port), cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		msg := bytes.Repeat([]byte("x"), 100000)
		go s.Write(msg)
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(s, got); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("bulk echo: %v", err)
		}
		// The default configuration does not trust the test root.
		_, err = Dial(ctx, fmt.Sprintf("localhost:%d", port), DefaultConfiguration())
		if !errors.Is(err, UnableToGetLocalIssuerCertificate) {
			t.Errorf("untrusted: %v", err)
		}
	})
}

// TestSocketWritesBeforeEncryptedKeepOrder repeats the queued-write case
// many times: data written before encrypted, then after it, must arrive
// once each and in order (a buffer-compaction race once duplicated it).
func TestSocketWritesBeforeEncryptedKeepOrder(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		got := make(chan string, 64)
		port := startServer(t, p.serverConfig(p.server), func(s *Socket) {
			if !s.WaitForEncrypted(5 * time.Second) {
				return
			}
			buf := make([]byte, 100)
			for {
				n, err := s.Read(buf)
				if n > 0 {
					got <- string(buf[:n])
				}
				if err != nil {
					return
				}
			}
		})
		for i := range 30 {
			s := NewSocket()
			s.SetSslConfiguration(p.clientConfig())
			s.ConnectToHostEncrypted("localhost", port)
			s.Write([]byte("early "))
			s.WaitForEncrypted(5 * time.Second)
			s.Write([]byte("late\n"))
			var all string
			timeout := time.After(5 * time.Second)
			for len(all) < len("early late\n") {
				select {
				case x := <-got:
					all += x
				case <-timeout:
					s.Abort()
					t.Fatalf("iteration %d: timed out with %q", i, all)
				}
			}
			s.Close()
			if all != "early late\n" {
				t.Fatalf("iteration %d: server got %q", i, all)
			}
		}
	})
}
