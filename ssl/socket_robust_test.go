package ssl

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// serverOn wraps an accepted connection in a server Socket that starts its handshake.
func serverOn(t *testing.T, p *testPKI, c net.Conn) *Socket {
	t.Helper()
	s := NewSocketFromConn(c)
	s.SetSslConfiguration(p.serverConfig(p.server))
	if err := s.StartServerEncryption(); err != nil {
		t.Fatal(err)
	}
	return s
}

// tcpPair returns both ends of a loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		ch <- c
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-ch
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// clientHello captures the first flight a crypto/tls client sends.
func clientHello(t *testing.T) []byte {
	t.Helper()
	a, b := net.Pipe()
	go func() {
		c := tls.Client(a, &tls.Config{ServerName: "x", InsecureSkipVerify: true})
		_ = c.Handshake()
	}()
	buf := make([]byte, 4096)
	n, _ := b.Read(buf)
	a.Close()
	b.Close()
	return buf[:n]
}

func TestServerBadHandshakes(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		hello := clientHello(t)
		garbage := make([]byte, 300)
		rand.Read(garbage)
		flipped := append([]byte(nil), hello...)
		flipped[5] ^= 0x02 // handshake type: ClientHello becomes an unexpected message
		tests := []struct {
			name  string
			send  []byte
			close bool
			want  SocketError
		}{
			{"garbage", garbage, false, SslHandshakeFailedError},
			{"HTTP request", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false, SslHandshakeFailedError},
			// The peer ending the stream mid-handshake is Qt's RemoteHostClosedError.
			{"truncated ClientHello, then close", hello[:20], true, RemoteHostClosedError},
			{"ClientHello with a flipped bit", flipped, false, SslHandshakeFailedError},
			{"oversized record header", []byte{0x16, 0x03, 0x01, 0xff, 0xff, 0x01}, true, SslHandshakeFailedError},
			{"nothing, then close", nil, true, RemoteHostClosedError},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				cli, srv := tcpPair(t)
				s := serverOn(t, p, srv)
				var kinds []SocketError
				var mu sync.Mutex
				s.OnErrorOccurred(func(k SocketError) { mu.Lock(); kinds = append(kinds, k); mu.Unlock() })
				if len(tc.send) > 0 {
					cli.Write(tc.send)
				}
				if tc.close {
					cli.Close()
				}
				if s.WaitForEncrypted(5 * time.Second) {
					t.Fatal("encrypted from bad input")
				}
				if !s.WaitForDisconnected(5*time.Second) && s.State() != UnconnectedState {
					t.Fatalf("state %v", s.State())
				}
				mu.Lock()
				defer mu.Unlock()
				if len(kinds) != 1 || kinds[0] != tc.want {
					t.Errorf("errorOccurred %v, want [%v] (%s)", kinds, tc.want, s.ErrorString())
				}
			})
		}
	})
}

func TestStalledPeerCanBeAborted(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		_, srv := tcpPair(t)
		s := serverOn(t, p, srv)
		if s.WaitForEncrypted(200 * time.Millisecond) {
			t.Fatal("encrypted without a client")
		}
		start := time.Now()
		s.Abort()
		if s.State() != UnconnectedState || time.Since(start) > 2*time.Second {
			t.Errorf("Abort during a stalled handshake: state %v after %v", s.State(), time.Since(start))
		}
		// A client that stalls mid-handshake: our client against a silent server.
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			c, err := l.Accept()
			if err == nil {
				defer c.Close()
				io.Copy(io.Discard, c)
			}
		}()
		c := NewSocket()
		c.ConnectToHostEncrypted("127.0.0.1", uint16(l.Addr().(*net.TCPAddr).Port))
		if c.WaitForEncrypted(200 * time.Millisecond) {
			t.Fatal("encrypted against a silent server")
		}
		c.Close()
		if c.State() != UnconnectedState {
			t.Errorf("state after Close: %v", c.State())
		}
	})
}

func TestPeerResetAndUncleanClose(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		for _, mode := range []string{"reset", "unclean"} {
			t.Run(mode, func(t *testing.T) {
				client, server, err := socketPair(t, p)
				if err != nil {
					t.Fatal(err)
				}
				defer client.Close()
				server.mu.Lock()
				raw := server.raw.(*net.TCPConn)
				server.mu.Unlock()
				if mode == "reset" {
					raw.SetLinger(0)
				}
				server.Write([]byte("last words"))
				time.Sleep(50 * time.Millisecond)
				raw.Close() // no close_notify
				server.Abort()
				buf, err := io.ReadAll(client)
				if string(buf) != "last words" {
					t.Errorf("data before the close: %q", buf)
				}
				switch mode {
				case "unclean":
					if !errors.Is(err, ErrUncleanShutdown) || !errors.Is(err, io.ErrUnexpectedEOF) {
						t.Errorf("unclean close: err = %v, want ErrUncleanShutdown", err)
					}
				case "reset":
					if err == nil {
						t.Error("reset: no error")
					}
				}
				client.WaitForDisconnected(5 * time.Second)
				if client.SocketError() != RemoteHostClosedError {
					t.Errorf("error kind %v (%s)", client.SocketError(), client.ErrorString())
				}
			})
		}
		// A clean close_notify gives io.EOF.
		client, server := mustPair(t, p)
		server.Write([]byte("bye"))
		server.Close()
		buf, err := io.ReadAll(client)
		if string(buf) != "bye" || err != nil {
			t.Errorf("clean close: %q %v", buf, err)
		}
		client.Close()
	})
}

// flipProxy relays between two TCP connections and flips one bit in the
// server-to-client direction once armed.
func TestFlippedBitInRecord(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var srv *Socket
		srvReady := make(chan struct{})
		go func() {
			c, err := l.Accept()
			if err != nil {
				return
			}
			srv = NewSocketFromConn(c)
			srv.SetSslConfiguration(p.serverConfig(p.server))
			srv.StartServerEncryption()
			close(srvReady)
		}()
		pl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pl.Close()
		var armed sync.Mutex
		flip := false
		go func() {
			in, err := pl.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				in.Close()
				return
			}
			go func() { io.Copy(out, in); out.Close() }()
			buf := make([]byte, 32<<10)
			for {
				n, err := out.Read(buf)
				if n > 0 {
					armed.Lock()
					if flip && n > 10 {
						buf[n-5] ^= 0x01
						flip = false
					}
					armed.Unlock()
					in.Write(buf[:n])
				}
				if err != nil {
					in.Close()
					return
				}
			}
		}()
		c := NewSocket()
		defer c.Close()
		c.SetSslConfiguration(p.clientConfig())
		c.SetPeerVerifyName("localhost")
		c.ConnectToHostEncrypted("127.0.0.1", uint16(pl.Addr().(*net.TCPAddr).Port))
		if !c.WaitForEncrypted(5 * time.Second) {
			t.Fatal(c.ErrorString())
		}
		<-srvReady
		defer srv.Close()
		srv.WaitForEncrypted(5 * time.Second)
		armed.Lock()
		flip = true
		armed.Unlock()
		srv.Write(make([]byte, 1000))
		_, err = io.ReadAll(c)
		if err == nil {
			t.Fatal("a corrupted record was accepted")
		}
		c.WaitForDisconnected(5 * time.Second)
		if c.SocketError() != SslInternalError {
			t.Errorf("error kind %v (%s)", c.SocketError(), c.ErrorString())
		}
	})
}

// TestAbortAndCloseFromEveryHandler subscribes, to each event in turn, a
// handler that calls Abort (or Close) on its own socket: nothing may hang,
// panic or leak.
func TestAbortAndCloseFromEveryHandler(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), echo)
		subscribe := map[string]func(s *Socket, act func()){
			"stateChanged":          func(s *Socket, act func()) { s.OnStateChanged(func(SocketState) { act() }) },
			"hostFound":             func(s *Socket, act func()) { s.OnHostFound(act) },
			"connected":             func(s *Socket, act func()) { s.OnConnected(act) },
			"modeChanged":           func(s *Socket, act func()) { s.OnModeChanged(func(SslMode) { act() }) },
			"peerVerifyError":       func(s *Socket, act func()) { s.OnPeerVerifyError(func(Error) { act() }) },
			"sslErrors":             func(s *Socket, act func()) { s.OnSslErrors(func([]Error) { act() }) },
			"encrypted":             func(s *Socket, act func()) { s.OnEncrypted(act) },
			"readyRead":             func(s *Socket, act func()) { s.OnReadyRead(act) },
			"bytesWritten":          func(s *Socket, act func()) { s.OnBytesWritten(func(int64) { act() }) },
			"encryptedBytesWritten": func(s *Socket, act func()) { s.OnEncryptedBytesWritten(func(int64) { act() }) },
			"errorOccurred":         func(s *Socket, act func()) { s.OnErrorOccurred(func(SocketError) { act() }) },
			"disconnected":          func(s *Socket, act func()) { s.OnDisconnected(act) },
			"readChannelFinished":   func(s *Socket, act func()) { s.OnReadChannelFinished(act) },
			"alertReceived": func(s *Socket, act func()) {
				s.OnAlertReceived(func(AlertLevel, AlertType, string) { act() })
			},
		}
		for name, sub := range subscribe {
			for _, how := range []string{"Abort", "Close", "DisconnectFromHost"} {
				t.Run(name+"/"+how, func(t *testing.T) {
					s := NewSocket()
					s.SetSslConfiguration(p.clientConfig())
					s.SetPeerVerifyName("wrong.example") // so that verification events happen
					s.IgnoreSslErrorList([]Error{NewError(HostNameMismatch, certOf(p.server))})
					var fired atomic.Bool // handlers may re-enter (direct-connection semantics)
					sub(s, func() {
						if fired.Swap(true) {
							return
						}
						func() {
							// A blocking wait from a handler must refuse, not deadlock.
							if s.WaitForDisconnected(time.Second) {
								t.Error("WaitForDisconnected inside a handler returned true")
							}
							switch how {
							case "Abort":
								s.Abort()
							case "Close":
								s.Close()
							default:
								s.DisconnectFromHost()
							}
						}()
					})
					s.ConnectToHostEncrypted("127.0.0.1", port)
					if s.WaitForEncrypted(5 * time.Second) {
						s.Write([]byte("ping\n"))
						s.WaitForReadyRead(2 * time.Second)
					}
					done := make(chan struct{})
					go func() { s.Close(); close(done) }()
					select {
					case <-done:
					case <-time.After(5 * time.Second):
						t.Fatal("Close hung")
					}
					if s.State() != UnconnectedState {
						t.Errorf("state %v", s.State())
					}
				})
			}
		}
	})
}

func TestAbortAndCloseInEveryState(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), echo)
		for _, op := range []func(*Socket){(*Socket).Abort, func(s *Socket) { s.Close() }, (*Socket).DisconnectFromHost} {
			// Unconnected.
			s := NewSocket()
			op(s)
			op(s)
			// Host lookup / connecting.
			s = NewSocket()
			s.SetSslConfiguration(p.clientConfig())
			s.ConnectToHostEncrypted("localhost", port)
			op(s)
			s.Close()
			// Encrypted.
			s = NewSocket()
			s.SetSslConfiguration(p.clientConfig())
			s.ConnectToHostEncrypted("localhost", port)
			s.WaitForEncrypted(5 * time.Second)
			op(s)
			s.WaitForDisconnected(5 * time.Second)
			s.Close()
			if s.State() != UnconnectedState {
				t.Errorf("state %v", s.State())
			}
			// After the close: every call still works and fails cleanly.
			if _, err := s.Write([]byte("x")); err == nil {
				t.Error("Write after Close succeeded")
			}
			if _, err := s.Read(make([]byte, 1)); err == nil {
				t.Error("Read after Close succeeded")
			}
		}
	})
}

// TestFatalAlertThenClose checks the bytes on the wire after a failed
// handshake: exactly one fatal alert record, then the end of the stream —
// no close_notify after it.
func TestFatalAlertThenClose(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		hello := clientHello(t)
		bad := append([]byte(nil), hello...)
		bad[5] ^= 0x02 // not a ClientHello: unexpected_message
		cli, srv := tcpPair(t)
		s := serverOn(t, p, srv)
		defer s.Close()
		cli.Write(bad)
		cli.SetReadDeadline(time.Now().Add(5 * time.Second))
		reply, err := io.ReadAll(cli)
		if err != nil {
			t.Fatalf("reading the reply: %v", err)
		}
		if len(reply) != 7 || reply[0] != 0x15 || reply[3] != 0 || reply[4] != 2 || reply[5] != 2 {
			t.Fatalf("reply % x, want one fatal alert record and nothing after it", reply)
		}
		if AlertType(reply[6]) != AlertUnexpectedMessage {
			t.Errorf("alert %v, want UnexpectedMessage", AlertType(reply[6]))
		}
	})
}

// TestWriteQueueIsBounded: before the handshake completes writes queue, up
// to 1 MiB; beyond that a writer blocks until the socket goes away.
func TestWriteQueueIsBounded(t *testing.T) {
	checkNoLeaks(t)
	_, srv := tcpPair(t) // a peer that never answers
	s := NewSocketFromConn(srv)
	if err := s.StartClientEncryption(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Write(make([]byte, maxWriteQueue)); n != maxWriteQueue || err != nil {
		t.Fatalf("queued write: %d %v", n, err)
	}
	if s.BytesToWrite() != maxWriteQueue {
		t.Errorf("BytesToWrite %d", s.BytesToWrite())
	}
	done := make(chan error, 1)
	go func() { _, err := s.Write([]byte("one more")); done <- err }()
	select {
	case <-done:
		t.Fatal("a write beyond the bound did not block")
	case <-time.After(200 * time.Millisecond):
	}
	s.Abort()
	select {
	case err := <-done:
		if err == nil {
			t.Error("the blocked write succeeded after Abort")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Abort did not release the blocked writer")
	}
}
