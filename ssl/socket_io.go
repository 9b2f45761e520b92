package ssl

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// burstGap is how soon after the previous write a write counts as part of
// a burst (and is coalesced rather than sent on its own).
const burstGap = 50 * time.Microsecond

// coalesceBelow: writes this large already fill records; they are not
// queued for coalescing (unless a flush is under way, to keep the order).
const coalesceBelow = 8 << 10

// readChunk is how much the read loop asks the engine for at a time.
const readChunk = 16 << 10

// readLimitLocked is the bound on buffered unread data.
func (s *Socket) readLimitLocked() int {
	if s.readBufferSize > 0 {
		return int(s.readBufferSize)
	}
	return defaultReadLimit
}

// readSpaceLocked returns free space at the end of the read buffer,
// compacting or growing it. Only the read loop calls it, and only the read
// loop moves data or resets rpos/rend to 0: others advance rpos, or discard
// everything with discardReadBufferLocked.
func (s *Socket) readSpaceLocked() []byte {
	if s.rpos == s.rend {
		s.rpos, s.rend = 0, 0
	}
	if cap(s.rbuf)-s.rend < readChunk {
		if s.rpos > 0 {
			n := copy(s.rbuf[:cap(s.rbuf)], s.rbuf[s.rpos:s.rend])
			s.rpos, s.rend = 0, n
		}
		if cap(s.rbuf)-s.rend < readChunk {
			nb := make([]byte, s.rend, s.rend+readChunk)
			copy(nb, s.rbuf[:s.rend])
			s.rbuf = nb
		}
	}
	return s.rbuf[s.rend:cap(s.rbuf)]
}

// commitReadLocked adds the n bytes a read put at the buffer's free space
// (readSpaceLocked, generation gen) to the buffered data; 0 when the
// buffer was discarded meanwhile (Abort, Close). The read loop's, and a
// nested wait's on the loop's goroutine.
func (s *Socket) commitReadLocked(n int, gen uint64) int {
	if n <= 0 || gen != s.rgen {
		return 0
	}
	s.rbuf = s.rbuf[:cap(s.rbuf)]
	s.rend += n
	s.readSeq++
	return n
}

// readLoop moves data from src (the TLS session, or the plain connection)
// into the read buffer until the stream ends, emitting readyRead.
func (s *Socket) readLoop(src io.Reader, encrypted bool) {
	var self goroutineID // looked up once, if this loop ever runs handlers
	s.mu.Lock()
	s.loopID = &self
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.loopID == &self {
			s.loopID = nil
		}
		s.mu.Unlock()
	}()
	for {
		s.mu.Lock()
		for s.rend-s.rpos >= s.readLimitLocked() && !s.endedLocked() && s.path != readHandOver {
			s.cond.Wait() // back-pressure: TCP flow control slows the peer
		}
		if s.endedLocked() || s.path == readHandOver {
			s.path = readDirect
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
		buf := s.readSpaceLocked()
		gen := s.rgen
		s.mu.Unlock()

		n, err := src.Read(buf)

		s.mu.Lock()
		n = s.commitReadLocked(n, gen)
		stop := s.path == readHandOver || s.endedLocked()
		if err != nil && stop {
			s.path = readDirect
		}
		s.cond.Broadcast()
		s.mu.Unlock()
		if n > 0 {
			s.emitReadyRead(&self)
		}
		if err != nil && !stop && encrypted && isTimeout(err) {
			// A deadline meant for direct reads reached the loop, which has
			// none of its own: clear it (or every read would time out) and go on.
			s.mu.Lock()
			if s.raw != nil {
				_ = s.raw.SetReadDeadline(time.Time{})
			}
			s.mu.Unlock()
			continue
		}
		if err != nil {
			if !stop && s.readEnded(err, encrypted) {
				s.watchTransport()
			}
			return
		}
	}
}

// watchTransport runs on a read loop's goroutine once the peer's
// close_notify ended the TLS stream while the TCP connection stays open
// (Qt's socket stays Connected then, and the application may still
// write: TLS 1.3 half-close): it waits for the TCP connection to end,
// dropping anything that still comes, then disconnects as Qt does.
func (s *Socket) watchTransport() {
	s.mu.Lock()
	raw := s.raw
	if raw == nil || s.closingLocked() {
		s.path = readDirect
		s.cond.Broadcast()
		s.mu.Unlock()
		return
	}
	s.path = readWatch
	_ = raw.SetReadDeadline(time.Time{})
	s.mu.Unlock()
	var scratch [512]byte
	for {
		_, err := raw.Read(scratch[:]) // nothing may follow close_notify
		if err == nil {
			continue
		}
		s.mu.Lock()
		if isTimeout(err) && !s.closingLocked() {
			_ = raw.SetReadDeadline(time.Time{}) // a deadline meant for reads: not ours
			s.mu.Unlock()
			continue
		}
		s.path = readDirect
		s.cond.Broadcast()
		if s.closingLocked() {
			s.mu.Unlock()
			return
		}
		s.setErrorLocked(RemoteHostClosedError, "The remote host closed the connection", err)
		s.mu.Unlock()
		s.emit(event{kind: evErrorOccurred, n: int64(RemoteHostClosedError)})
		s.teardownWith(teardownHow{closing: true}, true)
		return
	}
}

// startWatchLocked starts watchTransport on a goroutine of its own (a
// socket that reads directly found the peer's close_notify).
func (s *Socket) startWatchLocked() {
	if s.path != readDirect || s.raw == nil || s.closingLocked() {
		return
	}
	s.path = readWatch
	s.goLocked(s.watchTransport)
}

// readEnded handles the end of the incoming stream. After the peer's
// close_notify it reports true: the connection stays, as Qt's does, until
// the TCP connection ends, which the caller must then watch for
// (watchTransport); any other end tears the connection down.
func (s *Socket) readEnded(err error, encrypted bool) (watch bool) {
	kind, msg, readErr := RemoteHostClosedError, "The remote host closed the connection", err
	var ne net.Error
	tlsClosed := false
	switch {
	case errors.Is(err, ErrUncleanShutdown):
		readErr = ErrUncleanShutdown // the stream classified the end: no close_notify
	case errors.Is(err, io.EOF) && encrypted:
		msg, readErr, tlsClosed = "The TLS/SSL connection has been closed", io.EOF, true
	case errors.Is(err, io.EOF):
		readErr = io.EOF
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		msg = "The remote host closed the connection"
	case errors.As(err, &ne) && ne.Timeout():
		kind, msg = SocketTimeoutError, err.Error()
	case encrypted:
		kind, msg = SslInternalError, "Error while reading: "+err.Error()
	default:
		kind, msg = NetworkError, err.Error()
	}
	s.mu.Lock()
	if s.closingLocked() {
		s.path = readDirect
		if s.readErr == nil {
			s.readErr = readErr
		}
		s.cond.Broadcast()
		s.mu.Unlock()
		return false
	}
	if tlsClosed && s.readErr == io.EOF {
		s.mu.Unlock() // another reader met the close_notify first and reported it
		return false
	}
	s.readErr = readErr
	s.setErrorLocked(kind, msg, err)
	if kind == SslInternalError {
		// The TLS library failed the stream and answered with a fatal
		// alert (a bad record, too many KeyUpdates, …) while the peer may
		// still be sending: close in order so no reset destroys it.
		s.closeAfterAlertLocked()
	}
	if !tlsClosed {
		s.path = readDirect
	}
	s.cond.Broadcast()
	s.mu.Unlock()
	s.emit(event{kind: evErrorOccurred, n: int64(kind)})
	if tlsClosed {
		// Qt: the socket stays Connected, sends nothing back, and
		// disconnects once the peer closes TCP ("The remote host closed
		// the connection"); the application may still write, and
		// DisconnectFromHost sends our close_notify.
		return true
	}
	// A bare TCP close or a failure: through Closing, as in Qt.
	s.mu.Lock()
	gen := s.gen
	s.mu.Unlock()
	s.teardownWith(teardownHow{closing: true}, true)
	s.mu.Lock()
	if s.gen == gen && (s.readErr == nil || s.readErr == io.EOF) {
		s.readErr = readErr // (not a new connection's, made from a disconnected handler)
	}
	s.mu.Unlock()
	return false
}

// startPlainReaderLocked runs a read loop over the plain connection (for
// readyRead and buffered reads before any encryption).
func (s *Socket) startPlainReaderLocked() {
	if s.path != readDirect || s.raw == nil || s.mode != UnencryptedMode || s.autoStart {
		return
	}
	s.path = readLoop
	raw := s.raw
	s.goLocked(func() { s.readLoop(raw, false) })
}

// stopPlainReaderLocked stops the plain read loop so that TLS can take over
// the connection; whatever it read stays in the buffer.
func (s *Socket) stopPlainReaderLocked() {
	if s.path != readLoop {
		return
	}
	s.path = readHandOver
	if s.loopID != nil && s.loopID.is(goid()) {
		// Called from a handler the plain loop itself runs (STARTTLS from
		// readyRead): it is not reading, and stops as the handler returns;
		// the handshake waits for that (awaitPlainReader).
		return
	}
	raw := s.raw
	_ = raw.SetReadDeadline(time.Unix(1, 0))
	s.cond.Broadcast()
	for s.path != readDirect {
		s.cond.Wait()
	}
	_ = raw.SetReadDeadline(time.Time{}) // the handshake must not inherit a read deadline
}

// awaitPlainReaderLocked waits until a plain read loop asked to stop from
// its own handler has stopped, then clears the deadline and the request.
func (s *Socket) awaitPlainReaderLocked() {
	if s.path != readHandOver {
		return
	}
	for s.path != readDirect && !s.endedLocked() {
		s.cond.Wait()
	}
	if s.raw != nil {
		_ = s.raw.SetReadDeadline(time.Time{})
	}
}

// ensureReaderLocked starts the read loop that Qt's buffered view needs:
// the plain reader for a socket made from a connection, or, once
// encrypted, the loop that replaces direct reads (for good).
func (s *Socket) ensureReaderLocked() {
	if s.mode == UnencryptedMode && !s.autoStart {
		s.startPlainReaderLocked()
		return
	}
	s.loopWanted = true
	s.startEncryptedLoopLocked()
}

// loopWantedLocked reports whether anything needed the read loop: a use of
// Qt's view, or a subscriber to an event only it can raise (sticky).
func (s *Socket) loopWantedLocked() bool { return s.loopWanted || s.loopSubs > 0 }

// startEncryptedLoopLocked starts the encrypted read loop if the socket is
// encrypted, it is not running, and no direct Read is in flight (the last
// one to finish starts it then).
func (s *Socket) startEncryptedLoopLocked() {
	if !s.encryptedLocked() || s.path != readDirect || s.directReaders > 0 || s.endedLocked() || s.readErr != nil || s.sess == nil {
		return
	}
	s.path = readLoop
	sess, raw := s.sess, s.raw
	if raw != nil {
		_ = raw.SetReadDeadline(time.Time{}) // the loop never times out; Read's deadline is ours
	}
	s.goLocked(func() { s.readLoop(sess, true) })
}

// wantLoop is called when a subscriber for a loop-only event arrives.
func (s *Socket) wantLoop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loopSubs++
	if s.mode == UnencryptedMode {
		// A plain connection (NewSocketFromConn, SetSocketDescriptor) reads
		// for readyRead from now on, as Qt's would.
		if s.state == ConnectedState && !s.autoStart {
			s.startPlainReaderLocked()
		}
		return
	}
	s.startEncryptedLoopLocked()
}

// unwantLoop is called when such a subscriber is removed: a later
// handshake reads directly again (a loop already running stays for its
// connection, with whatever it buffered).
func (s *Socket) unwantLoop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loopSubs > 0 {
		s.loopSubs--
	}
}

// readDirect reads the session on the caller's goroutine: no hand-off, no
// copy. Called with s.mu held; returns with it held.
func (s *Socket) readDirect(p []byte) (int, error) {
	s.directReaders++
	sess := s.sess
	s.mu.Unlock()
	// The connection's read deadline mirrors SetReadDeadline while reads are
	// direct; concurrent readers share it and never change it themselves.
	n, err := sess.Read(p)
	if err != nil && !isTimeout(err) && !errors.Is(err, os.ErrDeadlineExceeded) {
		s.mu.Lock()
		s.directReaders--
		s.mu.Unlock()
		watch := s.readEnded(err, true)
		s.mu.Lock()
		if watch {
			s.startWatchLocked()
		}
		if n > 0 {
			return n, nil
		}
		if s.readErr != nil {
			return 0, s.readErr
		}
		return 0, err
	}
	s.mu.Lock()
	s.directReaders--
	if s.directReaders == 0 && s.loopWantedLocked() {
		s.startEncryptedLoopLocked()
	}
	s.cond.Broadcast()
	if err != nil && n == 0 {
		if s.closingLocked() {
			return 0, net.ErrClosed // the deadline of Close's orderly drain
		}
		return 0, os.ErrDeadlineExceeded
	}
	return n, nil
}

// Read reads (decrypted) data: net.Conn semantics. It blocks until data
// is available, the stream ends (io.EOF after close_notify;
// ErrUncleanShutdown when the TCP connection ended without it), an error,
// or the read deadline (os.ErrDeadlineExceeded).
//
// Called from one of the socket's event handlers it never blocks, as Qt's
// read(): it returns what is buffered, or 0 and ErrWouldDeadlock when
// nothing is (the buffer fills only after the handler returns), so that
// Qt's "while (read(...) > 0)" loop ports as is. The end of the stream
// and errors are reported as from any goroutine.
func (s *Socket) Read(p []byte) (int, error) {
	s.readSinceWrite.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mode == UnencryptedMode && !s.autoStart {
		s.startPlainReaderLocked() // plain sockets from a connection read through the loop
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if s.rend > s.rpos {
			n := copy(p, s.rbuf[s.rpos:s.rend])
			s.rpos += n // only the read loop compacts: it owns the space past rend
			s.cond.Broadcast()
			return n, nil
		}
		if len(p) == 0 {
			return 0, nil
		}
		if s.readErr != nil {
			return 0, s.readErr
		}
		if s.state == UnconnectedState && s.path == readDirect {
			return 0, net.ErrClosed
		}
		if s.inHandler() {
			// Qt's read() never blocks, and here nothing could fill the
			// buffer until the handler returns.
			return 0, ErrWouldDeadlock
		}
		if s.encryptedLocked() && s.path == readDirect && !s.loopWantedLocked() && s.sess != nil {
			if !s.readDL.IsZero() && !time.Now().Before(s.readDL) {
				return 0, os.ErrDeadlineExceeded
			}
			return s.readDirect(p)
		}
		if !s.readDL.IsZero() {
			d := time.Until(s.readDL)
			if d <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			if timer == nil {
				timer = time.AfterFunc(d, s.wake)
			}
		}
		s.cond.Wait()
	}
}

// ReadByte reads one byte (QIODevice::getChar).
func (s *Socket) ReadByte() (byte, error) {
	var b [1]byte
	if _, err := io.ReadFull(s, b[:]); err != nil {
		return 0, err
	}
	return b[0], nil
}

// WriteByte writes one byte (QIODevice::putChar).
func (s *Socket) WriteByte(c byte) error {
	_, err := s.Write([]byte{c})
	return err
}

// Write writes (and, once encrypted, encrypts) p: net.Conn semantics.
// Before the handshake completes, data is queued and sent, in order, right
// after it; the queue is bounded, and a writer blocks beyond 1 MiB.
func (s *Socket) Write(p []byte) (int, error) {
	s.mu.Lock()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if !s.writeDL.IsZero() && !time.Now().Before(s.writeDL) {
			// Refuse before the engine sees anything: crypto/tls treats a
			// write that times out midway as fatal for the connection.
			s.mu.Unlock()
			return 0, os.ErrDeadlineExceeded
		}
		if s.endedLocked() || (s.state == UnconnectedState && s.raw == nil) {
			s.mu.Unlock()
			return 0, net.ErrClosed
		}
		// A burst: this write follows the previous one at once, with no read
		// in between. It joins a queue that a flusher sends as full records
		// (coalescing); a lone write, or one answering a read, goes out now.
		last := s.lastWriteEnd.Load()
		// With a write deadline the caller wants to know that the write
		// completed in time: no coalescing then.
		burst := s.encryptedLocked() && len(p) < coalesceBelow && s.writeDL.IsZero() && !s.readSinceWrite.Load() && last != 0 &&
			time.Since(time.Unix(0, last)) < burstGap
		queue := s.autoStart && (!s.encryptedLocked() || s.flushing) || (s.mode != UnencryptedMode && !s.encryptedLocked()) ||
			(s.encryptedLocked() && (s.flushing || burst || len(s.wqueue) > 0)) // never overtake queued data
		if !queue {
			break
		}
		if s.writeErr != nil {
			err := s.writeErr
			s.mu.Unlock()
			return 0, err
		}
		if len(s.wqueue) < maxWriteQueue || len(p) == 0 {
			s.wqueue = append(s.wqueue, p...)
			if s.encryptedLocked() && !s.flushing {
				s.flushing = true
				s.goLocked(s.flushQueue)
			}
			s.mu.Unlock()
			return len(p), nil
		}
		if s.inHandler() {
			// The queue drains only after the handler returns: a handler
			// is never made to wait for it (Qt's write() never blocks).
			s.wqueue = append(s.wqueue, p...)
			s.mu.Unlock()
			return len(p), nil
		}
		if !s.writeDL.IsZero() && timer == nil {
			timer = time.AfterFunc(time.Until(s.writeDL), s.wake)
		}
		s.cond.Wait()
	}
	var dst io.Writer = s.raw // plain writes go straight to the connection
	enc := s.encryptedLocked()
	if enc {
		dst = s.sess
	}
	s.mu.Unlock()
	s.lockWrite()
	n, err := dst.Write(p)
	s.unlockWrite()
	if enc {
		s.lastWriteEnd.Store(time.Now().UnixNano())
		s.readSinceWrite.Store(false)
		s.emitEncryptedBytesWritten()
	}
	s.wrote(n)
	if err != nil {
		// A deadline passing midway still commits the data (see Stream):
		// it goes out with the next write or Flush.
		return n, s.writeFailed(err)
	}
	return n, nil
}

func (s *Socket) wrote(n int) {
	if n > 0 {
		s.writtenSeq.Add(1)
		if h := s.hub(); h != nil && !h.ev.bytesWritten.empty() {
			h.postAsync(event{kind: evBytesWritten, n: int64(n)})
		}
	}
}

func (s *Socket) writeFailed(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err // a write deadline: the connection stays
	}
	s.mu.Lock()
	aborted := s.endedLocked()
	s.mu.Unlock()
	if !aborted {
		kind, msg := NetworkError, err.Error()
		if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) {
			kind, msg = RemoteHostClosedError, "The remote host closed the connection"
		}
		s.fail(kind, msg, err)
	}
	return err
}

// flushQueue sends queued plaintext: the writes made before the handshake
// completed, and bursts. Batches are taken under writeMu, so that several
// flushers (the burst flusher, a graceful close) keep the order.
func (s *Socket) flushQueue() {
	wroteAny := false
	for {
		s.lockWrite()
		s.mu.Lock()
		if len(s.wqueue) == 0 || !s.encryptedLocked() || s.endedLocked() {
			s.wqueue = s.wqueue[:0]
			s.flushing = false
			if wroteAny { // a burst continues only after real writes
				s.lastWriteEnd.Store(time.Now().UnixNano())
				s.readSinceWrite.Store(false)
			}
			s.cond.Broadcast()
			s.mu.Unlock()
			s.unlockWrite()
			return
		}
		data := s.wqueue
		s.wqueue, s.wspare = s.wspare[:0], nil // double-buffered: no allocation per batch
		sess := s.sess
		s.cond.Broadcast()
		s.mu.Unlock()
		n, err := sess.Write(data)
		wroteAny = true
		timedOut := err != nil && isTimeout(err)
		s.unlockWrite()
		s.mu.Lock()
		s.wspare = data[:0]
		s.mu.Unlock()
		s.emitEncryptedBytesWritten()
		s.wrote(n)
		if err != nil && !timedOut {
			s.mu.Lock()
			s.writeErr = err
			s.flushing = false
			s.cond.Broadcast()
			s.mu.Unlock()
			s.writeFailed(err)
			return
		}
		if timedOut {
			// The rest waits in the transport for the next write after the
			// deadline is moved; writers see the deadline themselves.
			s.mu.Lock()
			s.flushing = false
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
	}
}

// Flush sends queued data if the socket is encrypted; it reports whether
// anything was written (QAbstractSocket::flush). Writes are otherwise
// synchronous, so there is rarely anything to flush.
func (s *Socket) Flush() bool {
	s.mu.Lock()
	pending := len(s.wqueue) > 0 && s.encryptedLocked()
	sess := s.sess
	s.mu.Unlock()
	if pending {
		s.flushQueue()
	}
	if sess != nil {
		s.lockWrite()
		if had, _ := sess.Flush(); had {
			pending = true
		}
		s.unlockWrite()
		s.emitEncryptedBytesWritten()
	}
	return pending
}

// SetDeadline sets the read and write deadlines (net.Conn).
func (s *Socket) SetDeadline(t time.Time) error {
	if err := s.SetReadDeadline(t); err != nil {
		return err
	}
	return s.SetWriteDeadline(t)
}

// SetReadDeadline sets the deadline for Read (net.Conn).
func (s *Socket) SetReadDeadline(t time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readDL = t
	if s.encryptedLocked() && s.path == readDirect && s.raw != nil {
		_ = s.raw.SetReadDeadline(t) // direct reads: the connection carries the deadline
	}
	s.cond.Broadcast()
	return nil
}

// SetWriteDeadline sets the deadline for Write (net.Conn).
func (s *Socket) SetWriteDeadline(t time.Time) error {
	s.mu.Lock()
	raw := s.raw
	s.writeDL = t
	s.cond.Broadcast()
	s.mu.Unlock()
	if raw == nil {
		return net.ErrClosed
	}
	return raw.SetWriteDeadline(t)
}

// --- Qt's buffered view --------------------------------------------------

// BytesAvailable returns how many (decrypted) bytes can be read without blocking.
func (s *Socket) BytesAvailable() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureReaderLocked()
	return int64(s.rend - s.rpos)
}

// CanReadLine reports whether a complete line ('\n'-terminated) is buffered.
func (s *Socket) CanReadLine() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureReaderLocked()
	return bytes.IndexByte(s.rbuf[s.rpos:s.rend], '\n') >= 0
}

// ReadLine returns the next buffered line including its '\n', or — when no
// complete line is buffered — up to max bytes of what is (max <= 0: all).
// It never blocks; it returns nil when nothing is buffered.
func (s *Socket) ReadLine(max int) []byte {
	s.readSinceWrite.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureReaderLocked()
	data := s.rbuf[s.rpos:s.rend]
	n := len(data)
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		n = i + 1
	}
	if max > 0 && n > max {
		n = max
	}
	if n == 0 {
		return nil
	}
	out := bytes.Clone(data[:n])
	s.rpos += n
	s.cond.Broadcast()
	return out
}

// ReadAll returns everything buffered, without blocking.
func (s *Socket) ReadAll() []byte {
	s.readSinceWrite.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureReaderLocked()
	var out []byte
	if n := s.rend - s.rpos; n >= handOverAbove {
		out = s.handOverLocked(n)
	} else {
		out = bytes.Clone(s.rbuf[s.rpos:s.rend])
		s.rpos = s.rend
	}
	s.cond.Broadcast()
	return out
}

// handOverAbove: ReadAll gives the caller the buffer's own bytes, instead
// of a copy, from this much data on (bulk: a copy per record cost a fifth
// of the CPU). Below it a copy is cheaper than a new buffer for the loop.
const handOverAbove = readChunk / 2

// handOverLocked gives the caller the next n buffered bytes themselves
// (their capacity ends with them, so an append cannot reach the socket's
// bytes), and keeps the rest of the array as the buffer: indices move by
// the bytes given, so a read loop filling the space past rend right now
// (without s.mu) lands where the rebased buffer expects it.
func (s *Socket) handOverLocked(n int) []byte {
	end := s.rpos + n
	out := s.rbuf[s.rpos:end:end]
	s.rbuf = s.rbuf[end:cap(s.rbuf)]
	s.rend -= end
	s.rpos = 0
	return out
}

// Peek returns up to n buffered bytes without consuming them.
func (s *Socket) Peek(n int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureReaderLocked()
	data := s.rbuf[s.rpos:s.rend]
	if n < len(data) {
		data = data[:n]
	}
	return bytes.Clone(data)
}

// SkipData discards up to n buffered bytes and returns how many it discarded.
func (s *Socket) SkipData(n int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rend == s.rpos && s.state == UnconnectedState && s.raw == nil {
		return -1 // Qt: "device not open"
	}
	if s.rend == s.rpos && n > 0 && s.encryptedLocked() && s.path == readDirect && !s.loopWantedLocked() && s.sess != nil && s.directReaders == 0 {
		return s.skipDirectLocked(n)
	}
	avail := int64(s.rend - s.rpos)
	if n > avail {
		n = avail
	}
	s.rpos += int(n)
	s.cond.Broadcast()
	return n
}

// AtEnd reports whether nothing is buffered for reading (QIODevice::atEnd
// on a sequential device: true on a connected socket with an empty buffer,
// as measured in Qt 6.4.2).
func (s *Socket) AtEnd() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ensureReaderLocked()
	return s.rend == s.rpos
}

// skipDirectLocked is SkipData on a socket that reads directly: what has
// arrived sits in the TLS engine and the kernel, not in the read buffer,
// so it is read and dropped without waiting (a deadline a moment away
// lets each read take what is there and no more). Called with s.mu held.
func (s *Socket) skipDirectLocked(n int64) int64 {
	s.directReaders++
	sess, raw, dl := s.sess, s.raw, s.readDL
	s.mu.Unlock()
	var scratch [4096]byte
	var skipped int64
	for skipped < n {
		_ = raw.SetReadDeadline(time.Now().Add(time.Millisecond))
		k, err := sess.Read(scratch[:min(int64(len(scratch)), n-skipped)])
		skipped += int64(k)
		if err != nil {
			break
		}
	}
	_ = raw.SetReadDeadline(dl)
	s.mu.Lock()
	s.directReaders--
	s.cond.Broadcast()
	return skipped
}

// BytesToWrite returns the plaintext queued for sending (written before the
// handshake completed).
func (s *Socket) BytesToWrite() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.wqueue))
}

// EncryptedBytesAvailable returns ciphertext received but not yet
// decrypted, as far as the backend can tell: exact on an engine (openssl,
// or the go backend's engine); on the go backend's stream fast path only
// bytes carried over from before STARTTLS, since crypto/tls buffers whole
// records internally.
func (s *Socket) EncryptedBytesAvailable() int64 {
	s.mu.Lock()
	sess, mode := s.sess, s.mode
	s.mu.Unlock()
	if sess == nil || mode == UnencryptedMode {
		return 0
	}
	return sess.EncryptedBytesAvailable()
}

// EncryptedBytesToWrite returns ciphertext not yet handed to the network:
// what a write whose deadline passed left behind (records are otherwise
// written synchronously).
func (s *Socket) EncryptedBytesToWrite() int64 {
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess == nil {
		return 0
	}
	return sess.EncryptedBytesToWrite()
}

// emitEncryptedBytesWritten reports the ciphertext sent since the last
// call; it is called after each write, outside every lock.
func (s *Socket) emitEncryptedBytesWritten() {
	s.mu.Lock()
	sess := s.sess
	s.mu.Unlock()
	if sess == nil {
		return
	}
	if n := sess.TakeEncryptedBytesWritten(); n > 0 {
		if h := s.hub(); h != nil && !h.ev.encryptedBytesWritten.empty() {
			h.postAsync(event{kind: evEncryptedBytesWritten, n: n})
		}
	}
}

// discardReadBufferLocked drops buffered data; a read in flight is dropped too.
func (s *Socket) discardReadBufferLocked() {
	s.rpos = s.rend
	s.rgen++
}

// emitReadyRead posts readyRead from the read loop (self); once its
// handlers have run, readyReadDelivered bumps readyRuns, which
// WaitForReadyRead waits on when there are subscribers.
func (s *Socket) emitReadyRead(self *goroutineID) {
	hub := s.hub()
	if hub == nil || hub.ev.readyRead.empty() {
		return
	}
	hub.post(event{kind: evReadyRead}, self)
}

// readyReadDelivered counts a delivery of readyRead (eventHub.readyDone).
func (s *Socket) readyReadDelivered() {
	s.mu.Lock()
	s.readyRuns++
	s.cond.Broadcast()
	s.mu.Unlock()
}

// lockWrite takes the write mutex. The events the backend raises while it
// is held (alerts, tickets) go to the socket's worker: none runs here.
func (s *Socket) lockWrite() { s.writeMu.Lock() }

// unlockWrite releases the write mutex.
func (s *Socket) unlockWrite() { s.writeMu.Unlock() }
