package ssl

// The socket's lifecycle as one explicit machine. A Socket is in exactly
// one phase; Qt's SocketState (State), isEncrypted and the facts the
// connection's goroutines act on (must they stop? is the end of the stream
// ours?) are derived from it. Only setPhaseLocked changes it, along the
// edges of phaseEdges; it also says whether Qt's state changed, for the
// caller to emit stateChanged once s.mu is released.
//
//	          ConnectToHost*                 transport up
//	Idle/Done ─────────────► Lookup ─► Connecting ─────────► Connected
//	    │ NewSocketFromConn, SetSocketDescriptor                  ▲   │
//	    └──────────────────────────────────────────────────────────┘   │
//	Connected ─DisconnectFromHost/Close/peer close_notify─► Closing ─┐ │
//	Lookup, Connecting, Connected ─Abort/failure──────────────────► Ending
//	Ending (transport closed, goroutines stopping) ─► Closed (Unconnected,
//	the disconnect's events being delivered) ─► Done (until the next connect)
//
// Within Connected and Closing, the TLS progress is mode (Qt's SslMode:
// plain, or client/server once a handshake started) and handshaked (it
// completed): encrypted = handshaked while Connected or Closing.
type phase uint8

const (
	phaseIdle       phase = iota // Unconnected: never connected since NewSocket
	phaseLookup                  // HostLookupState
	phaseConnecting              // ConnectingState
	phaseConnected               // ConnectedState: plain, handshaking or encrypted
	phaseClosing                 // ClosingState: a graceful close sends queued data and close_notify
	phaseEnding                  // the transport is closed, the socket's goroutines stop; Qt's state is still the one before
	phaseClosed                  // UnconnectedState, while the disconnect's events are delivered
	phaseDone                    // UnconnectedState: the connection is over
)

var phaseNames = [...]string{"Idle", "Lookup", "Connecting", "Connected", "Closing", "Ending", "Closed", "Done"}

func (p phase) String() string { return phaseNames[p] }

// qtState is Qt's SocketState in each phase (Ending keeps the state it
// was entered from: Qt's socket leaves it only with Unconnected).
var qtState = [...]SocketState{
	phaseIdle:       UnconnectedState,
	phaseLookup:     HostLookupState,
	phaseConnecting: ConnectingState,
	phaseConnected:  ConnectedState,
	phaseClosing:    ClosingState,
	phaseClosed:     UnconnectedState,
	phaseDone:       UnconnectedState,
}

// phaseEdges lists, for each phase, the phases it may go to. Anything else
// is a late step of a connection that already ended (a connect attempt
// aborted meanwhile, say) and is refused.
var phaseEdges = [...][]phase{
	phaseIdle:       {phaseLookup, phaseConnected, phaseDone},
	phaseLookup:     {phaseConnecting, phaseEnding, phaseDone},
	phaseConnecting: {phaseConnected, phaseEnding, phaseDone},
	phaseConnected:  {phaseClosing, phaseEnding},
	phaseClosing:    {phaseEnding},
	phaseEnding:     {phaseClosed},
	phaseClosed:     {phaseDone, phaseLookup, phaseConnected},
	phaseDone:       {phaseLookup, phaseConnected},
}

// setPhaseLocked moves the socket to next if the machine allows it, and
// reports whether it did and whether Qt's state changed (the caller emits
// stateChanged(s.state) after releasing s.mu). Called with s.mu held.
func (s *Socket) setPhaseLocked(next phase) (moved, stateChanged bool) {
	allowed := false
	for _, p := range phaseEdges[s.phase] {
		if p == next {
			allowed = true
			break
		}
	}
	if !allowed {
		return false, false
	}
	s.phase = next
	st := s.state
	if next != phaseEnding {
		st = qtState[next]
	}
	stateChanged = st != s.state
	s.state = st
	s.cond.Broadcast()
	return true, stateChanged
}

// transition moves the socket to next and emits stateChanged when Qt's
// state changed.
func (s *Socket) transition(next phase) {
	s.mu.Lock()
	_, changed := s.setPhaseLocked(next)
	st := s.state
	s.mu.Unlock()
	if changed {
		s.emitState(st)
	}
}

// encryptedLocked is isEncrypted(): the handshake completed and the
// connection has not ended.
func (s *Socket) encryptedLocked() bool {
	return s.handshaked && (s.phase == phaseConnected || s.phase == phaseClosing)
}

// endedLocked reports that the connection was torn down (or is being):
// the socket's goroutines stop quietly, writes fail.
func (s *Socket) endedLocked() bool { return s.phase >= phaseEnding }

// closingLocked reports that the teardown started here: the end of the
// incoming stream is then no error of the peer's.
func (s *Socket) closingLocked() bool { return s.phase >= phaseClosing }

// readPath is who reads the connection: the socket's second, smaller
// machine, changed under s.mu by the read path's own functions
// (socket_io.go). Wanting Qt's buffered view (loopWanted, loopSubs) is
// what moves it from readDirect to readLoop on an encrypted socket.
type readPath uint8

const (
	// readDirect: no goroutine reads; an encrypted socket's Read reads
	// the session on the caller's goroutine (directReaders at a time).
	readDirect readPath = iota
	// readLoop: a read loop fills the buffer and runs readyRead handlers.
	readLoop
	// readHandOver: the plain read loop was asked to stop (STARTTLS); it
	// goes back to readDirect when it has.
	readHandOver
	// readWatch: the peer's close_notify ended the TLS stream while TCP
	// stays open; a goroutine only waits for the TCP close.
	readWatch
)

// liveGoroutines counts the socket's goroutines per connection, under
// Socket.mu: a teardown waits for those of its own connection and earlier
// ones, never for a reconnection's made meanwhile (a sync.WaitGroup cannot
// tell them apart, and its Add from zero may not race its Wait — a
// reconnection racing Abort did exactly that).
type liveGoroutines struct {
	cur int32 // of the current connection (Socket.gen)
	old int32 // of earlier connections (still ending after a reconnection from a handler)
}

// newConnectionLocked starts counting the next connection's goroutines apart.
func (l *liveGoroutines) newConnectionLocked() {
	l.old += l.cur
	l.cur = 0
}

// enterLocked counts the calling goroutine as one of the connection's; it
// returns the token exit takes (the connection's generation).
func (s *Socket) enterLocked() uint32 {
	s.live.cur++
	return s.gen
}

// exit ends what enterLocked counted and wakes the waiters.
func (s *Socket) exit(gen uint32) {
	s.mu.Lock()
	if gen == s.gen {
		s.live.cur--
	} else {
		s.live.old--
	}
	s.cond.Broadcast()
	s.mu.Unlock()
}

// goLocked runs f on a new goroutine counted as the connection's.
func (s *Socket) goLocked(f func()) {
	g := s.enterLocked()
	go func() {
		defer s.exit(g)
		f()
	}()
}
