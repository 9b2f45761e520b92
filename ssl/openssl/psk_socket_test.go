//go:build cgo && linux

package openssl_test

import (
	"bytes"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
)

// preSharedKeyAuthenticationRequired through ssl.Socket and ssl.Server
// on this backend, over loopback TCP.

// pskSide is one side's handler: the key it sets (none when nil), how
// often it ran, and the fatal alerts its socket sent.
type pskSide struct {
	key   []byte
	asked atomic.Int32
	mu    sync.Mutex
	fatal []string
}

func (p *pskSide) fill(a *ssl.PreSharedKeyAuthenticator) {
	p.asked.Add(1)
	if p.key != nil {
		a.SetIdentity([]byte("client1"))
		a.SetPreSharedKey(p.key)
	}
}

func (p *pskSide) alert(level ssl.AlertLevel, typ ssl.AlertType, desc string) {
	if level == ssl.AlertLevelFatal {
		p.mu.Lock()
		p.fatal = append(p.fatal, desc)
		p.mu.Unlock()
	}
}

func (p *pskSide) fatalAlerts() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.fatal...)
}

// pskSockets runs a Server and a client Socket with the given
// configurations, both subscribed to preSharedKeyAuthenticationRequired.
// It returns the client and, when the handshake completed on the server,
// the accepted socket; serverErr is what the server reported otherwise.
func pskSockets(t *testing.T, ccfg, scfg ssl.Configuration, client, server *pskSide) (c, s *ssl.Socket, serverErr func() string) {
	t.Helper()
	srv, err := ssl.Listen("tcp", "127.0.0.1:0", scfg)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var serr string
	srv.OnPreSharedKeyAuthenticationRequired(func(_ *ssl.Socket, a *ssl.PreSharedKeyAuthenticator) { server.fill(a) })
	srv.OnAlertSent(func(_ *ssl.Socket, level ssl.AlertLevel, typ ssl.AlertType, desc string) {
		server.alert(level, typ, desc)
	})
	srv.OnErrorOccurred(func(sock *ssl.Socket, _ ssl.SocketError) {
		mu.Lock()
		serr = sock.ErrorString()
		mu.Unlock()
	})
	accepted := make(chan *ssl.Socket, 1) // one value: the socket, or nil once the server closed
	go func() {
		conn, err := srv.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- conn.(*ssl.Socket)
	}()
	c = ssl.NewSocket()
	c.SetSslConfiguration(ccfg)
	c.SetPeerVerifyName("localhost")
	c.OnPreSharedKeyAuthenticationRequired(client.fill)
	c.OnAlertSent(client.alert)
	t.Cleanup(func() {
		c.Close()
		srv.Close()
		if s == nil {
			s = <-accepted
		}
		if s != nil {
			s.Close()
		}
	})
	c.ConnectToHostEncrypted("127.0.0.1", uint16(srv.Addr().(*net.TCPAddr).Port))
	if c.WaitForEncrypted(10 * time.Second) {
		select {
		case s = <-accepted:
		case <-time.After(10 * time.Second):
			t.Fatal("the server did not hand over the connection")
		}
	}
	return c, s, func() string {
		mu.Lock()
		defer mu.Unlock()
		return serr
	}
}

// echo writes msg on a and reads it back whole on b.
func echo(t *testing.T, a, b *ssl.Socket, msg string) {
	t.Helper()
	if _, err := a.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	b.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(b, got); err != nil || string(got) != msg {
		t.Fatalf("read %q, %v", got, err)
	}
}

// TestSocketPSKHandlerWithoutKeyTLS13: subscribing to
// preSharedKeyAuthenticationRequired and setting no key leaves a TLS 1.3
// handshake to certificates, as in Qt (which never asks in TLS 1.3) —
// whichever side's handler sets no key.
func TestSocketPSKHandlerWithoutKeyTLS13(t *testing.T) {
	p := newIDs()
	key := bytes.Repeat([]byte{7}, 32)
	for _, tc := range []struct {
		name                     string
		clientKey, serverKey     []byte
		clientAsked, serverAsked int32
	}{
		// The client offers nothing: the server is never asked.
		{"neither sets a key", nil, nil, 1, 0},
		{"the client sets no key", nil, key, 1, 0},
		// The client offers its PSK; the server's handler sets no key.
		{"the server sets no key", key, nil, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server := &pskSide{key: tc.clientKey}, &pskSide{key: tc.serverKey}
			ccfg := p.clientConfig("openssl", ssl.TlsV1_3)
			scfg := p.serverConfig("openssl", p.server)
			scfg.SetProtocol(ssl.TlsV1_3)
			c, s, serr := pskSockets(t, ccfg, scfg, client, server)
			if s == nil {
				t.Fatalf("handshake: client %q, server %q, alerts sent: client %v, server %v",
					c.ErrorString(), serr(), client.fatalAlerts(), server.fatalAlerts())
			}
			echo(t, c, s, "hello over certificates")
			echo(t, s, c, "and back")
			if c.SessionProtocol() != ssl.TlsV1_3 || !c.PeerCertificate().Equal(cert(p.server)) || len(c.SslHandshakeErrors()) != 0 {
				t.Errorf("protocol %v, peer %v, errors %v", c.SessionProtocol(), c.PeerCertificate().SubjectDisplayName(), c.SslHandshakeErrors())
			}
			if client.asked.Load() != tc.clientAsked || server.asked.Load() != tc.serverAsked {
				t.Errorf("asked: client %d, server %d", client.asked.Load(), server.asked.Load())
			}
			if a := append(client.fatalAlerts(), server.fatalAlerts()...); len(a) != 0 {
				t.Errorf("fatal alerts sent: %v", a)
			}
		})
	}
}

// TestSocketPSKTLS13WithKeys: keys on both sides still authenticate a
// certificate-less server through the TLS 1.3 external PSK.
func TestSocketPSKTLS13WithKeys(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	client, server := &pskSide{key: key}, &pskSide{key: key}
	var ccfg, scfg ssl.Configuration
	for _, c := range []*ssl.Configuration{&ccfg, &scfg} {
		c.SetBackend("openssl")
		c.SetProtocol(ssl.TlsV1_3)
	}
	ccfg.SetPeerVerifyMode(ssl.VerifyNone)
	scfg.SetPreSharedKeyIdentityHint([]byte("H"))
	c, s, serr := pskSockets(t, ccfg, scfg, client, server)
	if s == nil {
		t.Fatalf("handshake: client %q, server %q", c.ErrorString(), serr())
	}
	echo(t, c, s, "psk")
	if !c.PeerCertificate().IsNull() || client.asked.Load() != 1 || server.asked.Load() != 1 {
		t.Errorf("peer certificate %v, asked: client %d, server %d", !c.PeerCertificate().IsNull(), client.asked.Load(), server.asked.Load())
	}
}

// TestSocketPSKTLS12WithoutKeyFails: for a TLS 1.2 PSK suite a handler
// that sets no key fails the handshake, as in Qt — on either side.
func TestSocketPSKTLS12WithoutKeyFails(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	for _, tc := range []struct {
		name                 string
		clientKey, serverKey []byte
	}{
		{"client", nil, key},
		{"server", key, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server := &pskSide{key: tc.clientKey}, &pskSide{key: tc.serverKey}
			var ccfg, scfg ssl.Configuration
			for _, c := range []*ssl.Configuration{&ccfg, &scfg} {
				c.SetBackend("openssl")
				c.SetProtocol(ssl.TlsV1_2)
			}
			ccfg.SetPeerVerifyMode(ssl.VerifyNone)
			scfg.SetPreSharedKeyIdentityHint([]byte("H"))
			c, s, serr := pskSockets(t, ccfg, scfg, client, server)
			if s != nil || c.IsEncrypted() {
				t.Fatal("the handshake completed without a key")
			}
			if client.asked.Load() != 1 || (tc.name == "server") != (server.asked.Load() == 1) {
				t.Errorf("asked: client %d, server %d", client.asked.Load(), server.asked.Load())
			}
			if tc.name == "client" && !strings.Contains(c.ErrorString(), "no pre-shared key") {
				t.Errorf("client error %q", c.ErrorString())
			}
			if tc.name == "server" {
				deadline := time.Now().Add(10 * time.Second)
				for serr() == "" && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if !strings.Contains(serr(), "no pre-shared key") {
					t.Errorf("server error %q (client %q)", serr(), c.ErrorString())
				}
			}
		})
	}
}
