package ssl

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
)

// handlers is one event's subscriber list. It is copy-on-write behind one
// atomic pointer (8 bytes per event per socket), so emitting takes no lock
// and allocates nothing; add and remove swap in a new list.
type handlers[F any] struct {
	list atomic.Pointer[[]*subscription[F]]
}

// subscription is one subscriber; its address identifies it for removal.
type subscription[F any] struct {
	fn F
}

// add subscribes fn and returns the function that unsubscribes it.
func (h *handlers[F]) add(fn F) (remove func()) {
	sub := &subscription[F]{fn}
	h.swap(func(cur []*subscription[F]) []*subscription[F] {
		return append(append(make([]*subscription[F], 0, len(cur)+1), cur...), sub)
	})
	return func() {
		h.swap(func(cur []*subscription[F]) []*subscription[F] {
			var out []*subscription[F]
			for _, s := range cur {
				if s != sub {
					out = append(out, s)
				}
			}
			return out
		})
	}
}

// swap replaces the list with edit's result (nil when empty, so that a
// removed last subscriber leaves nothing allocated behind).
func (h *handlers[F]) swap(edit func([]*subscription[F]) []*subscription[F]) {
	for {
		p := h.list.Load()
		var cur []*subscription[F]
		if p != nil {
			cur = *p
		}
		var np *[]*subscription[F]
		if next := edit(cur); len(next) > 0 {
			np = &next
		}
		if h.list.CompareAndSwap(p, np) {
			return
		}
	}
}

// load returns the current subscribers.
func (h *handlers[F]) load() []*subscription[F] {
	if p := h.list.Load(); p != nil {
		return *p
	}
	return nil
}

func (h *handlers[F]) empty() bool { return len(h.load()) == 0 }

// dispatcher runs a socket's event handlers: one at a time, in the order
// the events were emitted, never concurrently. Whichever goroutine emits
// while no handler runs becomes the runner and drains the queue; events
// emitted meanwhile (also from inside a handler) are queued, so a handler
// may call any Socket method without deadlocking.
type dispatcher struct {
	mu      sync.Mutex
	cond    sync.Cond
	queue   []func()
	running bool
	runner  int64  // goroutine id of the runner while running
	posted  uint64 // sequence number of the last queued event
	done    uint64 // sequence number of the last delivered event
}

// post queues fn and returns; it runs fn itself if no handler is running.
func (d *dispatcher) post(fn func()) { d.emit(fn, false) }

// send queues fn and returns only once fn has run: the decision points of
// a handshake (sslErrors, peerVerifyError, …) must see the handler's effect.
func (d *dispatcher) send(fn func()) { d.emit(fn, true) }

func (d *dispatcher) emit(fn func(), wait bool) {
	d.mu.Lock()
	if d.cond.L == nil {
		d.cond.L = &d.mu
	}
	if d.running && d.runner == goid() {
		// Emitted from a handler: deliver after it returns. A synchronous
		// event cannot wait for its own goroutine: it runs now if nothing
		// is queued before it, else it keeps its place in the order
		// (a disconnect from a handler: Closing, then Unconnected).
		if wait && len(d.queue) == 0 {
			d.mu.Unlock()
			fn()
			return
		}
		d.queue = append(d.queue, fn)
		d.posted++
		d.mu.Unlock()
		return
	}
	d.queue = append(d.queue, fn)
	d.posted++
	seq := d.posted
	if d.running {
		if wait {
			for d.done < seq {
				d.cond.Wait()
			}
		}
		d.mu.Unlock()
		return
	}
	d.running, d.runner = true, goid()
	for len(d.queue) > 0 {
		next := d.queue[0]
		d.queue[0] = nil
		d.queue = d.queue[1:]
		d.mu.Unlock()
		next()
		d.mu.Lock()
		d.done++
		d.cond.Broadcast()
	}
	d.queue = d.queue[:0]
	d.running, d.runner = false, 0
	d.cond.Broadcast()
	d.mu.Unlock()
}

// afterQueued runs fn once the events queued so far were delivered: now,
// when nothing is being delivered (no goroutine-id lookup, no queueing),
// else as the last queued event.
func (d *dispatcher) afterQueued(fn func()) {
	d.mu.Lock()
	idle := !d.running && len(d.queue) == 0
	d.mu.Unlock()
	if idle {
		fn()
		return
	}
	d.post(fn)
}

// inHandler reports whether the calling goroutine is running one of this
// socket's event handlers (where blocking waits would deadlock).
func (d *dispatcher) inHandler() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.running && d.runner == goid()
}

// goid returns the calling goroutine's id, parsed from its stack header
// ("goroutine 123 [running]:"). Used only to recognise re-entry from a
// handler; never for anything else.
func goid() int64 {
	var buf [64]byte
	b := buf[:runtime.Stack(buf[:], false)]
	b = bytes.TrimPrefix(b, []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseInt(string(b), 10, 64)
	return id
}

// eventHub is an owner's subscribers and the dispatcher that runs them. A
// Socket allocates its hub with the first subscription (most accepted
// connections never get one); an Engine holds one inline.
type eventHub struct {
	ev   events
	disp dispatcher
}

// hub returns the socket's event hub, or nil while nobody ever subscribed
// (then every event has no handler and nothing can be running one).
func (s *Socket) hub() *eventHub { return s.hubp.Load() }

// hubFor returns the socket's event hub, making it on first use.
func (s *Socket) hubFor() *eventHub {
	if h := s.hubp.Load(); h != nil {
		return h
	}
	s.hubp.CompareAndSwap(nil, new(eventHub))
	return s.hubp.Load()
}

// inHandler reports whether the caller runs one of the socket's handlers.
func (s *Socket) inHandler() bool {
	h := s.hub()
	return h != nil && h.disp.inHandler()
}

// events holds a socket's subscribers, one list per Qt signal.
type events struct {
	encrypted                          handlers[func()]
	sslErrors                          handlers[func([]Error)]
	peerVerifyError                    handlers[func(Error)]
	modeChanged                        handlers[func(SslMode)]
	encryptedBytesWritten              handlers[func(int64)]
	handshakeInterruptedOnError        handlers[func(Error)]
	newSessionTicketReceived           handlers[func()]
	alertSent                          handlers[func(AlertLevel, AlertType, string)]
	alertReceived                      handlers[func(AlertLevel, AlertType, string)]
	preSharedKeyAuthenticationRequired handlers[func(*PreSharedKeyAuthenticator)]
	connected                          handlers[func()]
	disconnected                       handlers[func()]
	hostFound                          handlers[func()]
	stateChanged                       handlers[func(SocketState)]
	errorOccurred                      handlers[func(SocketError)]
	readyRead                          handlers[func()]
	bytesWritten                       handlers[func(int64)]
	readChannelFinished                handlers[func()]
}

// OnEncrypted subscribes to encrypted: the handshake completed and data
// now flows encrypted. The returned function unsubscribes.
func (s *Socket) OnEncrypted(fn func()) (remove func()) { return s.hubFor().ev.encrypted.add(fn) }

// OnSslErrors subscribes to sslErrors: the verification problems of the
// handshake, emitted once before encrypted (or the failure). Call
// IgnoreSslErrors or IgnoreSslErrorList inside the handler to continue.
func (s *Socket) OnSslErrors(fn func([]Error)) (remove func()) {
	return s.hubFor().ev.sslErrors.add(fn)
}

// OnPeerVerifyError subscribes to peerVerifyError: each problem as it is
// found, before sslErrors. Abort inside the handler stops the handshake.
func (s *Socket) OnPeerVerifyError(fn func(Error)) (remove func()) {
	return s.hubFor().ev.peerVerifyError.add(fn)
}

// OnModeChanged subscribes to modeChanged.
func (s *Socket) OnModeChanged(fn func(SslMode)) (remove func()) {
	return s.hubFor().ev.modeChanged.add(fn)
}

// OnEncryptedBytesWritten subscribes to encryptedBytesWritten: bytes of
// TLS records handed to the network.
func (s *Socket) OnEncryptedBytesWritten(fn func(int64)) (remove func()) {
	return s.hubFor().ev.encryptedBytesWritten.add(fn)
}

// OnHandshakeInterruptedOnError subscribes to handshakeInterruptedOnError
// (with Configuration.SetHandshakeMustInterruptOnError): call
// ContinueInterruptedHandshake inside the handler to go on.
func (s *Socket) OnHandshakeInterruptedOnError(fn func(Error)) (remove func()) {
	return s.hubFor().ev.handshakeInterruptedOnError.add(fn)
}

// OnNewSessionTicketReceived subscribes to newSessionTicketReceived.
func (s *Socket) OnNewSessionTicketReceived(fn func()) (remove func()) {
	return s.subscribeLoopEvent(s.hubFor().ev.newSessionTicketReceived.add(fn))
}

// OnAlertSent subscribes to alertSent (backends with FeatureAlerts).
func (s *Socket) OnAlertSent(fn func(level AlertLevel, typ AlertType, description string)) (remove func()) {
	return s.hubFor().ev.alertSent.add(fn)
}

// OnAlertReceived subscribes to alertReceived. The go backend reports the
// fatal alerts it receives; warnings need a backend with FeatureAlerts.
func (s *Socket) OnAlertReceived(fn func(level AlertLevel, typ AlertType, description string)) (remove func()) {
	return s.subscribeLoopEvent(s.hubFor().ev.alertReceived.add(fn))
}

// OnPreSharedKeyAuthenticationRequired subscribes to
// preSharedKeyAuthenticationRequired: fill the authenticator in the handler.
func (s *Socket) OnPreSharedKeyAuthenticationRequired(fn func(*PreSharedKeyAuthenticator)) (remove func()) {
	return s.hubFor().ev.preSharedKeyAuthenticationRequired.add(fn)
}

// OnConnected subscribes to connected: the TCP connection is up.
func (s *Socket) OnConnected(fn func()) (remove func()) { return s.hubFor().ev.connected.add(fn) }

// OnDisconnected subscribes to disconnected.
func (s *Socket) OnDisconnected(fn func()) (remove func()) {
	return s.subscribeLoopEvent(s.hubFor().ev.disconnected.add(fn))
}

// OnHostFound subscribes to hostFound: the host name was resolved.
func (s *Socket) OnHostFound(fn func()) (remove func()) { return s.hubFor().ev.hostFound.add(fn) }

// OnStateChanged subscribes to stateChanged.
func (s *Socket) OnStateChanged(fn func(SocketState)) (remove func()) {
	return s.subscribeLoopEvent(s.hubFor().ev.stateChanged.add(fn))
}

// OnErrorOccurred subscribes to errorOccurred; ErrorString tells more.
func (s *Socket) OnErrorOccurred(fn func(SocketError)) (remove func()) {
	return s.subscribeLoopEvent(s.hubFor().ev.errorOccurred.add(fn))
}

// OnReadyRead subscribes to readyRead: new (decrypted) data can be read.
func (s *Socket) OnReadyRead(fn func()) (remove func()) {
	return s.subscribeLoopEvent(s.hubFor().ev.readyRead.add(fn))
}

// OnBytesWritten subscribes to bytesWritten: plaintext bytes handed to TLS.
func (s *Socket) OnBytesWritten(fn func(int64)) (remove func()) {
	return s.hubFor().ev.bytesWritten.add(fn)
}

// OnReadChannelFinished subscribes to readChannelFinished: the peer will send no more.
func (s *Socket) OnReadChannelFinished(fn func()) (remove func()) {
	return s.subscribeLoopEvent(s.hubFor().ev.readChannelFinished.add(fn))
}

// emit0 posts a parameterless event if anyone listens.
func emit0(d *dispatcher, h *handlers[func()]) {
	if h.empty() {
		return
	}
	d.post(func() {
		for _, s := range h.load() {
			s.fn()
		}
	})
}

// emit1 posts a one-argument event if anyone listens.
func emit1[T any](d *dispatcher, h *handlers[func(T)], v T) {
	if h.empty() {
		return
	}
	d.post(func() {
		for _, s := range h.load() {
			s.fn(v)
		}
	})
}

// send1 delivers a one-argument event and returns after its handlers ran.
func send1[T any](d *dispatcher, h *handlers[func(T)], v T) {
	if h.empty() {
		return
	}
	d.send(func() {
		for _, s := range h.load() {
			s.fn(v)
		}
	})
}

func emitAlert(d *dispatcher, h *handlers[func(AlertLevel, AlertType, string)], l AlertLevel, t AlertType, desc string) {
	if h.empty() {
		return
	}
	d.post(func() {
		for _, s := range h.load() {
			s.fn(l, t, desc)
		}
	})
}

// subscribeLoopEvent notes a subscriber to an event only the read loop can
// raise (data, end of stream, errors while idle): the socket switches from
// direct reads to the loop.
func (s *Socket) subscribeLoopEvent(remove func()) func() {
	s.wantLoop()
	var once sync.Once
	return func() {
		once.Do(func() {
			remove()
			s.unwantLoop()
		})
	}
}
