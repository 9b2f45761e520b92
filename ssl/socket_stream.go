package ssl

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// newStream creates the TLS stream a Socket drives over raw: the backend's
// own fast path when it has one, else its sans-IO engine pumped over raw.
// received is ciphertext the socket read before the handshake (STARTTLS);
// ep is the socket's endpoint, p.Hooks.
func newStream(backend string, raw net.Conn, received []byte, p SessionParams, ep *endpoint) (Stream, error) {
	b, err := backendFor(backend)
	if err != nil {
		return nil, err
	}
	if err := checkTicketKeys(p.Config, p.Server, b); err != nil {
		return nil, err
	}
	if err := checkECH(p.Config, p.Server, b); err != nil {
		return nil, err
	}
	if sb, ok := b.(StreamBackend); ok && !forceEngine(p.Config) {
		p.Received = received
		ep.setDeferDecisions(p.DeferDecisions)
		return sb.NewStream(raw, p)
	}
	// An engine's core calls its hooks under the pump's lock: decisions
	// are always deferred to the socket's handshake driver.
	p.DeferDecisions = true
	ep.setDeferDecisions(true)
	core, err := b.NewEngine(p)
	if err != nil {
		return nil, err
	}
	return newPumpStream(core, raw, received, ep), nil
}

// ForceEngineOption, set to "1" with SetBackendConfigurationOption, makes a
// Socket drive the backend's sans-IO engine even when the backend has a
// faster stream path (the go backend's tls.Conn): for comparing the two,
// and so that the test suite runs every behaviour both ways.
const ForceEngineOption = "sslsocket.engine"

func forceEngine(c Configuration) bool { return c.backendConfig[ForceEngineOption] == "1" }

// pumpStream drives an EngineCore over a connected transport: the Stream a
// Socket uses with a backend that has no fast path (openssl). It moves
// ciphertext between the engine and the connection, never holding the
// engine's lock across network I/O, so a Read blocked on the network does
// not stop a Write.
type pumpStream struct {
	conn net.Conn

	// mu guards core: the EngineCore contract's one call at a time. It is
	// held only around engine calls, never across I/O or while waiting.
	mu     sync.Mutex
	core   EngineCore
	closed atomic.Bool // Close was called: whoever holds mu closes core
	// ep is the hooks' owner (the events the core raises under mu go to
	// the socket's worker; decisions wait for the socket's driver).
	ep *endpoint

	// readMu serialises readers (Handshake, then Read: a Socket lets
	// several goroutines Read at once).
	readMu sync.Mutex

	// sendMu serialises taking output and writing it, so records leave in
	// the order the engine produced them whichever goroutine sends.
	sendMu sync.Mutex
	unsent []byte // output a timed-out write left; sent first; guarded by sendMu
	// sendAgain: a reader left output for whoever holds sendMu (it must
	// not wait behind a writer blocked on a full connection).
	sendAgain atomic.Bool

	// Snapshots for the any-goroutine accessors.
	inBuffered  atomic.Int64
	outBuffered atomic.Int64
	unsentLen   atomic.Int64
	written     atomic.Int64
}

// pumpBufSize is one TLS record's worth: what a pumped stream reads from
// the connection, or takes from the engine, at a time.
const pumpBufSize = 16 << 10

// pumpBufs lends pumped streams their I/O buffers for the length of one
// read or send, so that an idle connection holds none (thousands of idle
// connections on the openssl backend). A pool of scratch memory: no state
// that any behaviour depends on.
var pumpBufs = sync.Pool{New: func() any { return new([pumpBufSize]byte) }}

func newPumpStream(core EngineCore, conn net.Conn, received []byte, ep *endpoint) *pumpStream {
	p := &pumpStream{conn: conn, core: core, ep: ep}
	if len(received) > 0 {
		core.Feed(received)
		p.inBuffered.Store(int64(len(received)))
	}
	return p
}

// call runs fn on the engine under mu and refreshes the snapshots (no
// handler runs meanwhile: see ep).
func (p *pumpStream) call(fn func(EngineCore)) {
	p.mu.Lock()
	fn(p.core)
	p.inBuffered.Store(int64(p.core.BufferedInput()))
	p.outBuffered.Store(int64(p.core.PendingOutput()) + p.unsentLen.Load())
	if p.closed.Load() {
		_ = p.core.Close()
	}
	p.mu.Unlock()
}

// send moves the engine's pending output to the connection.
func (p *pumpStream) send() error {
	p.sendMu.Lock()
	err := p.sendLocked()
	p.sendMu.Unlock()
	if err == nil && p.sendAgain.Load() {
		return p.trySend()
	}
	return err
}

// trySend sends the pending output unless another goroutine is sending,
// which then sends it too (a reader must not wait behind a writer whose
// peer waits for this reader: both would block for good).
func (p *pumpStream) trySend() error {
	for {
		p.sendAgain.Store(true)
		if !p.sendMu.TryLock() {
			return nil // the holder checks sendAgain after unlocking
		}
		p.sendAgain.Store(false)
		err := p.sendLocked()
		if err != nil {
			p.sendAgain.Store(true) // what is left goes with the next send (Write, Flush, CloseWrite)
		}
		p.sendMu.Unlock()
		if err != nil || !p.sendAgain.Load() {
			return err
		}
	}
}

// sendLocked moves the engine's pending output to the connection. Called with sendMu.
func (p *pumpStream) sendLocked() error {
	if len(p.unsent) > 0 {
		if err := p.writeOut(p.unsent); err != nil {
			return err
		}
		p.unsent = p.unsent[:0]
		p.unsentLen.Store(0)
	}
	buf := pumpBufs.Get().(*[pumpBufSize]byte)
	defer pumpBufs.Put(buf)
	for {
		var n int
		p.call(func(c EngineCore) { n = c.TakeOutput(buf[:]) })
		if n == 0 {
			return nil
		}
		if err := p.writeOut(buf[:n]); err != nil {
			return err
		}
	}
}

// writeOut writes b; on a timeout the rest is kept in unsent. Called with sendMu.
func (p *pumpStream) writeOut(b []byte) error {
	n, err := p.conn.Write(b)
	if n > 0 {
		p.written.Add(int64(n))
	}
	if err != nil && isTimeout(err) {
		rest := append([]byte(nil), b[n:]...) // b may be unsent itself
		p.unsent = append(p.unsent[:0], rest...)
		p.unsentLen.Store(int64(len(rest)))
		p.outBuffered.Add(int64(len(rest)))
	}
	return err
}

// fill reads once from the connection into the engine.
func (p *pumpStream) fill() error {
	buf := pumpBufs.Get().(*[pumpBufSize]byte)
	defer pumpBufs.Put(buf)
	n, err := p.conn.Read(buf[:])
	if n > 0 {
		p.call(func(c EngineCore) { c.Feed(buf[:n]) })
	}
	if err == io.EOF {
		p.call(func(c EngineCore) { c.FeedEOF() })
		return nil
	}
	return err
}

func (p *pumpStream) Handshake(ctx context.Context) error {
	p.readMu.Lock()
	defer p.readMu.Unlock()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = p.conn.SetReadDeadline(time.Unix(1, 0)) })
		defer func() {
			if stop() {
				return
			}
			_ = p.conn.SetReadDeadline(time.Time{})
		}()
	}
	for {
		var err error
		p.call(func(c EngineCore) { err = c.Handshake() })
		if serr := p.send(); serr != nil && err == nil {
			return serr
		}
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ErrWantRead):
			if ferr := p.fill(); ferr != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return ferr
			}
		case errors.Is(err, ErrWantWrite):
			// sent above
		default:
			return err // ErrWantRetryVerify: the owner decides, then calls again
		}
	}
}

func (p *pumpStream) Read(b []byte) (int, error) {
	p.readMu.Lock()
	defer p.readMu.Unlock()
	for {
		var n int
		var err error
		p.call(func(c EngineCore) { n, err = c.Read(b) })
		if p.outBuffered.Load() > 0 {
			if serr := p.trySend(); serr != nil && !isTimeout(serr) && err == nil && n == 0 {
				return 0, serr
			}
		}
		if n > 0 {
			return n, nil
		}
		if !errors.Is(err, ErrWantRead) {
			return 0, err
		}
		if ferr := p.fill(); ferr != nil {
			return 0, ferr
		}
	}
}

func (p *pumpStream) Write(b []byte) (int, error) {
	done := 0
	for {
		var n int
		var err error
		p.call(func(c EngineCore) { n, err = c.Write(b[done:]) })
		done += n
		serr := p.send()
		switch {
		case err != nil && !errors.Is(err, ErrWantWrite):
			return done, err
		case serr != nil && isTimeout(serr):
			if done == len(b) {
				return done, os.ErrDeadlineExceeded
			}
			return done, serr
		case serr != nil:
			return done, serr
		case done == len(b):
			return done, nil
		}
	}
}

func (p *pumpStream) Flush() (bool, error) {
	p.sendMu.Lock()
	had := len(p.unsent) > 0
	p.sendMu.Unlock()
	if !had && p.outBuffered.Load() == 0 {
		return false, nil
	}
	return true, p.send()
}

func (p *pumpStream) CloseWrite() error {
	var err error
	p.call(func(c EngineCore) { err = c.Shutdown() })
	if err != nil {
		return err
	}
	return p.send()
}

func (p *pumpStream) State() SessionState {
	var st SessionState
	p.call(func(c EngineCore) { st = c.State() })
	return st
}

func (p *pumpStream) EncryptedBytesAvailable() int64 { return p.inBuffered.Load() }

func (p *pumpStream) EncryptedBytesToWrite() int64 { return p.outBuffered.Load() }

func (p *pumpStream) TakeEncryptedBytesWritten() int64 { return p.written.Swap(0) }

// Close releases the engine, now or (when a call is under way, perhaps a
// handler inside a hook) as that call returns.
func (p *pumpStream) Close() error {
	p.closed.Store(true)
	if p.mu.TryLock() {
		_ = p.core.Close()
		p.mu.Unlock()
	}
	return nil
}
