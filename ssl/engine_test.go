package ssl

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// enginePair returns a client and a server engine of the given backend.
func enginePair(t testing.TB, p *testPKI, backend string, ccfg Configuration) (*Engine, *Engine) {
	t.Helper()
	ccfg.SetBackend(backend)
	scfg := p.serverConfig(p.server)
	scfg.SetBackend(backend)
	c, err := NewClientEngine(ccfg, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServerEngine(scfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

// shuttle moves one side's output to the other, chunk bytes at a time
// (0: all at once); it reports whether anything moved.
func shuttle(t testing.TB, from, to *Engine, chunk int) bool {
	t.Helper()
	shuttleMu.Lock() // one reused buffer: the harness should not dominate allocation figures
	defer shuttleMu.Unlock()
	buf := shuttleBuf[:]
	moved := false
	for {
		n := from.TakeOutput(buf)
		if n == 0 {
			return moved
		}
		moved = true
		for off := 0; off < n; {
			end := n
			if chunk > 0 {
				end = min(n, off+chunk)
			}
			if err := to.Feed(buf[off:end]); err != nil {
				t.Fatal(err)
			}
			off = end
		}
	}
}

var (
	shuttleMu  sync.Mutex
	shuttleBuf [16 << 10]byte
)

// handshakeEngines runs both handshakes to completion, moving chunk bytes
// at a time, and returns each side's final error.
func handshakeEngines(t testing.TB, c, s *Engine, chunk int) (cerr, serr error) {
	t.Helper()
	for i := 0; i < 100000; i++ {
		cerr, serr = c.Handshake(), s.Handshake()
		moved := shuttle(t, c, s, chunk)
		moved = shuttle(t, s, c, chunk) || moved
		if !moved { // both finished, failed or wait for what will not come
			return cerr, serr
		}
	}
	t.Fatal("handshake does not converge")
	return
}

func isWant(err error) bool {
	return errors.Is(err, ErrWantRead) || errors.Is(err, ErrWantWrite) || errors.Is(err, ErrWantRetryVerify)
}

// readAllEngine reads what r has decrypted until ErrWantRead.
func readAllEngine(t testing.TB, r *Engine) ([]byte, error) {
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, ErrWantRead) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestEnginePairInMemory(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	for _, backend := range AvailableBackends() {
		for _, chunk := range []int{0, 1, 7} {
			t.Run(backend+"/chunk"+string(rune('0'+chunk)), func(t *testing.T) {
				c, s := enginePair(t, p, backend, p.clientConfig())
				var events []string
				var mu sync.Mutex
				rec := func(e string) { mu.Lock(); events = append(events, e); mu.Unlock() }
				c.OnEncrypted(func() { rec("client encrypted") })
				s.OnEncrypted(func() { rec("server encrypted") })
				c.OnSslErrors(func(errs []Error) { rec("sslErrors") })
				if !errors.Is(c.Handshake(), ErrWantRead) {
					t.Fatal("a client's first Handshake must want input")
				}
				if c.EncryptedBytesToWrite() == 0 {
					t.Fatal("the ClientHello must be pending")
				}
				cerr, serr := handshakeEngines(t, c, s, chunk)
				if cerr != nil || serr != nil {
					t.Fatalf("handshake: client %v, server %v", cerr, serr)
				}
				if !c.IsEncrypted() || !s.IsEncrypted() || c.SessionProtocol() != TlsV1_3 ||
					c.PeerCertificate().SubjectDisplayName() != "localhost" || c.SessionCipher().IsNull() {
					t.Fatalf("session: %v %v %v", c.SessionProtocol(), c.PeerCertificate().SubjectDisplayName(), c.SessionCipher())
				}
				mu.Lock()
				if strings.Join(events, ",") != "client encrypted,server encrypted" {
					t.Errorf("events %v", events)
				}
				mu.Unlock()
				// Data both ways, in pieces.
				msg := bytes.Repeat([]byte("0123456789"), 5000)
				if n, err := c.Write(msg); n != len(msg) || err != nil {
					t.Fatalf("write %d %v", n, err)
				}
				var got []byte
				for len(got) < len(msg) {
					if !shuttle(t, c, s, chunk) {
						t.Fatal("no progress")
					}
					b, err := readAllEngine(t, s)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, b...)
					shuttle(t, s, c, chunk)
				}
				if !bytes.Equal(got, msg) {
					t.Fatal("data corrupted")
				}
				if c.EncryptedBytesToWrite() != 0 || s.EncryptedBytesAvailable() != 0 {
					t.Errorf("buffers not drained: %d %d", c.EncryptedBytesToWrite(), s.EncryptedBytesAvailable())
				}
				s.Write([]byte("pong"))
				shuttle(t, s, c, chunk)
				if b, err := readAllEngine(t, c); string(b) != "pong" || err != nil {
					t.Fatalf("client read %q %v", b, err)
				}
				// close_notify: io.EOF on the other side.
				if err := c.Shutdown(); err != nil {
					t.Fatal(err)
				}
				shuttle(t, c, s, chunk)
				if _, err := s.Read(make([]byte, 10)); err != io.EOF {
					t.Fatalf("after close_notify: %v", err)
				}
			})
		}
	}
}

func TestEngineVerification(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	for _, backend := range AvailableBackends() {
		t.Run(backend, func(t *testing.T) {
			t.Run("refused", func(t *testing.T) {
				c, s := enginePair(t, p, backend, Configuration{}) // no roots: untrusted
				var perr []Error
				var serrs []Error
				c.OnPeerVerifyError(func(e Error) { perr = append(perr, e) })
				c.OnSslErrors(func(errs []Error) { serrs = errs })
				var sent []AlertType
				c.OnAlertSent(func(l AlertLevel, a AlertType, _ string) { sent = append(sent, a) })
				cerr, _ := handshakeEngines(t, c, s, 0)
				var ve *VerificationError
				if !errors.As(cerr, &ve) || !errors.Is(cerr, SslHandshakeFailedError) || len(serrs) == 0 || len(perr) != len(serrs) {
					t.Fatalf("err %v, sslErrors %v, peerVerifyError %v", cerr, serrs, perr)
				}
				if !errors.Is(c.Handshake(), SslHandshakeFailedError) {
					t.Error("the failure must be latched")
				}
				if len(sent) != 1 || sent[0] != rejectionAlert(backend) {
					t.Errorf("alerts sent %v, want [%v]", sent, rejectionAlert(backend))
				}
				if got := c.SslHandshakeErrors(); len(got) != len(serrs) {
					t.Errorf("SslHandshakeErrors %v", got)
				}
			})
			t.Run("ignored in the handler", func(t *testing.T) {
				c, s := enginePair(t, p, backend, Configuration{})
				c.OnSslErrors(func([]Error) { c.IgnoreSslErrors() })
				if cerr, serr := handshakeEngines(t, c, s, 0); cerr != nil || serr != nil {
					t.Fatalf("%v %v", cerr, serr)
				}
				if len(c.SslHandshakeErrors()) == 0 {
					t.Error("ignored errors must stay visible")
				}
			})
			t.Run("paused, then resumed", func(t *testing.T) {
				c, s := enginePair(t, p, backend, Configuration{})
				c.SetPauseMode(PauseOnSslErrors)
				cerr, _ := handshakeEngines(t, c, s, 0)
				if !errors.Is(cerr, ErrWantRetryVerify) {
					t.Fatalf("paused handshake: %v", cerr)
				}
				if !errors.Is(c.Handshake(), ErrWantRetryVerify) {
					t.Fatal("still paused until Resume")
				}
				c.IgnoreSslErrors()
				c.Resume()
				if cerr, serr := handshakeEngines(t, c, s, 0); cerr != nil || serr != nil {
					t.Fatalf("after resume: %v %v", cerr, serr)
				}
			})
			t.Run("paused, resumed without ignoring", func(t *testing.T) {
				c, s := enginePair(t, p, backend, Configuration{})
				c.SetPauseMode(PauseOnSslErrors)
				handshakeEngines(t, c, s, 0)
				c.Resume()
				if cerr, _ := handshakeEngines(t, c, s, 0); !errors.Is(cerr, SslHandshakeFailedError) {
					t.Fatalf("resume without ignoring must fail: %v", cerr)
				}
			})
			t.Run("closed while paused", func(t *testing.T) {
				c, s := enginePair(t, p, backend, Configuration{})
				c.SetPauseMode(PauseOnSslErrors)
				handshakeEngines(t, c, s, 0)
				c.Close()
				if err := c.Handshake(); !errors.Is(err, ErrEngineClosed) {
					t.Fatalf("after close: %v", err)
				}
			})
			t.Run("interrupted, continued", func(t *testing.T) {
				cfg := Configuration{}
				cfg.SetHandshakeMustInterruptOnError(true)
				c, s := enginePair(t, p, backend, cfg)
				n := 0
				c.OnHandshakeInterruptedOnError(func(Error) { n++; c.ContinueInterruptedHandshake() })
				c.OnSslErrors(func([]Error) { c.IgnoreSslErrors() })
				if cerr, serr := handshakeEngines(t, c, s, 0); cerr != nil || serr != nil || n == 0 {
					t.Fatalf("%v %v (%d interruptions)", cerr, serr, n)
				}
			})
		})
	}
}

// TestEngineHandlers: handlers may call the engine's other methods; the
// I/O calls report ErrWouldDeadlock instead of hanging; Close from a
// handler ends the handshake.
func TestEngineHandlers(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	for _, backend := range AvailableBackends() {
		t.Run(backend, func(t *testing.T) {
			c, s := enginePair(t, p, backend, Configuration{})
			var inHandler []error
			c.OnSslErrors(func([]Error) {
				_, werr := c.Write([]byte("x"))
				_, rerr := c.Read(make([]byte, 1))
				inHandler = append(inHandler, c.Handshake(), werr, rerr, c.Feed([]byte{1}))
				_ = c.SslConfiguration()
				_ = c.EncryptedBytesToWrite() + c.EncryptedBytesAvailable()
				c.Close()
			})
			cerr, _ := handshakeEngines(t, c, s, 0)
			for _, err := range inHandler {
				if !errors.Is(err, ErrWouldDeadlock) {
					t.Errorf("I/O from a handler: %v", err)
				}
			}
			if cerr == nil {
				t.Fatal("a handshake closed by its handler must not succeed")
			}
		})
	}
}

func TestEngineBadInput(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	hello := clientHello(t)
	cases := []struct {
		name  string
		input []byte
		eof   bool
		want  SocketError
	}{
		{"garbage", bytes.Repeat([]byte{0xde, 0xad}, 200), false, SslHandshakeFailedError},
		{"HTTP", []byte("GET / HTTP/1.0\r\n\r\n"), false, SslHandshakeFailedError},
		{"oversized record", []byte{0x16, 0x03, 0x01, 0xff, 0xff, 0, 0, 0}, false, SslHandshakeFailedError},
		{"truncated hello, EOF", hello[:30], true, RemoteHostClosedError},
		{"nothing, EOF", nil, true, RemoteHostClosedError},
		{"hello twice", append(append([]byte(nil), hello...), hello...), false, SslHandshakeFailedError},
	}
	for _, backend := range AvailableBackends() {
		for _, tc := range cases {
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				_, s := enginePair(t, p, backend, p.clientConfig())
				s.Feed(tc.input)
				if tc.eof {
					s.FeedEOF()
				}
				var err error
				for i := 0; i < 10; i++ {
					if err = s.Handshake(); !isWant(err) {
						break
					}
					s.TakeOutput(make([]byte, MaxPendingOutput))
				}
				if tc.name == "hello twice" && err == nil {
					// The first hello is fine: the server answers and waits for
					// the client's Finished, which the second hello is not.
					err = s.Handshake()
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("got %v, want %v", err, tc.want)
				}
			})
		}
	}
}

func TestEngineAfterHandshake(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	for _, backend := range AvailableBackends() {
		t.Run(backend, func(t *testing.T) {
			t.Run("unclean EOF", func(t *testing.T) {
				c, s := enginePair(t, p, backend, p.clientConfig())
				if cerr, serr := handshakeEngines(t, c, s, 0); cerr != nil || serr != nil {
					t.Fatal(cerr, serr)
				}
				s.FeedEOF()
				if _, err := s.Read(make([]byte, 1)); !errors.Is(err, ErrUncleanShutdown) {
					t.Fatalf("EOF without close_notify: %v", err)
				}
			})
			t.Run("corrupted record", func(t *testing.T) {
				c, s := enginePair(t, p, backend, p.clientConfig())
				handshakeEngines(t, c, s, 0)
				c.Write([]byte("hello"))
				buf := make([]byte, 1000)
				n := c.TakeOutput(buf)
				buf[n-1] ^= 1
				s.Feed(buf[:n])
				var recv []AlertType
				s.OnAlertReceived(func(_ AlertLevel, a AlertType, _ string) { recv = append(recv, a) })
				if _, err := s.Read(make([]byte, 10)); err == nil || isWant(err) {
					t.Fatalf("flipped bit: %v", err)
				}
				if err := s.Shutdown(); err == nil {
					t.Error("no close_notify after a fatal alert")
				}
			})
			t.Run("want write", func(t *testing.T) {
				c, s := enginePair(t, p, backend, p.clientConfig())
				handshakeEngines(t, c, s, 0)
				big := make([]byte, 1<<20)
				n, err := c.Write(big)
				if !errors.Is(err, ErrWantWrite) || n == 0 || n >= len(big) {
					t.Fatalf("write of 1 MiB: %d %v", n, err)
				}
				if c.EncryptedBytesToWrite() > MaxPendingOutput {
					t.Errorf("pending %d > MaxPendingOutput", c.EncryptedBytesToWrite())
				}
			})
			t.Run("data after close_notify", func(t *testing.T) {
				c, s := enginePair(t, p, backend, p.clientConfig())
				handshakeEngines(t, c, s, 0)
				c.Shutdown()
				shuttle(t, c, s, 0)
				s.Feed([]byte{23, 3, 3, 0, 5, 1, 2, 3, 4, 5})
				if _, err := s.Read(make([]byte, 10)); err != io.EOF {
					t.Fatalf("read after close_notify: %v", err)
				}
			})
		})
	}
}

// TestEngineOverTCP drives an Engine by hand over a TCP connection to
// `openssl s_server`, and a server Engine for `openssl s_client`.
func TestEngineOverTCP(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	dir := pkiFiles(t, p)
	for _, backend := range AvailableBackends() {
		t.Run(backend+"/client", func(t *testing.T) {
			port := opensslServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-rev")
			conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", itoa(int(port))))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			cfg := p.clientConfig()
			cfg.SetBackend(backend)
			e, err := NewClientEngine(cfg, "localhost")
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 16<<10)
			step := func(err error) error {
				if _, werr := e.WriteOutputTo(conn); werr != nil {
					return werr
				}
				if !errors.Is(err, ErrWantRead) {
					return err
				}
				n, rerr := conn.Read(buf)
				e.Feed(buf[:n])
				return rerr
			}
			for err := e.Handshake(); err != nil; err = e.Handshake() {
				if serr := step(err); serr != nil {
					t.Fatal(serr)
				}
			}
			e.Write([]byte("hello engine\n"))
			var got []byte
			for !bytes.Contains(got, []byte("enigne olleh")) {
				n, err := e.Read(buf)
				got = append(got, buf[:n]...)
				if err != nil {
					if serr := step(err); serr != nil {
						t.Fatalf("%v (got %q)", serr, got)
					}
				}
			}
		})
		t.Run(backend+"/server", func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			done := make(chan error, 1)
			go func() {
				conn, err := l.Accept()
				if err != nil {
					done <- err
					return
				}
				defer conn.Close()
				cfg := p.serverConfig(p.server)
				cfg.SetBackend(backend)
				e, err := NewServerEngine(cfg)
				if err != nil {
					done <- err
					return
				}
				defer e.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 16<<10)
				var line []byte
				for !bytes.Contains(line, []byte("\n")) {
					n, err := e.Read(buf)
					line = append(line, buf[:n]...)
					e.WriteOutputTo(conn)
					if errors.Is(err, ErrWantRead) {
						k, rerr := conn.Read(buf)
						e.Feed(buf[:k])
						if rerr != nil {
							done <- rerr
							return
						}
					} else if err != nil {
						done <- err
						return
					}
				}
				e.Write(bytes.ToUpper(line))
				e.Shutdown()
				e.WriteOutputTo(conn)
				done <- nil
			}()
			out := sClient(t, dir, uint16(l.Addr().(*net.TCPAddr).Port), "ping\n", "-CAfile", "root.pem", "-verify_return_error", "-ign_eof")
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "PING") || !strings.Contains(out, "Verify return code: 0") {
				t.Fatalf("s_client saw:\n%s", out)
			}
		})
	}
}

// TestEngineTickets: a client engine fed one byte at a time gets a ticket
// after the handshake, which resumes the next session.
func TestEngineTickets(t *testing.T) {
	checkNoLeaks(t)
	p := newTestPKI(t)
	for _, backend := range AvailableBackends() {
		t.Run(backend, func(t *testing.T) {
			ccfg := p.clientConfig()
			ccfg.SetSslOption(SslOptionDisableSessionPersistence, false) // Qt's default keeps none
			c, s := enginePair(t, p, backend, ccfg)
			tickets := 0
			c.OnNewSessionTicketReceived(func() { tickets++ })
			if cerr, serr := handshakeEngines(t, c, s, 1); cerr != nil || serr != nil {
				t.Fatal(cerr, serr)
			}
			readAllEngine(t, c) // TLS 1.3 tickets arrive after the handshake
			ticket := c.SslConfiguration().SessionTicket()
			if tickets == 0 || len(ticket) == 0 {
				t.Fatalf("tickets %d, ticket %d bytes", tickets, len(ticket))
			}
			cfg := ccfg
			cfg.SetSessionTicket(ticket)
			c2, s2 := enginePair(t, p, backend, cfg)
			if cerr, serr := handshakeEngines(t, c2, s2, 0); cerr != nil || serr != nil {
				t.Fatal(cerr, serr)
			}
			if !c2.IsSessionResumed() || !s2.IsSessionResumed() {
				t.Error("the ticket must resume the session")
			}
		})
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// TestEngineIsNoWriterTo: Read gives plaintext, so the ciphertext side
// must not be io.WriterTo's WriteTo — io.Copy(dst, engine) would copy
// ciphertext (issue 18).
func TestEngineIsNoWriterTo(t *testing.T) {
	p := newTestPKI(t)
	c, _ := enginePair(t, p, "go", p.clientConfig())
	if _, ok := any(c).(io.WriterTo); ok {
		t.Fatal("*Engine implements io.WriterTo: io.Copy would take its ciphertext")
	}
}
