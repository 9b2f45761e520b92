package ssl

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server is QSslServer: a net.Listener whose Accept returns encrypted
// *Socket connections. Handshakes run concurrently, each bounded by the
// handshake timeout; a client whose first byte is not a TLS handshake
// record is dropped; slow, silent or garbage clients never hold up Accept
// or other clients. Events of connections still handshaking are forwarded
// with the socket as first argument; once a socket is handed out by Accept
// its events are its own.
//
// Server event handlers run on the connection's event dispatcher: one at a
// time per connection, but possibly concurrently for different connections.
type Server struct {
	// mu guards the settings, the pending count and inflight; cond (on
	// mu) wakes the accept loop when a pending slot frees up.
	mu               sync.Mutex
	cond             sync.Cond
	config           *Configuration // a snapshot the accepted sockets share; replaced, never modified
	noOnDemand       *Configuration // config without on-demand roots (socketSnapshotLocked), for noOnDemandOf
	noOnDemandOf     *Configuration
	handshakeTimeout time.Duration
	maxPending       int
	pending          int                      // connections handshaking or encrypted but not yet accepted
	shut             bool                     // Close was called
	inflight         map[*Socket]inflightConn // connections from accept to hand-off, with their timeouts (server_timeout.go)
	sweeping         bool                     // the sweeper goroutine runs

	listener net.Listener
	ready    chan *Socket  // unbuffered: a handshake goroutine hands its socket to Accept
	closed   chan struct{} // closed by Close
	once     sync.Once
	wg       sync.WaitGroup // the accept loop and every handshake goroutine

	ev serverEvents

	peekBufs sync.Pool // *[peekSize]byte: the handshake goroutines' first reads
}

type serverEvents struct {
	sslErrors                          handlers[func(*Socket, []Error)]
	peerVerifyError                    handlers[func(*Socket, Error)]
	errorOccurred                      handlers[func(*Socket, SocketError)]
	preSharedKeyAuthenticationRequired handlers[func(*Socket, *PreSharedKeyAuthenticator)]
	alertSent                          handlers[func(*Socket, AlertLevel, AlertType, string)]
	alertReceived                      handlers[func(*Socket, AlertLevel, AlertType, string)]
	handshakeInterruptedOnError        handlers[func(*Socket, Error)]
	startedEncryptionHandshake         handlers[func(*Socket)]
}

// DefaultHandshakeTimeout is QSslServer's default handshake timeout.
const DefaultHandshakeTimeout = 5 * time.Second

// DefaultMaxPendingConnections bounds connections that are handshaking or
// encrypted but not yet accepted. (QTcpServer's default of 30 is too small
// for a Go server; set your own with SetMaxPendingConnections.)
const DefaultMaxPendingConnections = 256

// Listen listens on network/address ("tcp", "127.0.0.1:8443") and serves
// TLS with config.
func Listen(network, address string, config Configuration) (*Server, error) {
	if err := validateConfiguration(config, true); err != nil {
		return nil, err
	}
	l, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	return NewServer(l, config), nil
}

// NewServer serves TLS on an existing listener.
//
// It serves at once, as QSslServer does after listen(): connections are
// accepted and their handshakes run (up to MaxPendingConnections at a
// time) whether or not Accept is being called, so a client in the same
// goroutine can connect before the first Accept.
func NewServer(l net.Listener, config Configuration) *Server {
	s := &Server{config: cloneSnapshot(config), handshakeTimeout: DefaultHandshakeTimeout,
		maxPending: DefaultMaxPendingConnections, listener: l, ready: make(chan *Socket),
		closed: make(chan struct{}), inflight: map[*Socket]inflightConn{}}
	s.cond.L = &s.mu
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

// acquire takes a pending slot, waiting while MaxPendingConnections are
// pending; false once the server is closed.
func (s *Server) acquire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.pending >= s.maxPending && !s.shut {
		s.cond.Wait()
	}
	if s.shut {
		return false
	}
	s.pending++
	return true
}

// releaseSlot frees a pending slot.
func (s *Server) releaseSlot() {
	s.mu.Lock()
	s.pending--
	s.cond.Signal()
	s.mu.Unlock()
}

// SslConfiguration returns the configuration new connections get.
func (s *Server) SslConfiguration() Configuration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.config.Clone()
}

// SetSslConfiguration sets the configuration for connections accepted from now on.
func (s *Server) SetSslConfiguration(c Configuration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.config = cloneSnapshot(c)
}

// HandshakeTimeout returns the time a client has to complete its handshake.
func (s *Server) HandshakeTimeout() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handshakeTimeout
}

// SetHandshakeTimeout sets the handshake timeout for new connections: a
// client that sends nothing, stalls, or whose verification stays paused
// (PauseOnSslErrors without Resume) is cut with SocketTimeoutError, at
// most an eighth of the timeout (and 250 ms) late. The timeout cannot
// interrupt a server event handler that is running (the handlers of a
// handshaking connection run on its goroutine): a handler that blocks
// holds the connection's pending slot until it returns.
func (s *Server) SetHandshakeTimeout(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handshakeTimeout = d
}

// MaxPendingConnections returns the bound on connections handshaking or
// waiting for Accept.
func (s *Server) MaxPendingConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxPending
}

// SetMaxPendingConnections sets that bound; call it before the first Accept.
func (s *Server) SetMaxPendingConnections(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > 0 {
		s.maxPending = n
		s.cond.Broadcast()
	}
}

// Addr returns the listener's address (net.Listener).
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Accept waits for the next encrypted connection (net.Listener); it is a *Socket.
func (s *Server) Accept() (net.Conn, error) {
	sock, err := s.AcceptSocket(context.Background())
	if err != nil {
		return nil, err
	}
	return sock, nil
}

// AcceptSocket waits for the next encrypted connection, or ctx's end, or Close.
func (s *Server) AcceptSocket(ctx context.Context) (*Socket, error) {
	select {
	case sock := <-s.ready:
		s.releaseSlot()
		return sock, nil
	case <-s.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops listening, aborts the handshakes in progress and closes the
// connections nobody accepted. Accepted sockets are the caller's. When
// Close returns, every goroutine of the server has exited.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		close(s.closed)
		err = s.listener.Close()
		s.mu.Lock()
		s.shut = true
		s.cond.Broadcast()
		for sock := range s.inflight {
			s.wg.Add(1) // Close returns after these too
			go func() {
				defer s.wg.Done()
				sock.Abort()
			}()
		}
		s.mu.Unlock()
		s.wg.Wait() // handshake goroutines abort what nobody accepted
	})
	return err
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var delay time.Duration
	for {
		if !s.acquire() { // a pending slot first: beyond the bound, clients wait in the backlog
			return
		}
		conn, err := s.listener.Accept()
		if err != nil {
			s.releaseSlot()
			select {
			case <-s.closed:
				return
			default:
			}
			if transientAcceptError(err) {
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay *= 2; delay > time.Second {
					delay = time.Second
				}
				time.Sleep(delay)
				continue
			}
			return // the listener is gone
		}
		delay = 0
		s.wg.Add(1)
		go s.handshake(conn)
	}
}

// transientAcceptError reports accept failures worth retrying: running
// out of descriptors, a client that gave up before accept, timeouts.
func transientAcceptError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) ||
		errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS)
}

// handshake takes one connection from TCP to encrypted (or to the bin).
func (s *Server) handshake(conn net.Conn) {
	defer s.wg.Done()
	def := defaultSnapshot()
	s.mu.Lock()
	cfg, timeout := s.socketSnapshotLocked(def), s.handshakeTimeout
	s.mu.Unlock()
	release := s.releaseSlot

	sock := NewSocketFromConn(conn)
	sock.mu.Lock()
	sock.config = cfg // shared: no copy per connection
	sock.mu.Unlock()
	fwd := s.forward(sock)
	defer fwd.finish()

	if !s.track(sock, conn, timeout) {
		fwd.finish()
		sock.Abort()
		release()
		return
	}
	handshaken := func() { // before the hand-off: nothing of ours runs beside the application
		s.untrack(sock)
		fwd.finish() // its events are its own from now on
	}

	// Qt peeks at the first byte: anything but a handshake record (0x16)
	// is closed without an error event (in order: no reset for a plain
	// HTTP client); nothing at all within the timeout is Qt's
	// errorOccurred(SocketTimeoutError). The peek reads what has arrived
	// (usually the whole ClientHello), which the handshake then consumes.
	first, err := s.peek(conn)
	if err != nil || first[0] != 0x16 {
		if isTimeout(err) {
			sock.fail(SocketTimeoutError, "The handshake timed out", err) // a quiet client: forwarded
			handshaken()
		} else {
			handshaken()
			sock.abortInOrder() // no reset for a plain HTTP client: it reads an end of stream
		}
		release()
		return
	}
	s.restart(sock, timeout) // as in Qt, the timeout starts again after the first byte

	fwd.started()
	// The handshake runs here, on the connection's goroutine.
	if err := sock.serveHandshake(first); err != nil {
		handshaken()
		sock.Abort()
		release()
		return
	}
	handshaken()
	select {
	case s.ready <- sock:
	case <-s.closed:
		sock.Abort()
		release()
	}
}

// socketSnapshotLocked is the configuration snapshot a new connection's
// socket uses: the server's, or — when the process default has on-demand
// root loading off and the server's configuration sets no CAs — a shared
// variant with it off too (Qt never turns it back on: what
// SetSslConfiguration does on a fresh socket), made once per snapshot.
func (s *Server) socketSnapshotLocked(def *Configuration) *Configuration {
	if def.AllowsOnDemandRoots() || s.config.caSet {
		return s.config
	}
	if s.noOnDemandOf != s.config {
		c := *s.config
		c.caSet, c.prep = true, &configPrep{}
		s.noOnDemand, s.noOnDemandOf = &c, s.config
	}
	return s.noOnDemand
}

// peekSize bounds the first read of a connection: a ClientHello fits in
// it (with a post-quantum key share about 1.5 KiB), so the handshake
// usually reads nothing more from the network for it.
const peekSize = 4096

// peek waits for the client's first bytes (until the sweeper expires the
// connection) and returns a copy of what one read brought (at least one
// byte, or an error).
func (s *Server) peek(conn net.Conn) ([]byte, error) {
	buf, _ := s.peekBufs.Get().(*[peekSize]byte)
	if buf == nil {
		buf = new([peekSize]byte)
	}
	defer s.peekBufs.Put(buf)
	n, err := conn.Read(buf[:])
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return nil, err
	}
	return append([]byte(nil), buf[:n]...), nil
}

// forwarder re-emits one socket's handshake-phase events on the server,
// through the socket's own dispatcher (so they never overlap the socket's
// other handlers), until stop. Its subscriptions are internal: they do
// not switch the socket to its read loop.
type forwarder struct {
	srv     *Server
	sock    *Socket
	live    atomic.Bool
	removes []func()
}

func (s *Server) forward(sock *Socket) *forwarder {
	f := &forwarder{srv: s, sock: sock}
	f.live.Store(true)
	sev := &s.ev
	var sockEv *events // the socket's hub is made only if something is forwarded
	ev := func() *events {
		if sockEv == nil {
			sockEv = &sock.hubFor().ev
		}
		return sockEv
	}
	// Only the events the server's application listens to are forwarded:
	// a server without subscribers adds nothing to its sockets (Qt's
	// QSslServer connects the same signals; subscribe before connections
	// arrive to see their handshakes).
	if !sev.sslErrors.empty() {
		f.removes = append(f.removes, ev().sslErrors.add(func(errs []Error) {
			if f.live.Load() {
				for _, h := range sev.sslErrors.load() {
					h.fn(sock, errs)
				}
			}
		}))
	}
	if !sev.peerVerifyError.empty() {
		f.removes = append(f.removes, ev().peerVerifyError.add(func(e Error) {
			if f.live.Load() {
				for _, h := range sev.peerVerifyError.load() {
					h.fn(sock, e)
				}
			}
		}))
	}
	if !sev.errorOccurred.empty() {
		f.removes = append(f.removes, ev().errorOccurred.add(func(k SocketError) {
			if f.live.Load() && !sock.handshakeCompleted() { // QSslServer forwards handshake-phase errors only
				for _, h := range sev.errorOccurred.load() {
					h.fn(sock, k)
				}
			}
		}))
	}
	if !sev.alertSent.empty() {
		f.removes = append(f.removes, ev().alertSent.add(func(l AlertLevel, t AlertType, d string) {
			if f.live.Load() && !sock.handshakeCompleted() {
				for _, h := range sev.alertSent.load() {
					h.fn(sock, l, t, d)
				}
			}
		}))
	}
	if !sev.alertReceived.empty() {
		f.removes = append(f.removes, ev().alertReceived.add(func(l AlertLevel, t AlertType, d string) {
			if f.live.Load() && !sock.handshakeCompleted() {
				for _, h := range sev.alertReceived.load() {
					h.fn(sock, l, t, d)
				}
			}
		}))
	}
	if !sev.handshakeInterruptedOnError.empty() {
		f.removes = append(f.removes, ev().handshakeInterruptedOnError.add(func(e Error) {
			if f.live.Load() {
				for _, h := range sev.handshakeInterruptedOnError.load() {
					h.fn(sock, e)
				}
			}
		}))
	}
	if !sev.preSharedKeyAuthenticationRequired.empty() {
		// Only when the server's application handles PSK: a subscription
		// makes the backend accept TLS 1.3 external PSKs.
		f.removes = append(f.removes, ev().preSharedKeyAuthenticationRequired.add(func(a *PreSharedKeyAuthenticator) {
			if f.live.Load() {
				for _, h := range sev.preSharedKeyAuthenticationRequired.load() {
					h.fn(sock, a)
				}
			}
		}))
	}
	return f
}

// started emits startedEncryptionHandshake on the socket's dispatcher.
func (f *forwarder) started() {
	if f.srv.ev.startedEncryptionHandshake.empty() {
		return
	}
	f.sock.hubFor().post(event{kind: evCall, fn: func() {
		if f.live.Load() {
			for _, h := range f.srv.ev.startedEncryptionHandshake.load() {
				h.fn(f.sock)
			}
		}
	}}, nil)
}

// finish ends forwarding once the events of the handshake phase queued so
// far were delivered (a failure's errorOccurred may still wait behind an
// alert the socket's worker delivers).
func (f *forwarder) finish() {
	if h := f.sock.hub(); h != nil {
		h.afterQueued(f.stop)
		return
	}
	f.stop()
}

// stop ends forwarding (events still queued are dropped) and removes the
// internal subscriptions.
func (f *forwarder) stop() {
	if f.live.Swap(false) {
		for _, r := range f.removes {
			r()
		}
		f.removes = nil
	}
}

// OnSslErrors subscribes to sslErrors of connections still handshaking.
func (s *Server) OnSslErrors(fn func(*Socket, []Error)) (remove func()) {
	return s.ev.sslErrors.add(fn)
}

// OnPeerVerifyError subscribes to peerVerifyError of connections still handshaking.
func (s *Server) OnPeerVerifyError(fn func(*Socket, Error)) (remove func()) {
	return s.ev.peerVerifyError.add(fn)
}

// OnErrorOccurred subscribes to errors of connections still handshaking,
// including SocketTimeoutError when the handshake timeout expires.
func (s *Server) OnErrorOccurred(fn func(*Socket, SocketError)) (remove func()) {
	return s.ev.errorOccurred.add(fn)
}

// OnPreSharedKeyAuthenticationRequired subscribes to PSK requests of handshaking connections.
func (s *Server) OnPreSharedKeyAuthenticationRequired(fn func(*Socket, *PreSharedKeyAuthenticator)) (remove func()) {
	return s.ev.preSharedKeyAuthenticationRequired.add(fn)
}

// OnAlertSent subscribes to alerts sent on handshaking connections.
func (s *Server) OnAlertSent(fn func(*Socket, AlertLevel, AlertType, string)) (remove func()) {
	return s.ev.alertSent.add(fn)
}

// OnAlertReceived subscribes to alerts received on handshaking connections.
func (s *Server) OnAlertReceived(fn func(*Socket, AlertLevel, AlertType, string)) (remove func()) {
	return s.ev.alertReceived.add(fn)
}

// OnHandshakeInterruptedOnError subscribes to interrupted handshakes.
func (s *Server) OnHandshakeInterruptedOnError(fn func(*Socket, Error)) (remove func()) {
	return s.ev.handshakeInterruptedOnError.add(fn)
}

// OnStartedEncryptionHandshake subscribes to startedEncryptionHandshake:
// a client's first byte was a TLS handshake record and its handshake began.
func (s *Server) OnStartedEncryptionHandshake(fn func(*Socket)) (remove func()) {
	return s.ev.startedEncryptionHandshake.add(fn)
}
