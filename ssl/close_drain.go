package ssl

import (
	"context"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The orderly close of a TCP connection after our last alert.
//
// Closing a socket whose receive buffer still holds unread bytes makes the
// kernel answer with a TCP reset instead of a FIN, and the reset can
// destroy what we sent last — typically the fatal alert that explains why
// we close — before the peer has read it, or make the peer's write fail
// before it reads at all. Both happen when a peer is still sending as we
// refuse it: a ClientHello of tens of KiB that the TLS library rejects by
// its header, a flood of post-handshake messages, a client that pipelines.
//
// So after a fatal alert (and after a close_notify when input is waiting
// unread) the connection is closed in order: half-closed (CloseWrite: our
// FIN follows the alert), then drained — what the peer still sends is read
// and dropped — until the peer closes its side, drainBytes were dropped or
// drainTime has passed, and only then closed. The drain runs in the
// background on a goroutine that always ends within those bounds, so no
// Close, Abort, event handler or Server handshake goroutine waits for it,
// and at most maxDrains run at a time (beyond that the connection is closed
// at once, as before): a slow or hostile peer can hold one descriptor and
// one small goroutine for drainTime per connection, no more.
//
// On a TCP or Unix socket (*net.TCPConn, *net.UnixConn: their File method)
// the drain reads a duplicate of the descriptor and the connection itself
// is closed at once, so reads of the socket still in flight return at once
// (net.ErrClosed) exactly as after a plain close; the kernel's socket lives
// until the duplicate is closed. Other transports are drained themselves:
// a read in flight on them ends with the drain.
const (
	drainTime  = 2 * time.Second
	drainBytes = 1 << 20
	maxDrains  = 1024
)

// drainsRunning counts the drains under way (for maxDrains and tests);
// drainIdle is closed while it is zero (WaitForOrderlyCloses). Both change
// under drainMu; drainsRunning may be read without it.
var (
	drainsRunning atomic.Int64
	drainMu       sync.Mutex
	drainIdle     = closedChannel()
)

func closedChannel() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}

// WaitForOrderlyCloses waits until every connection this process closed
// after a fatal alert has finished its orderly close — the half-close and
// bounded drain (at most 2 s each) that let the peer read the alert instead
// of a TCP reset — or until ctx ends (its error is returned). Long-running
// programs never need it; a short-lived one (a command-line tool, a test
// shim) calls it before exiting, for a process that exits closes its
// sockets at once and a reset may destroy the alert still in flight.
func WaitForOrderlyCloses(ctx context.Context) error {
	drainMu.Lock()
	idle := drainIdle
	drainMu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startDrain counts a drain about to run, unless max already run.
func startDrain(max int64) bool {
	drainMu.Lock()
	defer drainMu.Unlock()
	if drainsRunning.Load() >= max {
		return false
	}
	if drainsRunning.Add(1) == 1 {
		drainIdle = make(chan struct{})
	}
	return true
}

// endDrain counts a drain that ended.
func endDrain() {
	drainMu.Lock()
	defer drainMu.Unlock()
	if drainsRunning.Add(-1) == 0 {
		close(drainIdle)
	}
}

// drainLimits bound one drain, and how many run at once.
type drainLimits struct {
	time  time.Duration
	bytes int64
	max   int64
}

var defaultDrain = drainLimits{time: drainTime, bytes: drainBytes, max: maxDrains}

// closeOrderly half-closes c and closes it once drained (in the
// background, bounded by drainTime and drainBytes). With always false (a
// graceful close, close_notify sent) it drains only when input is waiting
// unread right now — a probe without waiting (socket_unread_*.go) — so
// closing many idle connections costs nothing more; after a fatal alert
// (always) it drains in any case, for the peer is likely still sending.
// A transport that cannot half-close is closed at once.
func closeOrderly(c net.Conn, always bool) { defaultDrain.closeOrderly(c, always) }

func (l drainLimits) closeOrderly(c net.Conn, always bool) {
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		c.Close()
		return
	}
	if !always && !unreadInput(c) {
		c.Close() // nothing unread: a FIN, no reset
		return
	}
	if !startDrain(l.max) {
		c.Close() // the bound on resources wins over the alert
		return
	}
	var d drainable = c
	if f, ok := c.(interface{ File() (*os.File, error) }); ok {
		if dup, err := f.File(); err == nil {
			c.Close() // readers of c return now; the socket lives on in dup
			d = dup
		}
	}
	go drainThenClose(d, l)
}

// drainable is what a drain needs of the transport: a net.Conn, or the
// *os.File duplicating its descriptor.
type drainable interface {
	io.ReadCloser
	SetReadDeadline(time.Time) error
}

// drainThenClose reads and drops what d still receives until the peer's
// FIN, an error, l.bytes or l.time, then closes d. It always ends: without
// a working read deadline it closes at once.
func drainThenClose(d drainable, l drainLimits) {
	defer endDrain()
	if d.SetReadDeadline(time.Now().Add(l.time)) == nil {
		_, _ = io.CopyN(io.Discard, d, l.bytes)
	}
	d.Close()
}

// unreadInput reports whether bytes wait unread on c, without reading or
// blocking: the kernel's count (SIOCINQ) on a socket — no timer, no
// contention with a read in flight (Linux) — else a 50 µs read deadline probe.
func unreadInput(c net.Conn) bool {
	if n, ok := kernelUnread(c); ok {
		return n > 0
	}
	var probe [512]byte
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Microsecond))
	n, _ := c.Read(probe[:])
	return n > 0
}

// closeAfterAlert marks the connection as ended by a fatal alert the
// library sent (or a failure it answers with one): every teardown of it —
// the library's own, Close, Abort — then closes the transport in order.
// Called with s.mu held, before the error is emitted (a handler may Abort).
func (s *Socket) closeAfterAlertLocked() { s.alertClose = true }

// abortInOrder is Abort for a connection the Server refuses (a plaintext
// client): nothing more is sent, and the TCP connection is closed in
// order, so the client reads an end of stream, not a reset.
func (s *Socket) abortInOrder() {
	s.mu.Lock()
	s.closeAfterAlertLocked()
	s.mu.Unlock()
	s.Abort()
}
