package ssl

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// The go backend's sans-IO engine core: crypto/tls stepped in memory.
//
// crypto/tls only runs over a net.Conn, and its handshake cannot return
// half-way: an error from the transport during the handshake is final. So
// the handshake runs on a worker goroutine over memTransport, and the two
// goroutines take turns, like coroutines: Handshake hands the turn to the
// worker and waits until the worker needs input it does not have (it parks
// in memTransport.Read), waits for a verification decision, or finishes.
// Only one of them ever runs, so hooks run while the caller of Handshake
// is blocked in it — synchronously, as the contract asks — and the worker
// exits as soon as the handshake ends or the core is closed.
//
// After the handshake crypto/tls's Read tolerates transport errors that
// are temporary (it latches every other one), so Read and Write run on the
// caller's goroutine: memTransport then answers an empty input with
// errWouldBlock, which Read reports as ErrWantRead.

// parkReason says why the worker handed the turn back.
type parkReason uint8

const (
	parkRead   parkReason = iota // needs input
	parkVerify                   // VerifyPeer left the decision pending
	parkDone                     // the handshake ended
)

// errWouldBlock is memTransport's answer to a read with no input once the
// handshake is over: temporary, so crypto/tls does not latch it.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "ssl: no input buffered" }
func (wouldBlock) Timeout() bool   { return false }
func (wouldBlock) Temporary() bool { return true }

// maxRecordOverhead bounds what a record adds to its plaintext.
const maxRecordOverhead = 256

// maxFeedChunk is the plaintext crypto/tls is handed per Write call.
const maxFeedChunk = 16 << 10

// memTransport is the net.Conn crypto/tls runs over inside a goCore.
type memTransport struct {
	mu   sync.Mutex
	cond sync.Cond

	// Guarded by mu.
	in         []byte // received ciphertext: in[inPos:]
	inPos      int
	eof        bool // FeedEOF was called
	eofSeen    bool // crypto/tls read past the end (no close_notify first)
	out        []byte
	outPos     int
	blocking   bool // the handshake worker reads: park instead of errWouldBlock
	workerTurn bool // the worker runs; the stepping caller waits
	park       parkReason
	closed     bool
}

func (m *memTransport) Read(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		if m.inPos < len(m.in) {
			n := copy(p, m.in[m.inPos:])
			m.inPos += n
			if m.inPos == len(m.in) {
				m.in, m.inPos = m.in[:0], 0
			}
			return n, nil
		}
		switch {
		case m.closed:
			return 0, net.ErrClosed
		case m.eof:
			m.eofSeen = true
			return 0, io.EOF
		case !m.blocking:
			return 0, errWouldBlock
		}
		m.yieldLocked(parkRead)
	}
}

// yieldLocked hands the turn back to the stepping caller and waits for it.
func (m *memTransport) yieldLocked(why parkReason) {
	m.park, m.workerTurn = why, false
	m.cond.Broadcast()
	for !m.workerTurn {
		m.cond.Wait()
	}
}

func (m *memTransport) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, net.ErrClosed
	}
	if m.outPos > 0 && m.outPos == len(m.out) {
		m.out, m.outPos = m.out[:0], 0
	}
	m.out = append(m.out, p...)
	return len(p), nil
}

func (m *memTransport) pendingLocked() int { return len(m.out) - m.outPos }

func (m *memTransport) Close() error                     { return nil }
func (m *memTransport) LocalAddr() net.Addr              { return memAddr{} }
func (m *memTransport) RemoteAddr() net.Addr             { return memAddr{} }
func (m *memTransport) SetDeadline(time.Time) error      { return nil }
func (m *memTransport) SetReadDeadline(time.Time) error  { return nil }
func (m *memTransport) SetWriteDeadline(time.Time) error { return nil }

type memAddr struct{}

func (memAddr) Network() string { return "memory" }
func (memAddr) String() string  { return "engine" }

// goCore is the go backend's EngineCore.
type goCore struct {
	conn *tls.Conn
	mem  memTransport
	sh   *goShared

	// Owned by the caller (the contract's one call at a time); hsDone and
	// hsErr are written by the worker before it hands the last turn back.
	started bool
	hsDone  bool
	hsErr   error
	sniff   *keySniffer // client side, until the handshake ends
	shut    bool        // close_notify queued
}

func (goBackend) NewEngine(p SessionParams) (EngineCore, error) {
	c := &goCore{}
	c.mem.cond.L = &c.mem.mu
	c.sh = &goShared{hooks: p.Hooks, retryVerify: c.waitRetryVerify}
	tc, err := goTLSConfig(p, c.sh)
	if err != nil {
		return nil, err
	}
	if p.Server {
		c.conn = tls.Server(&c.mem, tc)
	} else {
		c.conn = tls.Client(&c.mem, tc)
		c.sniff = &keySniffer{}
	}
	return c, nil
}

func (c *goCore) Feed(p []byte) {
	m := &c.mem
	m.mu.Lock()
	if m.inPos > 0 {
		n := copy(m.in, m.in[m.inPos:])
		m.in, m.inPos = m.in[:n], 0
	}
	m.in = append(m.in, p...)
	m.mu.Unlock()
	if c.sniff != nil && !c.hsDone {
		c.sniff.feed(p)
	}
}

func (c *goCore) FeedEOF() {
	c.mem.mu.Lock()
	c.mem.eof = true
	c.mem.mu.Unlock()
}

func (c *goCore) BufferedInput() int {
	c.mem.mu.Lock()
	defer c.mem.mu.Unlock()
	return len(c.mem.in) - c.mem.inPos
}

func (c *goCore) PendingOutput() int {
	c.mem.mu.Lock()
	defer c.mem.mu.Unlock()
	return c.mem.pendingLocked()
}

func (c *goCore) TakeOutput(p []byte) int {
	m := &c.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	n := copy(p, m.out[m.outPos:])
	m.outPos += n
	if m.outPos == len(m.out) {
		m.out, m.outPos = m.out[:0], 0
	}
	return n
}

// worker runs the handshake, one turn at a time.
func (c *goCore) worker() {
	err := c.conn.Handshake()
	m := &c.mem
	m.mu.Lock()
	c.hsErr, c.hsDone = err, true
	m.blocking = false
	m.park, m.workerTurn = parkDone, false
	m.cond.Broadcast()
	m.mu.Unlock()
}

// waitRetryVerify parks the worker while the verification decision is
// pending; false when the core was closed meanwhile.
func (c *goCore) waitRetryVerify() bool {
	m := &c.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	m.yieldLocked(parkVerify)
	return !m.closed
}

func (c *goCore) Handshake() error {
	m := &c.mem
	m.mu.Lock()
	if c.hsDone {
		m.mu.Unlock()
		return c.hsErr
	}
	if m.closed {
		m.mu.Unlock()
		return net.ErrClosed
	}
	m.workerTurn = true
	if !c.started {
		c.started, m.blocking = true, true
		go c.worker()
	} else {
		m.cond.Broadcast()
	}
	for m.workerTurn {
		m.cond.Wait()
	}
	why := m.park
	m.mu.Unlock()
	switch why {
	case parkRead:
		return ErrWantRead
	case parkVerify:
		return ErrWantRetryVerify
	}
	if c.sniff != nil { // the clear part of the handshake is over
		c.sniff.done, c.sniff.raw, c.sniff.hs = true, nil, nil
	}
	if c.hsErr != nil {
		c.hsErr = c.sh.echError(c.hsErr)
		c.sh.handshakeFailed(c.hsErr)
		if c.mem.eofSeen && isEOFError(c.hsErr) {
			c.hsErr = io.EOF
		}
	}
	return c.hsErr
}

func (c *goCore) Read(p []byte) (int, error) {
	if !c.hsDone {
		if err := c.Handshake(); err != nil {
			return 0, err
		}
	}
	n, err := c.conn.Read(p)
	if err == nil {
		return n, nil
	}
	if errors.Is(err, errWouldBlock) {
		return n, ErrWantRead
	}
	c.mem.mu.Lock()
	unclean := c.mem.eofSeen
	c.mem.mu.Unlock()
	c.sh.readFailed(err, unclean)
	if errors.Is(err, io.EOF) && unclean {
		return n, ErrUncleanShutdown
	}
	return n, err
}

func (c *goCore) Write(p []byte) (int, error) {
	if !c.hsDone {
		if err := c.Handshake(); err != nil {
			return 0, err
		}
	}
	n := 0
	for n < len(p) {
		chunk := p[n:min(len(p), n+maxFeedChunk)]
		if c.PendingOutput()+len(chunk)+maxRecordOverhead > MaxPendingOutput {
			return n, ErrWantWrite
		}
		k, err := c.conn.Write(chunk)
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (c *goCore) Shutdown() error {
	if !c.hsDone {
		return errors.New("ssl: shutdown before the handshake completed")
	}
	if c.hsErr != nil {
		return c.hsErr
	}
	if c.shut {
		return nil
	}
	if err := c.sh.fatalErr(); err != nil {
		return err
	}
	if err := c.conn.CloseWrite(); err != nil {
		return err
	}
	c.shut = true
	c.sh.hooks.Alert(true, AlertLevelWarning, AlertCloseNotify, "close notify")
	return nil
}

func (c *goCore) State() SessionState {
	if !c.hsDone {
		return SessionState{} // crypto/tls's state is the worker's until it ends
	}
	st := c.sh.state(c.conn.ConnectionState())
	if st.EphemeralKey.IsNull() && c.sniff != nil {
		st.EphemeralKey = c.sniff.key
	}
	return st
}

// ConnectionState returns crypto/tls's description of the session. Call it
// only once the handshake has completed (before, the tls.Conn belongs to
// the worker).
func (c *goCore) ConnectionState() tls.ConnectionState { return c.conn.ConnectionState() }

// Close ends the worker, if a handshake is under way, and releases the
// buffers. Called from a hook (the worker holds the turn) it cannot wait:
// the worker then exits at its next turn.
func (c *goCore) Close() error {
	m := &c.mem
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	fromHook := m.workerTurn
	if c.started && !c.hsDone && !fromHook {
		m.workerTurn = true
		m.cond.Broadcast()
		for !c.hsDone {
			m.cond.Wait()
		}
	}
	m.in, m.out = nil, nil
	m.inPos, m.outPos = 0, 0
	return nil
}
