package ssl

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// everyMethod calls every public method of s that a handler might call,
// except those that end or restart the connection: none may hang, panic
// or race, during the handshake or after it.
func everyMethod(t *testing.T, s *Socket) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_ = s.State()
	_ = s.Mode()
	_ = s.IsEncrypted()
	_ = s.SocketError()
	_ = s.ErrorString()
	_ = s.SslConfiguration()
	s.SetSslConfiguration(s.SslConfiguration())
	_ = s.Protocol()
	_ = s.PeerVerifyMode()
	_ = s.PeerVerifyDepth()
	_ = s.PeerVerifyName()
	_ = s.LocalCertificate()
	_ = s.LocalCertificateChain()
	_ = s.PrivateKey()
	_ = s.SessionCipher()
	_ = s.SessionProtocol()
	_ = s.PeerCertificate()
	_ = s.PeerCertificateChain()
	_ = s.IsSessionResumed()
	_ = s.PauseMode()
	_ = s.ReadBufferSize()
	s.SetReadBufferSize(s.ReadBufferSize())
	_ = s.LocalAddr()
	_ = s.RemoteAddr()
	_ = s.PeerAddress() + s.LocalAddress() + s.PeerName()
	_ = s.PeerPort() + s.LocalPort()
	_ = s.SocketDescriptor()
	_, _ = s.SocketOption(LowDelayOption)
	_ = s.Proxy()
	_ = s.SslHandshakeErrors()
	_ = s.OcspResponses()
	s.ContinueInterruptedHandshake()
	s.Resume()
	_ = s.BytesAvailable()
	_ = s.CanReadLine()
	_ = s.Peek(4)
	_ = s.AtEnd()
	_ = s.BytesToWrite()
	_ = s.EncryptedBytesAvailable()
	_ = s.EncryptedBytesToWrite()
	_ = s.Flush()
	// Qt's view reads never block in a handler: they return what is
	// buffered, or at once (a watchdog turns a hang into a failure).
	watchdog := time.AfterFunc(3*time.Second, func() {
		t.Error("a read blocked inside a handler")
		s.Abort()
	})
	var buf [64]byte
	for {
		n, err := s.Read(buf[:])
		if n == 0 {
			if err == nil {
				t.Error("Read in a handler returned 0, nil")
			}
			break
		}
	}
	_ = s.ReadAll()
	_ = s.ReadLine(0)
	_, _ = s.ReadByte()
	_ = s.SkipData(1)
	watchdog.Stop()
	s.SetPauseMode(s.PauseMode())
	s.SetPeerVerifyMode(s.PeerVerifyMode())
	s.IgnoreSslErrorList([]Error{NewError(HostNameMismatch, s.PeerCertificate())})
	_, _ = s.Write([]byte("x"))
	_ = s.WriteByte('y')
	_ = s.SetDeadline(time.Time{})
	_ = s.SetWriteDeadline(time.Time{})
	// Blocking waits from a handler refuse instead of deadlocking.
	for name, wait := range map[string]func() bool{
		"WaitForConnected":    func() bool { return s.WaitForConnected(time.Second) },
		"WaitForEncrypted":    func() bool { return s.WaitForEncrypted(time.Second) },
		"WaitForBytesWritten": func() bool { return s.WaitForBytesWritten(time.Second) },
		"WaitForDisconnected": func() bool { return s.WaitForDisconnected(time.Second) },
	} {
		if wait() {
			t.Errorf("%s returned true inside a handler", name)
		}
	}
	// Qt's nested wait: true once data arrived, else false at the timeout.
	_ = s.WaitForReadyRead(10 * time.Millisecond)
	if err := s.WaitForReadyReadContext(ctx); !errors.Is(err, ErrWouldDeadlock) {
		t.Errorf("WaitForReadyReadContext in a handler: %v", err)
	}
	// STARTTLS on an encrypted or encrypting socket is refused at once.
	if s.Mode() != UnencryptedMode {
		if s.StartClientEncryption() == nil || s.StartServerEncryption() == nil {
			t.Error("a second handshake was started")
		}
	}
}

// handlerEvents subscribes act to each event of a socket, by name.
var handlerEvents = map[string]func(s *Socket, act func()){
	"stateChanged":          func(s *Socket, act func()) { s.OnStateChanged(func(SocketState) { act() }) },
	"modeChanged":           func(s *Socket, act func()) { s.OnModeChanged(func(SslMode) { act() }) },
	"peerVerifyError":       func(s *Socket, act func()) { s.OnPeerVerifyError(func(Error) { act() }) },
	"sslErrors":             func(s *Socket, act func()) { s.OnSslErrors(func([]Error) { act() }) },
	"encrypted":             func(s *Socket, act func()) { s.OnEncrypted(act) },
	"readyRead":             func(s *Socket, act func()) { s.OnReadyRead(act) },
	"bytesWritten":          func(s *Socket, act func()) { s.OnBytesWritten(func(int64) { act() }) },
	"encryptedBytesWritten": func(s *Socket, act func()) { s.OnEncryptedBytesWritten(func(int64) { act() }) },
	"alertSent":             func(s *Socket, act func()) { s.OnAlertSent(func(AlertLevel, AlertType, string) { act() }) },
	"alertReceived": func(s *Socket, act func()) {
		s.OnAlertReceived(func(AlertLevel, AlertType, string) { act() })
	},
	"errorOccurred":       func(s *Socket, act func()) { s.OnErrorOccurred(func(SocketError) { act() }) },
	"disconnected":        func(s *Socket, act func()) { s.OnDisconnected(act) },
	"readChannelFinished": func(s *Socket, act func()) { s.OnReadChannelFinished(act) },
}

// TestEveryMethodFromEveryHandler: on client and server sockets, a
// handler of each event calls every method, then (in turn) nothing more,
// Close, DisconnectFromHost or Abort. Each connection must end by itself
// within the timeout, with no goroutine left.
func TestEveryMethodFromEveryHandler(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		for _, side := range []string{"client", "server"} {
			for name, sub := range handlerEvents {
				for _, end := range []string{"none", "Close", "DisconnectFromHost", "Abort"} {
					t.Run(side+"/"+name+"/"+end, func(t *testing.T) {
						var fired atomic.Int32
						act := func(s *Socket) func() {
							return func() {
								if fired.Add(1) > 2 {
									return // handlers may re-enter; twice covers during and after
								}
								everyMethod(t, s)
								switch end {
								case "Close":
									s.Close()
								case "DisconnectFromHost":
									s.DisconnectFromHost()
								case "Abort":
									s.Abort()
								}
							}
						}
						cli, srv := tcpPair(t)
						ss := NewSocketFromConn(srv)
						ss.SetSslConfiguration(p.serverConfig(p.server))
						cs := NewSocketFromConn(cli)
						ccfg := p.clientConfig()
						cs.SetSslConfiguration(ccfg)
						cs.SetPeerVerifyName("wrong.example") // so that verification events happen
						cs.IgnoreSslErrorList([]Error{NewError(HostNameMismatch, certOf(p.server))})
						if side == "client" {
							sub(cs, act(cs))
						} else {
							sub(ss, act(ss))
						}
						if err := ss.StartServerEncryption(); err != nil {
							t.Fatal(err)
						}
						if err := cs.StartClientEncryption(); err != nil {
							t.Fatal(err)
						}
						if cs.WaitForEncrypted(5*time.Second) && ss.WaitForEncrypted(5*time.Second) {
							cs.Write([]byte("ping\n"))
							ss.Write([]byte("pong\n"))
							cs.WaitForReadyRead(500 * time.Millisecond)
							ss.WaitForReadyRead(500 * time.Millisecond)
						}
						done := make(chan struct{})
						go func() { cs.Close(); ss.Close(); close(done) }()
						select {
						case <-done:
						case <-time.After(10 * time.Second):
							t.Fatal("Close hung")
						}
						if cs.State() != UnconnectedState || ss.State() != UnconnectedState {
							t.Errorf("states %v %v", cs.State(), ss.State())
						}
					})
				}
			}
		}
	})
}

// TestStartTLSFromReadyRead is Qt's STARTTLS pattern: the readyRead
// handler that reads the command starts the handshake (it used to wait
// for the loop running the handler: forever).
func TestStartTLSFromReadyRead(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		cli, srv := tcpPair(t)
		ss := NewSocketFromConn(srv)
		ss.SetSslConfiguration(p.serverConfig(p.server))
		started := make(chan error, 1)
		ss.OnReadyRead(func() {
			if ss.Mode() != UnencryptedMode || !ss.CanReadLine() {
				return
			}
			if line := string(ss.ReadLine(0)); line != "STARTTLS\r\n" {
				started <- errors.New("line " + line)
				return
			}
			ss.Write([]byte("220 go ahead\r\n"))
			started <- ss.StartServerEncryption()
		})
		ss.SetReadBufferSize(0) // starts nothing; the subscription started the plain loop
		cs := NewSocketFromConn(cli)
		cs.SetSslConfiguration(p.clientConfig())
		cs.SetPeerVerifyName("localhost")
		clientStarted := make(chan error, 1)
		cs.OnReadyRead(func() {
			if cs.Mode() == UnencryptedMode && cs.CanReadLine() && strings.HasPrefix(string(cs.ReadLine(0)), "220") {
				clientStarted <- cs.StartClientEncryption()
			}
		})
		cs.Write([]byte("STARTTLS\r\n"))
		awaitResult(t, started, "StartServerEncryption from readyRead")
		awaitResult(t, clientStarted, "StartClientEncryption from readyRead")
		if !cs.WaitForEncrypted(5*time.Second) || !ss.WaitForEncrypted(5*time.Second) {
			t.Fatalf("not encrypted: %s / %s", cs.ErrorString(), ss.ErrorString())
		}
		cs.Write([]byte("secret\n"))
		line, err := bufio.NewReader(ss).ReadString('\n')
		if line != "secret\n" || err != nil {
			t.Fatalf("%q %v", line, err)
		}
		cs.Close()
		ss.Close()
	})
}

// awaitResult fails the test if ch delivers an error, or nothing in time.
func awaitResult(t *testing.T, ch <-chan error, what string) {
	t.Helper()
	select {
	case err := <-ch:
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s did not return", what)
	}
}

// TestEncryptedBytesAvailableDuringStartTLS reads the counter while the
// handshake consumes the carried-over bytes (a data race before).
func TestEncryptedBytesAvailableDuringStartTLS(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		cli, srv := tcpPair(t)
		ss := NewSocketFromConn(srv)
		ss.SetSslConfiguration(p.serverConfig(p.server))
		ss.OnReadyRead(func() {}) // plain loop: the ClientHello lands in the buffer first
		cs := NewSocketFromConn(cli)
		cs.SetSslConfiguration(p.clientConfig())
		cs.SetPeerVerifyName("localhost")
		cs.StartClientEncryption()
		deadline := time.Now().Add(2 * time.Second)
		for ss.BytesAvailable() == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					if ss.EncryptedBytesAvailable() < 0 || cs.EncryptedBytesToWrite() < 0 {
						t.Error("negative count")
					}
				}
			}
		}()
		if err := ss.StartServerEncryption(); err != nil {
			t.Fatal(err)
		}
		ok := cs.WaitForEncrypted(5*time.Second) && ss.WaitForEncrypted(5*time.Second)
		close(stop)
		wg.Wait()
		if !ok {
			t.Fatalf("%s / %s", cs.ErrorString(), ss.ErrorString())
		}
		if n := ss.EncryptedBytesAvailable(); n != 0 {
			t.Errorf("after the handshake %d carried-over bytes remain", n)
		}
		cs.Close()
		ss.Close()
	})
}

// TestDisconnectFromEncryptedHandler: subscribers see Closing, then
// Unconnected, then disconnected — the last state seen is the real one.
func TestDisconnectFromEncryptedHandler(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		port := startServer(t, p.serverConfig(p.server), echo)
		s := NewSocket()
		s.SetSslConfiguration(p.clientConfig())
		rec := record(s)
		s.OnEncrypted(func() { s.DisconnectFromHost() })
		s.ConnectToHostEncrypted("localhost", port)
		if !s.WaitForDisconnected(5 * time.Second) {
			t.Fatal("not disconnected")
		}
		var tail []string
		for _, e := range rec.list() {
			if strings.HasPrefix(e, "stateChanged") || e == "disconnected" {
				tail = append(tail, e)
			}
		}
		want := []string{"stateChanged(ClosingState)", "stateChanged(UnconnectedState)", "disconnected"}
		if len(tail) < 3 || !slices.Equal(tail[len(tail)-3:], want) {
			t.Fatalf("events %v, want … %v", tail, want)
		}
		if s.State() != UnconnectedState {
			t.Errorf("state %v", s.State())
		}
	})
}

// recordsAfter reads c until EOF and counts the TLS records in what came.
func recordsAfter(t *testing.T, c net.Conn) (records int, reset bool) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	data, err := io.ReadAll(c)
	if err != nil {
		reset = true
	}
	for len(data) >= 5 {
		n := int(binary.BigEndian.Uint16(data[3:5]))
		if len(data) < 5+n {
			break
		}
		records++
		data = data[5+n:]
	}
	return records, reset
}

// TestNoCloseNotifyAfterFatalAlert: a server socket whose Read failed on a
// corrupted record (it sent bad_record_mac) and that the application then
// closes gracefully must not send close_notify after the fatal alert.
func TestNoCloseNotifyAfterFatalAlert(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		for i := 0; i < 5; i++ {
			cli, srv := tcpPair(t)
			ss := NewSocketFromConn(srv)
			ss.SetSslConfiguration(p.serverConfig(p.server))
			ss.OnErrorOccurred(func(SocketError) {})
			ss.StartServerEncryption()
			// A client engine over the raw connection: every byte visible.
			ccfg := p.clientConfig()
			e, err := NewClientEngine(ccfg, "localhost")
			if err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 16<<10)
			cli.SetDeadline(time.Now().Add(5 * time.Second))
			for err := e.Handshake(); err != nil; err = e.Handshake() {
				e.WriteOutputTo(cli)
				n, rerr := cli.Read(buf)
				if rerr != nil {
					t.Fatal(rerr)
				}
				e.Feed(buf[:n])
			}
			e.WriteOutputTo(cli)
			if !ss.WaitForEncrypted(5 * time.Second) {
				t.Fatal(ss.ErrorString())
			}
			// Take the server's session tickets first (OpenSSL sends them
			// after the client's Finished): a byte from the server follows them.
			ss.Write([]byte("x"))
			for got := false; !got; {
				n, rerr := cli.Read(buf)
				if rerr != nil {
					t.Fatal(rerr)
				}
				e.Feed(buf[:n])
				k, _ := e.Read(make([]byte, 10))
				got = k > 0
			}
			e.Write([]byte("hello"))
			n := e.TakeOutput(buf)
			buf[n-1] ^= 0x80 // break the record's tag
			cli.Write(buf[:n])
			if _, err := ss.Read(make([]byte, 10)); err == nil {
				t.Fatal("a corrupted record was read")
			}
			ss.Close()
			// After the server's session tickets, at most its one fatal
			// alert record: never a second (close_notify) record.
			e.Close()
			records, reset := recordsAfter(t, cli)
			if reset {
				t.Error("the connection was reset: the alert may be lost")
			}
			if records > 1 {
				t.Fatalf("%d records after the corrupted one: close_notify followed the fatal alert", records)
			}
			cli.Close()
		}
	})
}

// TestAlertSurvivesUnreadInput: a server that rejects an oversized record
// while more input is unread closes in order, so the client gets the
// alert, not a reset (every time, not just sometimes).
func TestAlertSurvivesUnreadInput(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		acceptAll(srv, func(*Socket) {})
		addr := srv.Addr().String()
		junk := make([]byte, 64<<10)
		for i := 0; i < 20; i++ {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			// A handshake record claiming 20 KiB (over the 16 KiB limit).
			c.Write([]byte{0x16, 0x03, 0x01, 0x50, 0x00})
			c.Write(junk)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			hdr := make([]byte, 7)
			_, err = io.ReadFull(c, hdr)
			c.Close()
			if err != nil {
				t.Fatalf("connection %d: no alert (%v)", i, err)
			}
			if hdr[0] != 0x15 || hdr[5] != 2 {
				t.Fatalf("connection %d: got % x, want a fatal alert", i, hdr)
			}
		}
	})
}
