package ssl

import (
	"net"
	"testing"
	"time"

	"golang.org/x/net/nettest"
)

// socketPair returns an encrypted client and server Socket connected over loopback.
func socketPair(t testing.TB, p *testPKI) (client, server *Socket, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	defer l.Close()
	accepted := make(chan *Socket, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		s := NewSocketFromConn(c)
		s.SetSslConfiguration(p.serverConfig(p.server))
		if err := s.StartServerEncryption(); err != nil {
			c.Close()
			accepted <- nil
			return
		}
		accepted <- s
	}()
	client = NewSocket()
	client.SetSslConfiguration(p.clientConfig())
	client.ConnectToHostEncrypted("127.0.0.1", uint16(l.Addr().(*net.TCPAddr).Port))
	server = <-accepted
	if server == nil || !client.WaitForEncrypted(5*time.Second) || !server.WaitForEncrypted(5*time.Second) {
		client.Abort()
		if server != nil {
			server.Abort()
		}
		return nil, nil, &SocketErr{Kind: SslHandshakeFailedError, Message: "pair did not encrypt"}
	}
	return client, server, nil
}

// mustPair is socketPair for tests that need it to work: it fails the test
// otherwise, and closes both sockets when the test ends.
func mustPair(t *testing.T, p *testPKI) (client, server *Socket) {
	t.Helper()
	client, server, err := socketPair(t, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// TestSocketNetConn runs x/net/nettest's net.Conn conformance suite on an
// encrypted Socket pair.
func TestSocketNetConn(t *testing.T) {
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
			client, server, err := socketPair(t, p)
			if err != nil {
				return nil, nil, nil, err
			}
			return client, server, func() { client.Close(); server.Close() }, nil
		})
	})
}
