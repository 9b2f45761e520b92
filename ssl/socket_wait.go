package ssl

import (
	"context"
	"errors"
	"io"
	"time"
)

// waitUntil blocks until check reports done, or ctx ends. check runs with
// s.mu held; its ok result is returned as nil error.
func (s *Socket) waitUntil(ctx context.Context, check func() (done bool, err error)) error {
	if s.inHandler() {
		return ErrWouldDeadlock
	}
	stop := context.AfterFunc(ctx, s.wake)
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waitLocked(check, ctx.Err)
}

// waitTimed is waitUntil with a timeout (negative: none) instead of a
// context: nothing is allocated when check is satisfied at once, and a
// timer exists only while the caller really waits.
func (s *Socket) waitTimed(timeout time.Duration, check func() (done bool, err error)) error {
	if s.inHandler() {
		return ErrWouldDeadlock
	}
	return s.waitTimedNested(timeout, check)
}

// waitTimedNested is waitTimed for a caller that knows the wait can end
// while it runs a handler (the read loop buffers data on its own goroutine).
func (s *Socket) waitTimedNested(timeout time.Duration, check func() (done bool, err error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	expired := timeout == 0 // guarded by s.mu
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	return s.waitLocked(check, func() error {
		if t == nil && timeout > 0 { // about to sleep for the first time
			t = time.AfterFunc(timeout, func() {
				s.mu.Lock()
				expired = true
				s.cond.Broadcast()
				s.mu.Unlock()
			})
		}
		if expired {
			return context.DeadlineExceeded
		}
		return nil
	})
}

// waitLocked is the loop of every wait, with s.mu held: check, else stop
// if ended says so, else sleep until the socket's state changes.
func (s *Socket) waitLocked(check func() (bool, error), ended func() error) error {
	for {
		if done, err := check(); done {
			return err
		}
		if err := ended(); err != nil {
			return err
		}
		s.cond.Wait()
	}
}

// wake wakes every wait, to look at its condition again.
func (s *Socket) wake() {
	s.mu.Lock()
	s.cond.Broadcast()
	s.mu.Unlock()
}

// errNotConnected ends waits on a socket that stopped trying.
var errNotConnected = errors.New("ssl: socket is not connected")

// WaitForConnectedContext waits until the TCP connection is up.
func (s *Socket) WaitForConnectedContext(ctx context.Context) error {
	return s.waitUntil(ctx, s.connectedLocked)
}

// connectedLocked is WaitForConnected's condition.
func (s *Socket) connectedLocked() (bool, error) {
	switch s.state {
	case ConnectedState, ClosingState:
		return s.connectReported || s.state == ClosingState, nil
	case UnconnectedState:
		return s.phase != phaseClosed, s.lastErrorLocked()
	}
	return false, nil
}

// WaitForEncryptedContext waits until the handshake completes. On failure
// it returns why: a *VerificationError for refused certificates.
func (s *Socket) WaitForEncryptedContext(ctx context.Context) error {
	return s.waitUntil(ctx, s.handshakeDoneLocked)
}

// handshakeDoneLocked is WaitForEncrypted's condition.
func (s *Socket) handshakeDoneLocked() (bool, error) {
	switch {
	case s.encryptedLocked() && !s.flushing, s.handshaked && !s.encryptedLocked():
		// encrypted was emitted and the early writes are out (or the
		// connection has even ended since): later writes go straight out.
		return true, nil
	case s.state == UnconnectedState:
		return s.phase != phaseClosed, s.lastErrorLocked()
	case s.mode == UnencryptedMode && !s.autoStart && s.state == ConnectedState:
		return true, errors.New("ssl: no handshake was started")
	}
	return false, nil
}

// WaitForReadyReadContext waits until new data arrives.
//
// Data the read loop buffered since the previous wait, and not yet read,
// counts as new: Qt would still have it in the kernel, for this call to
// find (its readyRead is emitted from inside the wait).
func (s *Socket) WaitForReadyReadContext(ctx context.Context) error {
	return s.waitUntil(ctx, s.readyReadCheck())
}

// readyReadCheck notes where the read stream stands and returns
// WaitForReadyRead's condition (run with s.mu held).
func (s *Socket) readyReadCheck() func() (bool, error) {
	s.mu.Lock()
	seq, runs := s.readSeq, s.readyRuns
	if s.readSeq != s.readWaitSeq && s.rend > s.rpos {
		seq, runs = s.readWaitSeq, s.readyRunsWait
	}
	s.ensureReaderLocked()
	s.mu.Unlock()
	return func() (bool, error) {
		subscribed := s.hub() != nil && !s.hub().ev.readyRead.empty()
		switch {
		case subscribed && s.readyRuns != runs, !subscribed && s.readSeq != seq:
			s.readWaitSeq, s.readyRunsWait = s.readSeq, s.readyRuns
			return true, nil // with subscribers: after their handlers ran, as Qt's signal
		case s.readErr != nil:
			return true, s.readErr
		case s.state == UnconnectedState:
			return true, s.lastErrorLocked()
		}
		return false, nil
	}
}

// WaitForBytesWrittenContext waits until the queued plaintext has been sent.
func (s *Socket) WaitForBytesWrittenContext(ctx context.Context) error {
	return s.waitUntil(ctx, s.sentLocked)
}

// sentLocked is WaitForBytesWritten's condition on queued data.
func (s *Socket) sentLocked() (bool, error) {
	switch {
	case len(s.wqueue) == 0 && !s.flushing:
		return true, nil
	case s.state == UnconnectedState:
		return true, s.lastErrorLocked()
	}
	return false, nil
}

// WaitForDisconnectedContext waits until the socket is Unconnected.
func (s *Socket) WaitForDisconnectedContext(ctx context.Context) error {
	return s.waitUntil(ctx, s.disconnectedLocked)
}

// disconnectedLocked is WaitForDisconnected's condition.
func (s *Socket) disconnectedLocked() (bool, error) {
	return s.state == UnconnectedState && s.phase != phaseClosed, nil
}

// lastErrorLocked is what a wait returns when the socket stopped: the
// error that ended the handshake (a *VerificationError when certificates
// were refused), else the last socket error.
func (s *Socket) lastErrorLocked() error {
	var ve *VerificationError
	if s.errKind == SslHandshakeFailedError && errors.As(s.errCause, &ve) {
		return ve
	}
	if s.errString != "" {
		return &SocketErr{Kind: s.errKind, Message: s.errString, Err: s.errCause}
	}
	return errNotConnected
}

// WaitForConnected is QAbstractSocket::waitForConnected: it reports whether
// the connection came up within timeout (negative: no limit). From an event
// handler it returns false at once.
func (s *Socket) WaitForConnected(timeout time.Duration) bool {
	return s.waitTimed(timeout, s.connectedLocked) == nil
}

// WaitForEncrypted is QSslSocket::waitForEncrypted: it reports whether the
// socket is encrypted within timeout (negative: no limit). Unlike Qt, an
// already encrypted socket gives true.
func (s *Socket) WaitForEncrypted(timeout time.Duration) bool {
	return s.waitTimed(timeout, s.handshakeDoneLocked) == nil
}

// WaitForReadyRead reports whether new data arrived within timeout.
//
// As in Qt, a timeout also emits errorOccurred(SocketTimeoutError)
// ("Network operation timed out"); the socket stays connected.
func (s *Socket) WaitForReadyRead(timeout time.Duration) bool {
	var err error
	if s.inHandler() {
		err = s.nestedReadyRead(timeout)
	} else {
		err = s.waitTimed(timeout, s.readyReadCheck())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		s.mu.Lock()
		live := s.phase == phaseConnected
		if live {
			s.setErrorLocked(SocketTimeoutError, "Network operation timed out", err)
		}
		s.mu.Unlock()
		if live {
			s.emit(event{kind: evErrorOccurred, n: int64(SocketTimeoutError)})
		}
	}
	return err == nil
}

// nestedReadyRead is WaitForReadyRead called from one of the socket's own
// handlers: Qt's nested wait, which returns once new data arrived
// (readyRead is not emitted for it meanwhile — the data is there to read
// when the wait returns). In a handler the read loop runs (readyRead),
// the wait reads the connection itself, as the loop would; in any other
// handler it waits for the loop to buffer more.
func (s *Socket) nestedReadyRead(timeout time.Duration) error {
	me := goid()
	s.mu.Lock()
	s.ensureReaderLocked()
	seq := s.readSeq
	if s.loopID.is(me) && s.raw != nil && s.path == readLoop {
		var src io.Reader = s.raw // the loop's source: the connection while plain,
		if s.mode != UnencryptedMode && s.sess != nil {
			src = s.sess // else the session
		}
		raw := s.raw
		buf := s.readSpaceLocked() // the loop's to call: this is the loop
		gen := s.rgen
		s.mu.Unlock()
		if timeout >= 0 {
			_ = raw.SetReadDeadline(time.Now().Add(timeout))
		}
		n, err := src.Read(buf)
		_ = raw.SetReadDeadline(time.Time{}) // the loop itself never times out
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.commitReadLocked(n, gen) > 0 {
			s.cond.Broadcast()
			return nil
		}
		if err != nil && isTimeout(err) {
			return context.DeadlineExceeded
		}
		if err == nil {
			err = errNotConnected
		}
		return err // the loop meets the end of the stream again once the handler returns
	}
	s.mu.Unlock()
	return s.waitTimedNested(timeout, func() (bool, error) {
		switch {
		case s.readSeq != seq:
			return true, nil
		case s.readErr != nil:
			return true, s.readErr
		case s.state == UnconnectedState:
			return true, s.lastErrorLocked()
		}
		return false, nil
	})
}

// WaitForBytesWritten reports whether data was sent: true once queued data
// went out within timeout, or when writes (which are synchronous once
// encrypted) completed since the previous call — Qt's write() then
// waitForBytesWritten() pattern; false when nothing was written.
func (s *Socket) WaitForBytesWritten(timeout time.Duration) bool {
	if s.inHandler() {
		return false
	}
	s.mu.Lock()
	queued := len(s.wqueue) > 0 || s.flushing
	s.mu.Unlock()
	if queued && s.waitTimed(timeout, s.sentLocked) != nil {
		return false
	}
	if h := s.hub(); h != nil && !h.awaitData(timeout) {
		// bytesWritten and encryptedBytesWritten not delivered in time (Qt's
		// wait returns after emitting them): a handler of the socket is busy.
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := s.writtenSeq.Load()
	wrote := seq != s.waitedSeq
	s.waitedSeq = seq
	return wrote
}

// WaitForDisconnected reports whether the socket disconnected within
// timeout; false at once for an unconnected socket, as in Qt — unless its
// disconnect is still delivering events (stateChanged, disconnected) on
// another goroutine: then it returns true once they were delivered.
//
// After DisconnectFromHost it returns true (once), as Qt's does: Qt's
// socket is still Closing then, ours has already closed.
func (s *Socket) WaitForDisconnected(timeout time.Duration) bool {
	s.mu.Lock()
	idle := s.state == UnconnectedState && s.phase != phaseClosed // a disconnect still delivering its events is waited for
	asked := s.disconnectAsked
	if idle {
		s.disconnectAsked = false
	}
	s.mu.Unlock()
	if idle {
		return asked && !s.inHandler()
	}
	if s.waitTimed(timeout, s.disconnectedLocked) != nil {
		return false
	}
	s.mu.Lock()
	s.disconnectAsked = false
	s.mu.Unlock()
	return true
}
