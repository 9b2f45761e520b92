package ssl

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
)

// The go backend's stream fast path: a tls.Conn straight over the TCP
// connection, through goTransport, which holds every workaround crypto/tls
// needs to behave as the Stream contract says.

// goStream is a tls.Conn over a goTransport. The transport and the shared
// state live in the same allocation.
type goStream struct {
	conn *tls.Conn
	// verifyAfter: the peer is verified once crypto/tls's handshake is
	// done (SessionParams.VerificationCanWait); tc is then shared.
	verifyAfter bool
	tr          goTransport
	shared      goShared
	// pausable is set with SessionParams.DeferDecisions: crypto/tls's
	// handshake cannot return half-way, so it runs on its own goroutine
	// while a decision is taken, and Handshake reports the pause.
	pausable *pausedHandshake
}

// pausedHandshake is a tls.Conn handshake on its own goroutine that stops
// in VerifyConnection until the owner has decided (SessionParams.DeferDecisions).
// Owned by the goroutine calling Handshake, except the channels.
type pausedHandshake struct {
	running bool
	done    chan error    // the handshake's result (buffered)
	paused  chan struct{} // crypto/tls waits in VerifyConnection
	resume  chan struct{} // the owner decided: go on
	abort   chan struct{} // closed by Close: give up waiting
	closed  atomic.Bool
}

func (goBackend) NewStream(transport net.Conn, p SessionParams) (Stream, error) {
	s := new(goStream)
	sh := &s.shared
	sh.hooks = p.Hooks
	var tc *tls.Config
	var err error
	verifyAfter := p.Server && p.Config.prep != nil && p.VerificationCanWait
	if p.DeferDecisions {
		ph := &pausedHandshake{done: make(chan error, 1), paused: make(chan struct{}),
			resume: make(chan struct{}), abort: make(chan struct{})}
		s.pausable = ph
		sh.retryVerify = ph.wait
	}
	if verifyAfter {
		tc, err = p.Config.prep.goServerConfig(p)
	} else {
		tc, err = goTLSConfig(p, sh)
	}
	if err != nil {
		return nil, err
	}
	tr := &s.tr
	tr.Conn, tr.prefix, tr.shared = transport, p.Received, sh
	tr.prefixLen.Store(int64(len(p.Received)))
	if !p.Server {
		tr.sniff = &keySniffer{}
	}
	s.verifyAfter = verifyAfter
	if p.Server {
		s.conn = tls.Server(tr, tc)
	} else {
		s.conn = tls.Client(tr, tc)
	}
	return s, nil
}

func (s *goStream) Handshake(ctx context.Context) error {
	var err error
	if ph := s.pausable; ph != nil {
		if !ph.running {
			ph.running = true
			go func() { ph.done <- s.conn.HandshakeContext(ctx) }()
		} else {
			select {
			case ph.resume <- struct{}{}: // the decision is made: crypto/tls goes on
			case <-ph.abort:
			}
		}
		select {
		case err = <-ph.done:
			ph.running = false
		case <-ph.paused:
			return ErrWantRetryVerify
		}
	} else {
		err = s.conn.HandshakeContext(ctx)
	}
	s.tr.readMu.Lock()
	if s.tr.sniff != nil && s.tr.sniff.done {
		s.tr.sniff.raw, s.tr.sniff.hs = nil, nil
	}
	s.tr.readMu.Unlock()
	if s.tr.alpnNoOverlap.Load() {
		s.shared.alpnNoOverlap.Store(true) // seen by the shared configuration's ALPN choice
	}
	if outer := s.tr.echOuter.Load(); outer != nil {
		s.shared.echOuter.Store(outer) // seen by the shared configuration's ECH keys
	}
	if err == nil && s.verifyAfter {
		if err = s.shared.verifyConnection(s.conn.ConnectionState()); err != nil {
			s.shared.setFatal(err) // a handler ended it: no alert was sent, none will be
			return err
		}
	}
	if err != nil {
		err = s.shared.echError(err)
		s.shared.handshakeFailed(err)
		if s.tr.eof.Load() && isEOFError(err) {
			return io.EOF
		}
	}
	return err
}

// Read classifies the end of the stream: crypto/tls returns io.EOF both for
// close_notify and for a TCP close at a record boundary.
func (s *goStream) Read(p []byte) (int, error) {
	n, err := s.conn.Read(p)
	if err != nil {
		eof := s.tr.eof.Load()
		s.shared.readFailed(err, eof)
		if errors.Is(err, io.EOF) && eof {
			err = ErrUncleanShutdown
		}
	}
	return n, err
}

// Write sends p's records; a deadline passing midway keeps the unsent
// rest in the transport (see goTransport) and reports the timeout after
// committing all of p.
func (s *goStream) Write(p []byte) (int, error) {
	s.tr.timedOut = false
	n, err := s.conn.Write(p)
	if err == nil && s.tr.timedOut {
		s.tr.timedOut = false
		return n, os.ErrDeadlineExceeded
	}
	return n, err
}

func (s *goStream) Flush() (bool, error) {
	if len(s.tr.pending) == 0 {
		return false, nil
	}
	return true, s.tr.flushPending()
}

func (s *goStream) CloseWrite() error {
	if err := s.shared.fatalErr(); err != nil {
		return err // after a fatal alert, no close_notify
	}
	if err := s.conn.CloseWrite(); err != nil {
		return err
	}
	s.shared.hooks.Alert(true, AlertLevelWarning, AlertCloseNotify, "close notify")
	return nil
}

func (s *goStream) State() SessionState {
	st := s.shared.state(s.conn.ConnectionState())
	if st.EphemeralKey.IsNull() && s.tr.sniff != nil {
		s.tr.readMu.Lock()
		st.EphemeralKey = s.tr.sniff.key
		s.tr.readMu.Unlock()
	}
	return st
}

// ConnectionState returns crypto/tls's description of the stream, complete
// with ExportKeyingMaterial (Socket.ConnectionState).
func (s *goStream) ConnectionState() tls.ConnectionState { return s.conn.ConnectionState() }

func (s *goStream) EncryptedBytesAvailable() int64 { return s.tr.prefixLen.Load() }

func (s *goStream) EncryptedBytesToWrite() int64 { return s.tr.pendingLen.Load() }

func (s *goStream) TakeEncryptedBytesWritten() int64 { return s.tr.written.Swap(0) }

// Close has nothing to release but a handshake paused for a decision
// that will not come (the tls.Conn holds no resource but the transport,
// which the caller closes).
func (s *goStream) Close() error {
	if ph := s.pausable; ph != nil && !ph.closed.Swap(true) {
		close(ph.abort)
	}
	return nil
}

// wait is crypto/tls's side of a pause (goShared.retryVerify): it tells
// the owner's Handshake that a decision is awaited and waits until it was
// made; false when the stream was closed instead.
func (ph *pausedHandshake) wait() bool {
	select {
	case ph.paused <- struct{}{}:
	case <-ph.abort:
		return false
	}
	select {
	case <-ph.resume:
		return true
	case <-ph.abort:
		return false
	}
}

// goTransport sits between the TCP connection and crypto/tls: it replays
// ciphertext read before STARTTLS, notices the end of the TCP stream (to
// tell an unclean close from close_notify), counts the bytes written, and
// absorbs write timeouts. crypto/tls treats a record write that times out
// midway as fatal; here the unsent rest of the record is kept and sent
// first by the next write, so a deadline never corrupts the stream.
type goTransport struct {
	net.Conn

	// Owned by the reading goroutine (crypto/tls's c.in lock); readMu
	// guards sniff against State.
	readMu        sync.Mutex
	alpnNoOverlap atomic.Bool            // a shared server configuration found no common protocol
	echOuter      atomic.Pointer[string] // the outer name a shared server configuration saw (ECH)
	prefix        []byte
	sniff         *keySniffer // client side: finds the server's ephemeral key
	prefixLen     atomic.Int64
	eof           atomic.Bool // the TCP stream ended
	shared        *goShared   // the stream's; constant

	// Owned by the writing goroutine (crypto/tls's c.out lock, and the
	// Stream contract's one writer at a time).
	pending    []byte // record bytes accepted but not yet sent
	timedOut   bool   // a write deadline passed during the current Write
	pendingLen atomic.Int64
	written    atomic.Int64
}

// Read returns replayed bytes first, then the connection's.
func (t *goTransport) Read(p []byte) (int, error) {
	if len(t.prefix) > 0 {
		n := copy(p, t.prefix)
		t.prefix = t.prefix[n:]
		if len(t.prefix) == 0 {
			t.prefix = nil // not kept for the connection's life
		}
		t.prefixLen.Store(int64(len(t.prefix)))
		return n, nil
	}
	n, err := t.Conn.Read(p)
	if err == io.EOF {
		t.eof.Store(true)
	}
	if t.sniff != nil && n > 0 {
		t.readMu.Lock()
		t.sniff.feed(p[:n])
		t.readMu.Unlock()
	}
	return n, err
}

// Write sends TLS records (after any pending bytes); a timeout keeps the
// rest pending and reports success to crypto/tls.
func (t *goTransport) Write(p []byte) (int, error) {
	if len(t.pending) > 0 {
		if err := t.flushPending(); err != nil {
			if isTimeout(err) {
				t.pending = append(t.pending, p...)
				t.pendingLen.Store(int64(len(t.pending)))
				t.timedOut = true
				return len(p), nil
			}
			return 0, err
		}
	}
	n, err := t.write(p)
	if err != nil && isTimeout(err) {
		t.pending = append(t.pending[:0], p[n:]...)
		t.pendingLen.Store(int64(len(t.pending)))
		t.timedOut = true
		return len(p), nil
	}
	return n, err
}

// flushPending sends bytes left over by a timed-out write.
func (t *goTransport) flushPending() error {
	n, err := t.write(t.pending)
	t.pending = append(t.pending[:0], t.pending[n:]...)
	t.pendingLen.Store(int64(len(t.pending)))
	return err
}

func (t *goTransport) write(p []byte) (int, error) {
	n, err := t.Conn.Write(p)
	if n > 0 {
		t.written.Add(int64(n))
	}
	return n, err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isEOFError(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
