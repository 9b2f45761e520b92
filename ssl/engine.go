package ssl

import (
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// Engine is a TLS endpoint with no transport — OpenSSL's SSL_connect over
// a BIO pair, for event loops, custom transports (WebSockets, serial links,
// in-process pipes) and tests that wire two endpoints in memory. The
// caller moves the bytes: Feed what arrives from the peer, send what
// TakeOutput (or WriteOutputTo) hands out, and call Handshake, Read and Write,
// which never block on I/O. Instead they report, via errors.Is:
//
//	SSL_connect / SSL_read / SSL_write      Engine
//	1 (or n > 0)                            nil (n > 0)
//	-1, SSL_ERROR_WANT_READ                 ErrWantRead: send TakeOutput's bytes, Feed more
//	-1, SSL_ERROR_WANT_WRITE                ErrWantWrite: take the output, call again
//	-1, SSL_ERROR_WANT_RETRY_VERIFY         ErrWantRetryVerify: paused (PauseOnSslErrors) until Resume
//	0 / -1, SSL_ERROR_ZERO_RETURN (read)    io.EOF: the peer sent close_notify
//	-1, SSL_ERROR_SYSCALL, EOF              ErrUncleanShutdown (Read) / RemoteHostClosedError (Handshake)
//	-1, SSL_ERROR_SSL                       a *SocketErr (Kind SslHandshakeFailedError, …), wrapping
//	                                        a *VerificationError when certificates were refused
//
// The loop is short: after every call, send everything TakeOutput gives
// (a buffer of MaxPendingOutput bytes always drains it in one call); on
// ErrWantRead, Feed what the peer sends next and call again.
//
// An Engine has the Socket's Configuration, verification policy (every
// certificate error, ignore rules, pause/resume, interrupt/continue),
// events and session facts, on every backend (Configuration.SetBackend).
// It is safe for concurrent use; its event handlers run synchronously
// inside the call that raised them and may call any method except
// Handshake, Read and Write (which return ErrWouldDeadlock there).
// Close it when done: a handshake in progress holds a goroutine on the go
// backend until it ends.
type Engine struct {
	tlsSignals          // OnSslErrors, IgnoreSslErrors, … (shared with Socket)
	hubStore   eventHub // subscribers and their dispatcher
	ep         *endpoint

	// callMu serialises calls into core (the EngineCore contract's one
	// call at a time). Hooks — and so event handlers — run while it is
	// held, which is why handlers may not make calls that need it.
	callMu sync.Mutex
	core   EngineCore

	// mu guards the fields below; it is never held across a core call or
	// while events are emitted.
	mu        sync.Mutex
	config    Configuration
	mode      SslMode
	encrypted bool
	sessState SessionState
	err       error // the first fatal error, returned from then on

	closed      atomic.Bool
	inBuffered  atomic.Int64 // snapshots after every core call, for any goroutine
	outBuffered atomic.Int64
	cleanup     runtime.Cleanup
}

// NewClientEngine returns a client engine for config, verifying the
// server against serverName (also sent as SNI, unless it is an IP address
// or SslOptionDisableServerNameIndication is set).
func NewClientEngine(config Configuration, serverName string) (*Engine, error) {
	return newEngine(config, SslClientMode, serverName)
}

// NewServerEngine returns a server engine for config, which must hold a
// certificate chain and its private key.
func NewServerEngine(config Configuration) (*Engine, error) {
	return newEngine(config, SslServerMode, "")
}

// hub returns the engine's event hub (endpointOwner).
func (e *Engine) hub() *eventHub { return &e.hubStore }

func newEngine(config Configuration, mode SslMode, name string) (*Engine, error) {
	e := &Engine{config: config.Clone(), mode: mode}
	e.hubStore.init()
	e.hubStore.inline = true // handlers run inside the call that raised them
	e.ep = newEndpoint(e)
	e.tlsSignals.ep = e.ep
	server := mode == SslServerMode
	if server && len(e.config.LocalCertificateChain()) == 0 && len(e.config.PreSharedKeyIdentityHint()) == 0 {
		return nil, invalidUserData("a server engine needs a local certificate")
	}
	b, err := backendFor(e.config.Backend())
	if err != nil {
		return nil, err
	}
	if err := checkTicketKeys(e.config, server, b); err != nil {
		return nil, err
	}
	if err := checkECH(e.config, server, b); err != nil {
		return nil, err
	}
	e.ep.begin(&e.config, server, name, 0, false) // shared with the endpoint: changed only by storeTicket, under callMu like every hook
	e.ep.setDeferDecisions(true)                  // the decision's events run outside callMu (see Handshake)
	p := SessionParams{Server: server, Config: e.config, Hooks: e.ep, DeferDecisions: true,
		WantsPreSharedKey: e.ep.WantsPreSharedKey()}
	if !server {
		p.ServerName = sniName(e.config, name)
	}
	core, err := b.NewEngine(p)
	if err != nil {
		return nil, err
	}
	e.core = core
	// An Engine dropped without Close still ends its handshake goroutine.
	e.cleanup = runtime.AddCleanup(e, func(c EngineCore) { _ = c.Close() }, core)
	return e, nil
}

// stillOpen (endpointOwner) is false once Close was called.
func (e *Engine) stillOpen() bool { return !e.closed.Load() }

// storeTicket (endpointOwner) keeps a new session in the configuration.
func (e *Engine) storeTicket(ticket []byte, lifetimeHint int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.config.TestSslOption(SslOptionDisableSessionPersistence) {
		return false
	}
	e.config.sessionTicket = append([]byte(nil), ticket...)
	e.config.ticketLifetimeHint, e.config.ticketHintSet = lifetimeHint, lifetimeHint >= 0
	return e.encrypted
}

// enter takes callMu for a call into the core, unless that would
// deadlock or the engine is done.
func (e *Engine) enter() error {
	if e.hubStore.disp.inHandler() {
		return ErrWouldDeadlock
	}
	e.callMu.Lock()
	if e.closed.Load() {
		e.callMu.Unlock()
		return ErrEngineClosed
	}
	e.mu.Lock()
	err := e.err
	e.mu.Unlock()
	if err != nil {
		e.callMu.Unlock()
		return err
	}
	return nil
}

// leave refreshes the snapshots, closes the core if Close came from a
// handler meanwhile, and releases callMu.
func (e *Engine) leave() {
	if e.closed.Load() {
		_ = e.core.Close()
		e.inBuffered.Store(0)
		e.outBuffered.Store(0)
	} else {
		e.inBuffered.Store(int64(e.core.BufferedInput()))
		e.outBuffered.Store(int64(e.core.PendingOutput()))
	}
	e.callMu.Unlock()
}

// ErrEngineClosed is returned by an Engine's methods after Close.
var ErrEngineClosed = errors.New("ssl: engine closed")

// Feed hands ciphertext received from the peer to the engine (a copy is
// kept). Bad records surface from the next Handshake or Read.
func (e *Engine) Feed(p []byte) error {
	if e.hubStore.disp.inHandler() {
		return ErrWouldDeadlock
	}
	e.callMu.Lock()
	defer e.leave()
	if e.closed.Load() {
		return ErrEngineClosed
	}
	e.core.Feed(p)
	return nil
}

// FeedEOF records that the peer's stream ended (the transport closed):
// Read then returns io.EOF if close_notify came first, else ErrUncleanShutdown.
func (e *Engine) FeedEOF() {
	if e.hubStore.disp.inHandler() {
		return
	}
	e.callMu.Lock()
	defer e.leave()
	if !e.closed.Load() {
		e.core.FeedEOF()
	}
}

// TakeOutput moves up to len(p) bytes of ciphertext to send into p. From
// an event handler it takes nothing (the output waits for the caller).
func (e *Engine) TakeOutput(p []byte) int {
	if e.hubStore.disp.inHandler() {
		return 0
	}
	e.callMu.Lock()
	defer e.leave()
	if e.closed.Load() {
		return 0
	}
	return e.core.TakeOutput(p)
}

// WriteOutputTo sends all pending ciphertext to w (the network) and
// returns how much it wrote. It is deliberately not io.WriterTo's WriteTo:
// Read gives plaintext, and io.Copy(dst, engine) must not pick up the
// ciphertext side by accident.
func (e *Engine) WriteOutputTo(w io.Writer) (int64, error) {
	var buf [16 << 10]byte
	var total int64
	for {
		n := e.TakeOutput(buf[:])
		if n == 0 {
			return total, nil
		}
		k, err := w.Write(buf[:n])
		total += int64(k)
		if err != nil {
			return total, err
		}
	}
}

// EncryptedBytesToWrite is the ciphertext waiting to be taken (BIO_ctrl_pending).
func (e *Engine) EncryptedBytesToWrite() int64 { return e.outBuffered.Load() }

// EncryptedBytesAvailable is the ciphertext fed but not yet processed.
func (e *Engine) EncryptedBytesAvailable() int64 { return e.inBuffered.Load() }

// Handshake advances the handshake (SSL_do_handshake): nil once complete,
// ErrWantRead / ErrWantWrite / ErrWantRetryVerify when it needs the
// caller, or the error that ended it (returned again by every later call).
func (e *Engine) Handshake() error {
	done, err := e.enterHandshaken()
	if err != nil {
		return err
	}
	e.leave()
	if done {
		e.hubStore.emit(event{kind: evEncrypted})
	}
	return nil
}

// enterHandshaken takes callMu and advances the handshake as far as it
// goes; a verification decision the core pauses for runs with callMu
// released (its handlers may call the engine), then the core is stepped
// again — unless paused until Resume. It returns with callMu held when err
// is nil (done: the handshake completed just now, encrypted is due), and
// without it otherwise.
func (e *Engine) enterHandshaken() (done bool, err error) {
	for {
		if err := e.enter(); err != nil {
			return false, err
		}
		if done, err = e.handshakeLocked(); err == nil {
			return done, nil
		}
		e.leave()
		if !errors.Is(err, ErrWantRetryVerify) || !e.ep.runDecision() {
			return false, err
		}
	}
}

// handshakeLocked runs the core's handshake with callMu held; done is true
// when it has just completed (encrypted is due).
func (e *Engine) handshakeLocked() (done bool, err error) {
	e.mu.Lock()
	enc := e.encrypted
	e.mu.Unlock()
	if enc {
		return false, nil
	}
	err = e.core.Handshake()
	if err != nil {
		return false, e.latch(err)
	}
	st := e.core.State()
	e.ep.setPeerCertificates(st.PeerChain)
	e.mu.Lock()
	e.encrypted, e.sessState = true, st
	e.mu.Unlock()
	return true, nil
}

// latch turns a core error into the engine's: wants pass through, anything
// else becomes the fatal error returned from then on.
func (e *Engine) latch(err error) error {
	if errors.Is(err, ErrWantRead) || errors.Is(err, ErrWantWrite) || errors.Is(err, ErrWantRetryVerify) {
		return err
	}
	kind, msg := SslHandshakeFailedError, "Error during SSL handshake: "+err.Error()
	if vf := e.ep.verificationFailure(); vf != nil {
		err = vf
	}
	var ve *VerificationError
	switch {
	case errors.As(err, &ve):
		msg = ve.qtErrorString()
	case errors.Is(err, io.EOF):
		kind, msg = RemoteHostClosedError, "The remote host closed the connection"
	}
	serr := &SocketErr{Kind: kind, Message: msg, Err: err}
	e.mu.Lock()
	e.err = serr
	e.mu.Unlock()
	return serr
}

// Read decrypts application data into p (SSL_read): ErrWantRead until a
// whole record is there, io.EOF after close_notify, ErrUncleanShutdown when
// the input ended without it. It completes the handshake first if needed.
func (e *Engine) Read(p []byte) (int, error) { return e.transfer(p, false) }

// Write encrypts p (SSL_write). When the pending output reached
// MaxPendingOutput it returns n < len(p) and ErrWantWrite: take the output
// and write the rest. Before the handshake completes it advances it, and
// may return ErrWantRead.
func (e *Engine) Write(p []byte) (int, error) { return e.transfer(p, true) }

// transfer is Read or Write: the handshake first if it is not done, then
// the core's call, then encrypted if the handshake just completed.
func (e *Engine) transfer(p []byte, write bool) (int, error) {
	done, err := e.enterHandshaken()
	if err != nil {
		return 0, err
	}
	var n int
	if write {
		n, err = e.core.Write(p)
	} else {
		n, err = e.core.Read(p)
	}
	e.leave()
	if done {
		e.hubStore.emit(event{kind: evEncrypted})
	}
	return n, err
}

// Shutdown queues close_notify (SSL_shutdown); send the output afterwards.
// After a fatal alert was sent or received it queues nothing and returns
// the error that ended the connection.
func (e *Engine) Shutdown() error {
	if err := e.enter(); err != nil {
		return err
	}
	defer e.leave()
	return e.core.Shutdown()
}

// Close releases the engine; pending output is discarded. Called from an
// event handler it takes effect when the engine's current call returns.
func (e *Engine) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	e.ep.abort()
	if e.hubStore.disp.inHandler() {
		return nil // the call under way closes the core as it leaves
	}
	e.callMu.Lock()
	e.cleanup.Stop()
	_ = e.core.Close()
	e.inBuffered.Store(0)
	e.outBuffered.Store(0)
	e.callMu.Unlock()
	return nil
}
