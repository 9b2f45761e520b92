package ssl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Socket is QSslSocket: a TCP socket that can encrypt its traffic with TLS,
// as a client or a server, from the start or later (STARTTLS). It is a
// net.Conn: Read blocks until data, end of stream, an error or the read
// deadline. On top of that it offers Qt's view — events (OnEncrypted,
// OnSslErrors, OnReadyRead, …), states, modes, BytesAvailable, ReadLine,
// the WaitFor* family — and Qt's verification policy: every problem with
// the peer's certificate is reported, and the handshake fails unless the
// application ignored exactly those problems.
//
// A Socket is safe for use by multiple goroutines. Event handlers of one
// socket run one at a time, in the order the events happened, and may call
// any of the socket's methods.
type Socket struct {
	tlsSignals // OnEncrypted, OnSslErrors, IgnoreSslErrors, … (shared with Engine)

	mu   sync.Mutex               // guards the fields below unless they say otherwise
	cond sync.Cond                // on mu: wakes the waits (WaitFor*, Read, back-pressure)
	hubp atomic.Pointer[eventHub] // subscribers and their dispatcher, made by the first subscription (hubFor); lock-free

	config         *Configuration // a snapshot, never modified in place: changes replace it (shared with the endpoint, the Server, the default)
	peerVerifyName string
	proxy          *Proxy // nil: DefaultProxy (most sockets never set one)
	pauseMode      PauseMode
	readBufferSize int64

	// Lifecycle (socket_state.go): phase is the machine's state, changed
	// only by setPhaseLocked; state is Qt's view of it, mode Qt's SslMode.
	state SocketState
	mode  SslMode

	// The small fields, packed together (a Socket is 1 KiB, and the idle
	// connections of a server are counted in thousands).
	phase      phase
	handshaked bool // this connection's handshake completed (even if closed since)
	alertClose bool // this connection ended with a fatal alert of ours: its teardown closes the TCP connection in order (close_drain.go)
	// What the application asked for, acted on at the next step:
	autoStart       bool // ConnectToHostEncrypted: handshake right after connect
	pendClose       bool // DisconnectFromHost before the handshake finished: close once it has
	disconnectAsked bool // DisconnectFromHost ended the connection, no WaitForDisconnected reported it (Qt's would find it Closing)
	connectReported bool // connected (and modeChanged before it) were delivered: WaitForConnected may return
	// The read path (below):
	path       readPath // who reads the connection (socket_state.go)
	loopWanted bool     // sticky: Qt's buffered view was used
	// The write path: a flusher drains wqueue (the writes made before
	// encrypted, and coalesced bursts).
	flushing bool
	family   uint8 // the address family to connect over: 0 any, 4 or 6 (a Dialer's "tcp4"/"tcp6")
	port     uint16
	// gen counts connections (initLocked): the late steps of a teardown,
	// or of a read that ended, apply only to the connection they belong to.
	gen uint32

	// The connection. raw is set from connected to the teardown.
	hostName   string
	raw        net.Conn
	lastLocal  net.Addr // raw's addresses once it is gone (net.Conn semantics)
	lastRemote net.Addr
	sess       Stream // the TLS stream over raw, from the handshake on
	sessState  SessionState
	cancel     context.CancelFunc
	live       liveGoroutines // the socket's goroutines (connect, handshake, read loop, watcher, flusher), per connection
	writeMu    sync.Mutex     // one writer into sess at a time (not s.mu: held across I/O)

	// The read path. Until something needs Qt's buffered view (readyRead
	// and other loop events, BytesAvailable, ReadLine, …), Read on an
	// encrypted socket reads the session directly (directReaders at a
	// time); then a read loop fills the buffer, for good. The loop reads
	// the session, or the connection while the socket is plain.
	loopID        *goroutineID // the running read loop's goroutine (it runs readyRead handlers)
	loopSubs      int          // application subscribers to loop-only events (internal observers do not count)
	directReaders int

	// ep is Qt's verification policy and the backend's hooks (its own
	// lock), in the same allocation as the Socket.
	ep endpoint

	// Errors.
	errKind   SocketError
	errString string
	errCause  error // the Go error behind errKind (SocketErr.Unwrap); a *VerificationError for refused certificates

	// Decrypted (or, unencrypted, plain) data not yet read: rbuf[rpos:rend].
	rbuf       []byte
	rpos, rend int
	rgen       uint64 // bumped when the buffer is discarded
	readErr    error  // what Read returns once the buffer is empty
	readSeq    uint64 // bumped on every chunk, for WaitForReadyRead
	readyRuns  uint64 // bumped after readyRead handlers ran
	// readSeq and readyRuns when a WaitForReadyRead last returned true.
	readWaitSeq, readyRunsWait uint64
	readDL                     time.Time
	writeDL                    time.Time

	// Plaintext written before the handshake finished.
	wqueue     []byte
	wspare     []byte        // the other half of the write double buffer
	writtenSeq atomic.Uint64 // bumped by every bytesWritten, for WaitForBytesWritten
	waitedSeq  uint64        // writtenSeq when WaitForBytesWritten last returned; guarded by mu
	// Burst detection for write coalescing.
	lastWriteEnd   atomic.Int64 // UnixNano when the last write or flush finished
	readSinceWrite atomic.Bool
	writeErr       error // a flusher's write failure, reported by later writes
}

// defaultReadLimit bounds buffered, unread data while SetReadBufferSize is 0.
// Qt leaves it unbounded; a peer must not be able to make us hold more than
// this for a reader that does not read.
const defaultReadLimit = 1 << 20

// maxWriteQueue bounds plaintext written before the handshake completes; a
// writer blocks beyond it.
const maxWriteQueue = 1 << 20

// NewSocket returns an unconnected socket with a copy of the default
// configuration.
func NewSocket() *Socket {
	s := &Socket{config: defaultSnapshot(), errKind: UnknownSocketError}
	s.cond.L = &s.mu
	s.ep.init(s)
	s.tlsSignals.ep = &s.ep
	return s
}

// NewSocketFromConn returns a socket in ConnectedState, UnencryptedMode, over
// an established connection (Qt's setSocketDescriptor): call
// StartServerEncryption (or StartClientEncryption) to encrypt it.
func NewSocketFromConn(conn net.Conn) *Socket {
	s := NewSocket()
	s.raw = conn
	s.setPhaseLocked(phaseConnected) // before anyone can subscribe: nothing to emit
	s.connectReported = true
	return s
}

// SetSocketDescriptor adopts an open socket file descriptor (a duplicate is
// made; the caller keeps fd). The socket is then in ConnectedState.
func (s *Socket) SetSocketDescriptor(fd uintptr) error {
	// Work on our own duplicate: an *os.File around the caller's fd would
	// close it (from its finalizer) when collected, by then perhaps reused.
	dup, err := syscall.Dup(int(fd))
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(dup), "socket")
	conn, err := net.FileConn(f) // duplicates again
	f.Close()
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.state != UnconnectedState || s.phase == phaseClosed {
		s.mu.Unlock()
		conn.Close()
		return errors.New("ssl: SetSocketDescriptor on a socket in use")
	}
	s.initLocked()
	if h := s.hub(); h != nil {
		h.keepWorker()
	}
	s.raw, s.connectReported = conn, true
	_, changed := s.setPhaseLocked(phaseConnected)
	s.mu.Unlock()
	if changed {
		s.emitState(ConnectedState)
	}
	return nil
}

// SocketDescriptor returns the native descriptor of the connection, or -1.
func (s *Socket) SocketDescriptor() int {
	s.mu.Lock()
	raw := s.raw
	s.mu.Unlock()
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	_ = rc.Control(func(x uintptr) { fd = int(x) })
	return fd
}

// State returns the socket's state.
func (s *Socket) State() SocketState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// Mode returns whether the socket is plain, a TLS client or a TLS server.
func (s *Socket) Mode() SslMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// IsEncrypted reports whether the handshake completed and data flows encrypted.
func (s *Socket) IsEncrypted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.encryptedLocked()
}

// SocketError returns the kind of the last error (QAbstractSocket::error).
func (s *Socket) SocketError() SocketError {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errKind
}

// ErrorString describes the last error.
func (s *Socket) ErrorString() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errString == "" {
		return "Unknown error"
	}
	return s.errString
}

// --- configuration -------------------------------------------------------

// SslConfiguration returns a copy of the socket's configuration, with the
// session's state (cipher, protocol, peer chain, ALPN) filled in.
func (s *Socket) SslConfiguration() Configuration {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.config.Clone()
	if chain := s.ep.peerCertificates(); s.encryptedLocked() || len(chain) > 0 {
		c.peerCertificateChain = append([]Certificate(nil), chain...)
	}
	if s.encryptedLocked() {
		c.setSession(s.sessState)
	}
	return c
}

// setSession fills in the negotiated session's facts.
func (c *Configuration) setSession(st SessionState) {
	c.sessionCipher = st.Cipher
	c.sessionProtocol, c.sessionProtocolSet = ProtocolFromVersion(st.Version), true
	c.nextNegotiatedProtocol = st.ALPN
	c.nextProtocolStatus = st.ALPNStatus
	c.ephemeralServerKey = st.EphemeralKey
	c.setSessionExtras(st)
}

// SetSslConfiguration replaces the socket's configuration; it applies to
// the next handshake.
func (s *Socket) SetSslConfiguration(c Configuration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c = c.Clone()
	s.useConfigLocked(&c)
}

// useConfigLocked makes snap (a snapshot nobody modifies) the socket's
// configuration, keeping Qt's rule that on-demand root loading, once off,
// stays off.
func (s *Socket) useConfigLocked(snap *Configuration) {
	if !s.config.AllowsOnDemandRoots() && !snap.caSet {
		c := *snap
		c.caSet, c.prep = true, nil
		snap = &c
	}
	s.config = snap
}

// withConfig changes a copy of the configuration and makes it current.
func (s *Socket) withConfig(f func(*Configuration)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.config.Clone()
	f(&c)
	s.config = &c
}

// Protocol returns the configured protocol.
func (s *Socket) Protocol() Protocol { return s.SslConfiguration().Protocol() }

// SetProtocol sets the protocol for the next handshake.
func (s *Socket) SetProtocol(p Protocol) { s.withConfig(func(c *Configuration) { c.SetProtocol(p) }) }

// PeerVerifyMode returns the verification mode.
func (s *Socket) PeerVerifyMode() PeerVerifyMode { return s.SslConfiguration().PeerVerifyMode() }

// SetPeerVerifyMode sets the verification mode.
func (s *Socket) SetPeerVerifyMode(m PeerVerifyMode) {
	s.withConfig(func(c *Configuration) { c.SetPeerVerifyMode(m) })
}

// PeerVerifyDepth returns the maximum number of intermediates (0: no limit).
func (s *Socket) PeerVerifyDepth() int { return s.SslConfiguration().PeerVerifyDepth() }

// SetPeerVerifyDepth sets the maximum number of intermediates; negative values are ignored.
func (s *Socket) SetPeerVerifyDepth(d int) {
	s.withConfig(func(c *Configuration) { c.SetPeerVerifyDepth(d) })
}

// PeerVerifyName returns the name the peer's certificate is checked
// against when it differs from the host connected to.
func (s *Socket) PeerVerifyName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peerVerifyName
}

// SetPeerVerifyName sets the name to verify the peer's certificate against
// (and to send as SNI) instead of the host name.
func (s *Socket) SetPeerVerifyName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peerVerifyName = name
}

// LocalCertificate returns the local certificate.
func (s *Socket) LocalCertificate() Certificate { return s.SslConfiguration().LocalCertificate() }

// SetLocalCertificate sets the local certificate (the chain becomes [cert]).
func (s *Socket) SetLocalCertificate(cert Certificate) {
	s.withConfig(func(c *Configuration) { c.SetLocalCertificate(cert) })
}

// SetLocalCertificateFile loads the first certificate of a file as the local certificate.
func (s *Socket) SetLocalCertificateFile(path string, format EncodingFormat) error {
	certs, err := CertificatesFromFile(path, format)
	if err != nil {
		return err
	}
	s.SetLocalCertificate(certs[0])
	return nil
}

// LocalCertificateChain returns the local chain, leaf first.
func (s *Socket) LocalCertificateChain() []Certificate {
	return s.SslConfiguration().LocalCertificateChain()
}

// SetLocalCertificateChain sets the local chain, leaf first.
func (s *Socket) SetLocalCertificateChain(chain []Certificate) {
	s.withConfig(func(c *Configuration) { c.SetLocalCertificateChain(chain) })
}

// PrivateKey returns the local certificate's key.
func (s *Socket) PrivateKey() Key { return s.SslConfiguration().PrivateKey() }

// SetPrivateKey sets the local certificate's key.
func (s *Socket) SetPrivateKey(k Key) { s.withConfig(func(c *Configuration) { c.SetPrivateKey(k) }) }

// SetPrivateKeyFile loads the local certificate's key from a file.
func (s *Socket) SetPrivateKeyFile(path string, alg KeyAlgorithm, format EncodingFormat, passphrase []byte) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	k, err := ParseKey(data, alg, format, PrivateKey, passphrase)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	s.SetPrivateKey(k)
	return nil
}

// AddCaCertificate adds a CA certificate to this socket's trust store
// (CopperSpice's QSslSocket::addCaCertificate).
func (s *Socket) AddCaCertificate(cert Certificate) {
	s.withConfig(func(c *Configuration) { c.AddCaCertificate(cert) })
}

// AddCaCertificates adds CA certificates to this socket's trust store.
func (s *Socket) AddCaCertificates(certs ...Certificate) {
	s.withConfig(func(c *Configuration) { c.AddCaCertificates(certs...) })
}

// AddCaCertificatesFromPath loads CA certificates as CertificatesFromPath
// does and adds them; false when nothing was loaded.
func (s *Socket) AddCaCertificatesFromPath(path string, format EncodingFormat, syntax PatternSyntax) bool {
	var ok bool
	s.withConfig(func(c *Configuration) { ok = c.AddCaCertificatesFromPath(path, format, syntax) })
	return ok
}

// SessionCipher returns the negotiated cipher (the zero Cipher before encryption).
func (s *Socket) SessionCipher() Cipher { return s.SslConfiguration().SessionCipher() }

// SessionProtocol returns the negotiated protocol (UnknownProtocol before encryption).
func (s *Socket) SessionProtocol() Protocol { return s.SslConfiguration().SessionProtocol() }

// PeerCertificate returns the peer's certificate, once it has been received.
func (s *Socket) PeerCertificate() Certificate { return s.SslConfiguration().PeerCertificate() }

// PeerCertificateChain returns the chain the peer presented, leaf first.
func (s *Socket) PeerCertificateChain() []Certificate {
	return s.SslConfiguration().PeerCertificateChain()
}

// IsSessionResumed reports whether the handshake resumed an earlier session.
func (s *Socket) IsSessionResumed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.encryptedLocked() && s.sessState.Resumed
}

// PauseMode returns where the socket pauses for the application.
func (s *Socket) PauseMode() PauseMode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pauseMode
}

// SetPauseMode sets where the socket pauses: with PauseOnSslErrors a
// handshake with unignored errors waits for Resume instead of failing.
//
// As in Qt, the mode is read when the decision is taken: set from an
// sslErrors handler, it applies to the handshake in progress.
func (s *Socket) SetPauseMode(m PauseMode) {
	s.mu.Lock()
	s.pauseMode = m
	s.mu.Unlock()
	s.ep.setPauseMode(m) // one owner of the policy: Socket and Engine alike
}

// ReadBufferSize returns the bound on buffered unread data (0: the default bound).
func (s *Socket) ReadBufferSize() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readBufferSize
}

// SetReadBufferSize bounds the decrypted data held for the application; at
// the bound the socket stops reading from the network, so TCP flow control
// slows the peer. 0 means the default bound of 1 MiB (Qt: unbounded).
func (s *Socket) SetReadBufferSize(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n < 0 {
		n = 0
	}
	s.readBufferSize = n
	s.cond.Broadcast()
}

// --- addresses -----------------------------------------------------------

// LocalAddr returns the local network address (net.Conn); after the
// connection ended, the one it had, as net.TCPConn does.
func (s *Socket) LocalAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.raw == nil {
		return s.lastLocal
	}
	return s.raw.LocalAddr()
}

// RemoteAddr returns the peer's network address (net.Conn); after the
// connection ended, the one it had, as net.TCPConn does.
func (s *Socket) RemoteAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.raw == nil {
		return s.lastRemote
	}
	return s.raw.RemoteAddr()
}

// liveAddrs returns the connection's addresses while it is connected (Qt's
// peerAddress() & co. are empty once it is not).
func (s *Socket) liveAddrs() (local, remote net.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.raw == nil {
		return nil, nil
	}
	return s.raw.LocalAddr(), s.raw.RemoteAddr()
}

func splitAddr(a net.Addr) (string, uint16) {
	if a == nil {
		return "", 0
	}
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), 0
	}
	p, _ := strconv.Atoi(port)
	return host, uint16(p)
}

// PeerAddress returns the peer's IP address ("" when not connected).
func (s *Socket) PeerAddress() string { _, r := s.liveAddrs(); h, _ := splitAddr(r); return h }

// PeerPort returns the peer's port (0 when not connected).
func (s *Socket) PeerPort() uint16 { _, r := s.liveAddrs(); _, p := splitAddr(r); return p }

// LocalAddress returns the local IP address ("" when not connected).
func (s *Socket) LocalAddress() string { l, _ := s.liveAddrs(); h, _ := splitAddr(l); return h }

// LocalPort returns the local port (0 when not connected).
func (s *Socket) LocalPort() uint16 { l, _ := s.liveAddrs(); _, p := splitAddr(l); return p }

// PeerName returns the host name given to ConnectToHost*.
func (s *Socket) PeerName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hostName
}

// --- state transitions ---------------------------------------------------

// setError records the last error; the caller emits errorOccurred.
func (s *Socket) setErrorLocked(kind SocketError, msg string, cause error) {
	s.errKind, s.errString, s.errCause = kind, msg, cause
}

func (s *Socket) emitState(st SocketState) {
	s.emit(event{kind: evStateChanged, n: int64(st)})
}

// fail records an error, emits errorOccurred and tears the connection down.
func (s *Socket) fail(kind SocketError, msg string, cause error) {
	s.mu.Lock()
	if s.endedLocked() {
		s.mu.Unlock()
		return
	}
	s.setErrorLocked(kind, msg, cause)
	connected := s.raw != nil
	s.mu.Unlock()
	if !connected {
		// Lookup, connect or proxy failures: Qt's order is Unconnected,
		// then errorOccurred (and no disconnected: there was no connection).
		s.transition(phaseDone)
	}
	s.emit(event{kind: evErrorOccurred, n: int64(kind)})
	s.teardown(false, true)
}

// initLocked resets per-connection state as Qt's init() does: note that
// IgnoreSslErrors() called before connecting is forgotten, while
// IgnoreSslErrorList is kept.
func (s *Socket) initLocked() {
	s.gen++
	s.live.newConnectionLocked()
	s.mode, s.autoStart, s.flushing, s.handshaked = UnencryptedMode, false, false, false
	s.pendClose, s.disconnectAsked, s.connectReported = false, false, false
	s.alertClose = false
	s.ep.reset()
	s.discardReadBufferLocked()
	s.readErr, s.writeErr = nil, nil
	s.lastWriteEnd.Store(0)
	s.wqueue = s.wqueue[:0]
	s.sessState = SessionState{}
	s.errKind, s.errString = UnknownSocketError, ""
	s.errCause = nil
	s.sess = nil
}

// --- connecting ----------------------------------------------------------

// ConnectToHost starts a plain TCP connection (QAbstractSocket::connectToHost);
// use StartClientEncryption later for STARTTLS. It returns at once: follow
// progress with events or WaitForConnected.
func (s *Socket) ConnectToHost(host string, port uint16) { s.connect(host, port, false) }

// ConnectToHostEncrypted connects and runs the TLS handshake as a client as
// soon as the connection is up. It returns at once; use events, or
// WaitForEncrypted, or Dial for a blocking call. The peer's certificate is
// checked against PeerVerifyName if set, else host. Calls while connecting
// or connected are ignored, as in Qt. An unsupported protocol fails at once
// with SslInvalidUserDataError and no connection attempt.
func (s *Socket) ConnectToHostEncrypted(host string, port uint16) { s.connect(host, port, true) }

func (s *Socket) connect(host string, port uint16, encrypted bool) {
	s.mu.Lock()
	if s.state != UnconnectedState {
		s.mu.Unlock()
		return
	}
	if encrypted {
		if _, _, ok := s.config.Protocol().VersionRange(); !ok {
			s.setErrorLocked(SslInvalidUserDataError, "Attempted to use an unsupported protocol.", nil)
			s.mu.Unlock()
			s.emit(event{kind: evErrorOccurred, n: int64(SslInvalidUserDataError)})
			return
		}
	}
	if !s.inHandler() {
		// A previous connection's goroutines are gone first — unless this
		// is a handler of one of them (reconnecting from disconnected, a
		// Qt idiom): that goroutine ends as the handler returns, and what
		// it still does applies to its own connection only (gen).
		s.waitGoroutinesLocked()
	}
	s.initLocked()
	if h := s.hub(); h != nil {
		h.keepWorker() // a new connection: its data events keep one worker
	}
	s.autoStart = encrypted
	s.hostName, s.port = host, port
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.setPhaseLocked(phaseLookup)
	g := s.enterLocked()
	s.mu.Unlock()
	s.emitState(HostLookupState) // before the connect loop can emit the next state
	go func() {
		defer s.exit(g)
		s.connectLoop(ctx, host, port)
	}()
}

// waitGoroutinesLocked waits for a previous connection's goroutines.
func (s *Socket) waitGoroutinesLocked() {
	for s.live.cur+s.live.old > 0 {
		s.cond.Wait()
	}
}

func (s *Socket) connectLoop(ctx context.Context, host string, port uint16) {
	s.mu.Lock()
	var px Proxy // DefaultProxy unless set
	if s.proxy != nil {
		px = *s.proxy
	}
	s.mu.Unlock()
	if px.Type == DefaultProxy {
		px = ApplicationProxy()
	}
	if px.Type != NoProxy {
		// The proxy resolves the host (SOCKS5 with names, HTTP CONNECT).
		s.transition(phaseConnecting) // Qt: Connecting, then hostFound
		s.emit(event{kind: evHostFound})
		conn, err := dialThroughProxy(ctx, px, host, port)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			var pe *proxyError
			if errors.As(err, &pe) {
				s.fail(pe.kind, pe.msg, err)
			} else {
				s.fail(ProxyProtocolError, err.Error(), err)
			}
			return
		}
		s.connected(conn)
		return
	}
	s.mu.Lock()
	family := s.family
	s.mu.Unlock()
	addrs, err := lookupFamily(ctx, host, family)
	if ctx.Err() != nil {
		return // aborted
	}
	if err != nil || len(addrs) == 0 {
		s.fail(HostNotFoundError, "Host not found", err)
		return
	}
	s.transition(phaseConnecting) // Qt: Connecting, then hostFound
	s.emit(event{kind: evHostFound})
	var conn net.Conn
	var d net.Dialer
	for _, a := range addrs {
		conn, err = d.DialContext(ctx, "tcp", net.JoinHostPort(a, strconv.Itoa(int(port))))
		if err == nil {
			break
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		kind, msg := NetworkError, err.Error()
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			kind, msg = ConnectionRefusedError, "Connection refused"
		case errors.Is(err, os.ErrDeadlineExceeded):
			kind, msg = SocketTimeoutError, "Connection timed out"
		case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
			kind, msg = NetworkError, "Network unreachable"
		}
		s.fail(kind, msg, err)
		return
	}
	s.connected(conn)
}

// connected continues a connection attempt once the transport is up.
func (s *Socket) connected(conn net.Conn) {
	s.mu.Lock()
	moved, changed := false, false
	if s.phase == phaseConnecting { // not aborted meanwhile
		moved, changed = s.setPhaseLocked(phaseConnected)
	}
	if !moved {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.raw = conn
	auto := s.autoStart
	s.mu.Unlock()
	if changed {
		s.emitState(ConnectedState)
	}
	if auto {
		// As in Qt, the handshake starts before connected is emitted.
		if err := s.startEncryption(false); err != nil {
			return
		}
		s.emit(event{kind: evConnected})
		s.connectDelivered()
		s.runHandshake()
		return
	}
	s.emit(event{kind: evConnected})
	s.connectDelivered()
	s.mu.Lock()
	s.startPlainReaderLocked()
	s.mu.Unlock()
}

// connectDelivered lets WaitForConnected return once the connected event
// (emitted just before) was delivered.
func (s *Socket) connectDelivered() {
	mark := func() {
		s.mu.Lock()
		s.connectReported = true
		s.cond.Broadcast()
		s.mu.Unlock()
	}
	if h := s.hub(); h != nil {
		h.afterQueued(mark)
		return
	}
	mark()
}

// StartClientEncryption starts a client handshake on a connected plain
// socket (STARTTLS). Bytes received but not yet read are handed to TLS.
func (s *Socket) StartClientEncryption() error { return s.startAndRun(false) }

// StartServerEncryption starts a server handshake on a connected plain
// socket, e.g. one from NewSocketFromConn. It returns at once; follow
// progress with events or WaitForEncrypted.
func (s *Socket) StartServerEncryption() error { return s.startAndRun(true) }

func (s *Socket) startAndRun(server bool) error {
	if err := s.startEncryption(server); err != nil {
		return err
	}
	s.mu.Lock()
	s.goLocked(s.runHandshake)
	s.mu.Unlock()
	return nil
}

// startEncryption switches the mode and creates the backend session.
func (s *Socket) startEncryption(server bool) error { return s.startEncryptionWith(server, nil) }

// startEncryptionWith is startEncryption with the bytes already received
// for TLS given directly (nil: those the plain reader buffered).
func (s *Socket) startEncryptionWith(server bool, received []byte) error {
	s.mu.Lock()
	if s.mode != UnencryptedMode {
		s.mu.Unlock()
		return errors.New("ssl: cannot start a handshake on a non-plain connection")
	}
	if s.state != ConnectedState || s.raw == nil {
		s.mu.Unlock()
		return errors.New("ssl: cannot start a handshake when not connected")
	}
	if _, _, ok := s.config.Protocol().VersionRange(); !ok {
		s.setErrorLocked(SslInvalidUserDataError, "Attempted to use an unsupported protocol.", nil)
		s.mu.Unlock()
		s.emit(event{kind: evErrorOccurred, n: int64(SslInvalidUserDataError)})
		return invalidUserData("Attempted to use an unsupported protocol.")
	}
	if server && s.config.OcspStaplingEnabled() {
		s.setErrorLocked(SslInvalidUserDataError, "Server-side QSslSocket does not support OCSP stapling", nil)
		s.mu.Unlock()
		s.emit(event{kind: evErrorOccurred, n: int64(SslInvalidUserDataError)})
		return invalidUserData("Server-side QSslSocket does not support OCSP stapling")
	}
	s.stopPlainReaderLocked()
	prefix := received
	if prefix == nil && s.rend > s.rpos {
		prefix = append([]byte(nil), s.rbuf[s.rpos:s.rend]...)
	}
	s.discardReadBufferLocked() // the plain reader has stopped
	if server {
		s.mode = SslServerMode
	} else {
		s.mode = SslClientMode
	}
	mode := s.mode
	s.autoStart = true
	cfg := s.config // a snapshot: the session and the endpoint share it
	params := SessionParams{Server: server, Config: *cfg, Hooks: &s.ep}
	if !server {
		params.ServerName = s.sniNameLocked()
	}
	s.ep.begin(cfg, server, s.verifyNameLocked(), s.pauseMode, true)
	params.WantsPreSharedKey = s.ep.WantsPreSharedKey()
	// Handlers of the decision events run outside every lock of the
	// engine: the handshake pauses for them (a stream only when someone
	// listens, for crypto/tls's handshake then needs a goroutine of its own).
	params.DeferDecisions = s.ep.hasDecisionSubscribers()
	params.VerificationCanWait = server && !params.DeferDecisions && s.ep.verificationNeverRefuses()
	raw := s.raw
	s.mu.Unlock()
	s.emit(event{kind: evModeChanged, n: int64(mode)})

	sess, err := newStream(cfg.Backend(), raw, prefix, params, &s.ep)
	if err != nil {
		kind := SslInvalidUserDataError
		if !errors.Is(err, ErrInvalidUserData) && !errors.Is(err, ErrUnsupported) {
			kind = SslInternalError
		}
		s.fail(kind, err.Error(), err)
		return err
	}
	s.mu.Lock()
	if s.endedLocked() || s.raw != raw {
		s.mu.Unlock()    // aborted while the stream was made (from a modeChanged handler, say):
		_ = sess.Close() // no handshake follows; the abort was the application's own
		return nil
	}
	s.sess = sess
	s.mu.Unlock()
	return nil
}

// verifyNameLocked is the name the peer's certificate must match: the
// peer verify name, else the host connected to.
func (s *Socket) verifyNameLocked() string {
	if s.peerVerifyName != "" {
		return s.peerVerifyName
	}
	return s.hostName
}

// sniNameLocked is Qt's SNI rule for this socket (see sniName).
func (s *Socket) sniNameLocked() string { return sniName(*s.config, s.verifyNameLocked()) }

// sniName is Qt's SNI rule: the peer verify name, else the host; no SNI
// for IP literals, empty names or with SslOptionDisableServerNameIndication;
// a trailing dot is dropped; international names go in their ACE form.
func sniName(cfg Configuration, name string) string {
	if cfg.TestSslOption(SslOptionDisableServerNameIndication) {
		return ""
	}
	if len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	if net.ParseIP(name) != nil {
		return ""
	}
	if a := toAce(name); a != "" {
		return a
	}
	return name
}

// runHandshake drives the handshake, then becomes the read loop if Qt's
// buffered view is wanted.
func (s *Socket) runHandshake() {
	if sess, loop := s.handshake(false); loop {
		s.readLoop(sess, true)
	}
}

// serveHandshake runs a server handshake on the calling goroutine (the
// Server's): prefix holds the bytes the server already read; the Server
// bounds the handshake by expiring the connection's deadline, so a
// timeout is Qt's SocketTimeoutError. It returns nil once the socket is
// encrypted; the failure was reported through events, as on any socket.
func (s *Socket) serveHandshake(prefix []byte) error {
	if err := s.startEncryptionWith(true, prefix); err != nil {
		return err
	}
	s.mu.Lock()
	g := s.enterLocked() // as a handshake goroutine: a teardown elsewhere waits for it
	s.mu.Unlock()
	sess, loop := s.handshake(true)
	if loop {
		go func() {
			defer s.exit(g)
			s.readLoop(sess, true)
		}()
	} else {
		s.exit(g)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.encryptedLocked() {
		if err := s.lastErrorLocked(); err != nil {
			return err
		}
		return net.ErrClosed
	}
	return nil
}

// handshake drives the handshake on the calling goroutine and reports
// whether the caller should become the read loop. A teardown interrupts
// it by closing the transport (no context: crypto/tls would start a
// goroutine per handshake to watch one). timed: a Server bounds it, and a
// timeout is the Server's handshake timeout.
func (s *Socket) handshake(timed bool) (Stream, bool) {
	s.mu.Lock()
	sess := s.sess
	s.awaitPlainReaderLocked()
	aborted := s.endedLocked()
	s.mu.Unlock()
	if sess == nil || aborted {
		return nil, false
	}
	err := sess.Handshake(context.Background())
	for errors.Is(err, ErrWantRetryVerify) && s.ep.runDecision() {
		// The verification events ran here, with no lock held; a
		// paused handshake resumed once the application decided.
		err = sess.Handshake(context.Background())
	}
	s.emitEncryptedBytesWritten()
	if err != nil {
		if timed && isTimeout(err) {
			err = errHandshakeTimeout
		}
		s.handshakeFailed(err)
		return nil, false
	}
	st := sess.State()
	s.mu.Lock()
	if s.phase != phaseConnected {
		s.mu.Unlock() // aborted or closed meanwhile (perhaps from a handler)
		return nil, false
	}
	s.sessState = st
	s.ep.setPeerCertificates(st.PeerChain)
	s.flushing, s.handshaked = true, true // encrypted from now on
	s.cond.Broadcast()
	s.mu.Unlock()
	s.emitEncryptedBytesWritten()
	s.emit(event{kind: evEncrypted})
	s.flushQueue()
	s.mu.Lock()
	pend := s.pendClose
	s.mu.Unlock()
	if pend {
		s.DisconnectFromHost()
		return nil, false
	}
	s.mu.Lock()
	if !s.loopWantedLocked() || s.endedLocked() || s.path != readDirect || s.directReaders > 0 {
		if s.path == readDirect && !s.readDL.IsZero() && s.raw != nil {
			_ = s.raw.SetReadDeadline(s.readDL) // direct reads honour a deadline set earlier
		}
		s.mu.Unlock()
		return nil, false // Read reads the session itself until someone needs Qt's view
	}
	s.path = readLoop
	if s.raw != nil {
		_ = s.raw.SetReadDeadline(time.Time{}) // the loop never times out; Read's deadline is ours
	}
	s.mu.Unlock()
	return sess, true
}

func (s *Socket) handshakeFailed(err error) {
	s.mu.Lock()
	if s.endedLocked() {
		s.mu.Unlock()
		return
	}
	if vf := s.ep.verificationFailure(); vf != nil {
		err = vf // what crypto/tls wrapped, or an engine lost: the decision itself
	}
	kind, msg := SslHandshakeFailedError, "Error during SSL handshake: "+err.Error()
	var ve *VerificationError
	var fe *fatalHandshakeError
	switch {
	case errors.As(err, &ve):
		msg = ve.qtErrorString() // Qt's errorString: the first error's text
	case errors.As(err, &fe):
		msg = fe.msg
	case err == errHandshakeTimeout:
		kind, msg = SocketTimeoutError, "The handshake timed out"
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
		// The peer closed during the handshake: Qt's RemoteHostClosedError.
		kind, msg = RemoteHostClosedError, "The remote host closed the connection"
	}
	s.setErrorLocked(kind, msg, err)
	if kind == SslHandshakeFailedError {
		// The engine has sent its fatal alert: no close_notify, and no
		// reset that would destroy the alert in flight, whoever tears
		// the connection down (a handler of errorOccurred may Abort).
		s.closeAfterAlertLocked()
	}
	s.mu.Unlock()
	s.emit(event{kind: evErrorOccurred, n: int64(kind)})
	// Qt goes through Closing when its own policy refused the peer or the
	// peer closed; failures inside the TLS library go straight to Unconnected.
	s.teardownWith(teardownHow{closing: ve != nil || kind == RemoteHostClosedError}, true)
}

// --- closing -------------------------------------------------------------

// DisconnectFromHost closes the connection gracefully: queued data is
// sent, then close_notify, then the TCP connection is closed. During a
// handshake the close happens once it completes. Data already received
// stays readable.
func (s *Socket) DisconnectFromHost() {
	s.mu.Lock()
	switch {
	case s.state == UnconnectedState:
		s.mu.Unlock()
		return
	case s.state == HostLookupState || s.state == ConnectingState || (s.mode != UnencryptedMode && !s.encryptedLocked()):
		s.pendClose = true
		s.mu.Unlock()
		return
	}
	// Qt's socket sits in ClosingState until close_notify and queued data
	// are written, so a WaitForDisconnected right after this call returns
	// true; ours completes the disconnect here, and the next wait reports it.
	s.disconnectAsked = true
	s.mu.Unlock()
	s.teardown(true, true)
}

// Abort closes the connection at once: no queued data is sent, no
// close_notify. Buffered data is discarded, and the socket is Unconnected
// when Abort returns, as with Qt's abort(). Only the final close of the
// TCP connection may come later: when the library has just sent a fatal
// alert on it (a failed handshake, a fatal error while reading), it is
// half-closed and drained in the background (until the peer's FIN, 1 MiB
// or 2 s) so that a reset does not destroy that alert; otherwise the
// transport is closed at once.
func (s *Socket) Abort() {
	s.mu.Lock()
	s.discardReadBufferLocked()
	s.wqueue = s.wqueue[:0]
	gen := s.gen
	s.mu.Unlock()
	s.teardown(false, false)
	s.mu.Lock()
	if s.gen == gen && (s.readErr == nil || s.readErr == io.EOF) { // (not a reconnection's)
		s.readErr = net.ErrClosed
	}
	s.mu.Unlock()
}

// Close implements net.Conn (and QSslSocket::close): a graceful disconnect
// (close_notify), then the buffers are cleared and the socket is
// Unconnected. Blocked Read and Write calls return. Every internal
// goroutine has exited when Close returns (unless called from an event
// handler, where they exit right after), except the bounded background
// drain of a TCP connection closed with input unread (see Abort).
func (s *Socket) Close() error {
	s.mu.Lock()
	if s.state == UnconnectedState && s.raw == nil && s.readErr == net.ErrClosed {
		s.mu.Unlock()
		return net.ErrClosed
	}
	gen := s.gen
	s.mu.Unlock()
	s.teardown(true, false)
	s.mu.Lock()
	if s.gen == gen { // a reconnection made meanwhile keeps its buffer and errors
		s.discardReadBufferLocked()
		s.readErr = net.ErrClosed
	}
	s.cond.Broadcast()
	s.mu.Unlock()
	return nil
}

// teardown ends the connection. graceful sends queued data and
// close_notify first. fromInside is true on the socket's own goroutines.
func (s *Socket) teardown(graceful, fromInside bool) {
	s.teardownWith(teardownHow{graceful: graceful, closing: graceful}, fromInside)
}

// teardownHow says how a connection ends.
type teardownHow struct {
	graceful bool // send queued data and close_notify first
	closing  bool // pass through ClosingState (Qt does, except for aborts and TLS-library failures)
}

// teardownWith ends the connection as how says; fromInside is true on the
// socket's own goroutines. Events: [Closing,] Unconnected,
// readChannelFinished, disconnected — Qt's order.
func (s *Socket) teardownWith(how teardownHow, fromInside bool) {
	graceful := how.graceful
	s.mu.Lock()
	gen := s.gen
	linger := s.alertClose // a fatal alert was our last word: close in order (close_drain.go), even on Abort
	if s.raw == nil && s.state == UnconnectedState {
		if s.cancel != nil {
			s.cancel()
		}
		s.ep.abort() // ep.mu nests inside s.mu, never the reverse
		s.cond.Broadcast()
		s.mu.Unlock()
		if !fromInside {
			s.awaitGoroutines(gen)
		}
		return
	}
	sess, raw, enc := s.sess, s.raw, s.encryptedLocked()
	// From here the end of the stream is ours, not the peer's.
	var toClosing bool
	if how.closing && raw != nil && s.phase == phaseConnected {
		_, toClosing = s.setPhaseLocked(phaseClosing)
	} else {
		s.setPhaseLocked(phaseEnding)
	}
	s.mu.Unlock()
	if toClosing {
		s.emitState(ClosingState)
	}
	if graceful && raw != nil {
		if enc {
			s.flushQueue()
			s.lockWrite()
			_ = raw.SetWriteDeadline(time.Now().Add(2 * time.Second))
			_ = sess.CloseWrite()
			s.unlockWrite()
			s.emitEncryptedBytesWritten()
		}
	}
	s.ep.abort()
	s.mu.Lock()
	everConn := false
	if s.gen == gen { // not a new connection made from a handler of a nested teardown
		s.setPhaseLocked(phaseEnding) // from Closing: the socket's goroutines stop
		if s.cancel != nil {
			s.cancel()
		}
		if raw != nil {
			s.lastLocal, s.lastRemote = raw.LocalAddr(), raw.RemoteAddr()
		}
		everConn = s.raw != nil // not yet ended by a teardown nested in a handler
		s.raw = nil
		s.wqueue = s.wqueue[:0]
		if s.readErr == nil {
			s.readErr = io.EOF
		}
	}
	// An alert or close_notify went out: close without a TCP reset
	// destroying it (unread input makes the kernel send one); the drain
	// runs in the background (close_drain.go).
	orderly := enc && graceful || linger
	s.cond.Broadcast()
	s.mu.Unlock()
	if raw != nil {
		if orderly {
			closeOrderly(raw, linger)
		} else {
			raw.Close()
		}
	}
	if sess != nil {
		_ = sess.Close()
	}
	if !fromInside {
		s.awaitGoroutines(gen)
	}
	// Waiters wake only after stateChanged and disconnected were delivered,
	// as Qt's waitForDisconnected returns after the signal.
	s.mu.Lock()
	changed := false
	if s.gen == gen {
		_, changed = s.setPhaseLocked(phaseClosed)
	}
	s.mu.Unlock()
	if changed {
		s.emit(event{kind: evStateChanged, n: int64(UnconnectedState)})
	}
	if everConn {
		s.emit(event{kind: evReadChannelFinished})
	}
	hub := s.hub()
	if hub != nil && everConn {
		hub.emit(event{kind: evDisconnected})
	}
	// Waiters wake once those events were delivered: at once, or — from a
	// handler, where they queue — right after them.
	if hub == nil {
		s.endTearing(gen) // nobody listens: nothing to wait for
		return
	}
	hub.afterQueued(func() { s.endTearing(gen) })
	s.mu.Lock()
	if s.gen == gen {
		hub.stopWorker() // once it has delivered them (dispatcher.mu nests inside s.mu)
	}
	s.mu.Unlock()
	if !fromInside && !hub.disp.busy() {
		hub.awaitWorker() // every goroutine of the socket has exited
	}
}

// awaitGoroutines waits until the goroutines of connection gen and of
// earlier ones have exited (not those of a reconnection made meanwhile) —
// except when a handler of the socket is running (from which the caller
// may come, or which may be blocked for good on something else): they
// then exit as soon as it returns, for the connection has ended.
func (s *Socket) awaitGoroutines(gen uint32) {
	if h := s.hub(); h != nil && h.disp.busy() {
		return
	}
	s.mu.Lock()
	for s.live.old > 0 || (s.gen == gen && s.live.cur > 0) {
		s.cond.Wait()
	}
	s.mu.Unlock()
}

// endTearing wakes the waiters of connection gen's teardown, whose events
// were delivered.
func (s *Socket) endTearing(gen uint32) {
	s.mu.Lock()
	if s.phase == phaseClosed && s.gen == gen {
		s.setPhaseLocked(phaseDone)
	}
	s.cond.Broadcast()
	s.mu.Unlock()
}
