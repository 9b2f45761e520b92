package ssl

import (
	"bytes"
	"errors"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
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

// ErrWouldDeadlock is returned by a blocking call made from one of the
// socket's (or engine's) own event handlers, where waiting could never
// end: the WaitFor*Context methods, a Read with nothing buffered, an
// Engine's Handshake, Read and Write.
var ErrWouldDeadlock = errors.New("ssl: blocking call from an event handler")

// dispatcher runs an owner's event handlers: one at a time, in the order
// the events were emitted, never concurrently, and never while the
// library holds a lock. Events emitted while a handler runs (also from
// inside a handler) are queued, so a handler may call any method without
// deadlocking.
//
// Who runs the handlers:
//   - the socket's read loop runs readyRead (and whatever is queued with
//     it) itself: it knows its goroutine id, looked up once for its life;
//   - the data events Qt emits from its event loop after a write
//     (bytesWritten, encryptedBytesWritten) and the events a backend raises
//     inside its own call (alerts, tickets) are handed to the socket's
//     worker (postAsync), a goroutine started with the first of them and
//     ended with the connection (Close waits for it), which knows its id
//     from its start — neither a writer nor a TLS engine runs handlers;
//   - the lifecycle events Qt emits inside the call that causes them
//     (stateChanged, errorOccurred, modeChanged, encrypted, disconnected,
//     the handshake's decisions …) run on the goroutine that raised them,
//     as in Qt, unless handlers are running already; that goroutine's id
//     is looked up once for the run (a few times per connection);
//   - an Engine (inline) runs every handler inside the call that raised
//     it, as its documentation promises.
//
// Events are values (no closure per emission), queued in a slice reused
// from one run to the next: dispatching allocates nothing in steady state,
// and the data path (readyRead, bytesWritten, encryptedBytesWritten) looks
// up no goroutine id. Otherwise an id is compared only by a call that
// would block (WaitFor*, Read with nothing buffered, a synchronous event)
// while a handler of this owner runs, to tell that handler — which must
// not block — from another goroutine, which may: Go offers no cheaper
// goroutine identity than runtime.Stack.
type dispatcher struct {
	mu      sync.Mutex
	cond    sync.Cond // on mu: delivery progress and the worker's wake-ups
	queue   []event   // queue[head:] waits for delivery; reused once drained
	head    int
	running bool   // a runner owns the queue (delivering, or the worker is about to)
	runner  int64  // its goroutine id (0 while a worker is starting)
	posted  uint64 // sequence number of the last queued event
	done    uint64 // sequence number of the last delivered event
	dataSeq uint64 // sequence number of the last data event handed to the worker (postAsync)

	// The worker; guarded by mu.
	wake       sync.Cond // on mu: work was handed to the worker, or it should stop
	worker     bool      // alive
	workerID   int64     // its goroutine id, once started
	workerStop bool      // the owner is not connected: exit whenever the queue is empty
}

// init ties the conditions to the mutex; an owner calls it as it makes its hub.
func (h *eventHub) init() *eventHub {
	h.disp.cond.L, h.disp.wake.L = &h.disp.mu, &h.disp.mu
	return h
}

// goroutineID is a goroutine's id, looked up on first use (a goroutine the
// library owns keeps one for its life: its read loop, say). Only its
// goroutine calls get; others may ask whether it is theirs (is).
type goroutineID struct{ id atomic.Int64 }

func (g *goroutineID) get() int64 {
	id := g.id.Load()
	if id == 0 {
		id = goid()
		g.id.Store(id)
	}
	return id
}

// is reports whether g is the goroutine me; false while g's goroutine has
// not looked its id up (it has then run no handler).
func (g *goroutineID) is(me int64) bool { return g != nil && g.id.Load() == me }

// post queues ev and returns; if no handler is running, the caller runs
// it (and whatever is queued meanwhile) itself. self is the calling
// goroutine when the library owns it (the read loop: its id is known);
// nil for any other, whose id is looked up once for the run.
func (h *eventHub) post(ev event, self *goroutineID) {
	d := &h.disp
	d.mu.Lock()
	d.enqueueLocked(ev)
	switch {
	case d.running:
		d.mu.Unlock()
	case self != nil:
		h.runLocked(self.get())
	default:
		h.runLocked(goid())
	}
}

// postAsync queues ev for the socket's worker: the data events Qt emits
// from its event loop after the write (bytesWritten,
// encryptedBytesWritten), raised on whatever goroutine wrote. The writer
// never runs handlers, so a write loop on an application goroutine looks
// up no goroutine id. An inline hub (an Engine's) runs ev here instead.
func (h *eventHub) postAsync(ev event) {
	d := &h.disp
	d.mu.Lock()
	d.enqueueLocked(ev)
	d.dataSeq = d.posted
	switch {
	case d.running:
		d.mu.Unlock()
	case h.inline:
		h.runLocked(goid())
	default:
		h.handOffLocked()
		d.mu.Unlock()
	}
}

// send queues ev and returns only once it was delivered: the decision
// points of a handshake (sslErrors, peerVerifyError, …) must see the
// handler's effect.
func (h *eventHub) send(ev event) {
	d := &h.disp
	d.mu.Lock()
	if !d.running {
		d.enqueueLocked(ev)
		h.runLocked(goid())
		return
	}
	if d.runner == goid() {
		// Sent from a handler: it cannot wait for its own goroutine. It
		// runs now if nothing is queued before it, else it keeps its
		// place in the order (a disconnect from a handler: Closing, then
		// Unconnected).
		if d.head == len(d.queue) {
			d.mu.Unlock()
			h.deliver(&ev)
			return
		}
		d.enqueueLocked(ev)
		d.mu.Unlock()
		return
	}
	d.enqueueLocked(ev)
	seq := d.posted
	for d.done < seq {
		d.cond.Wait()
	}
	d.mu.Unlock()
}

// enqueueLocked appends ev to the queue.
func (d *dispatcher) enqueueLocked(ev event) {
	d.queue = append(d.queue, ev)
	d.posted++
}

// runLocked makes the caller (goroutine me) the runner: it delivers the
// queue until it is empty, with d.mu released around every delivery, and
// returns with d.mu released.
func (h *eventHub) runLocked(me int64) {
	h.drainLocked(me)
	h.disp.mu.Unlock()
}

// drainLocked delivers the queue as goroutine me; d.mu is held on entry
// and on return, released around every delivery.
func (h *eventHub) drainLocked(me int64) {
	d := &h.disp
	d.running, d.runner = true, me
	delivered := false
	defer func() {
		if !delivered {
			// A handler panicked (d.mu is not held): the panic goes on to
			// the application, and the dispatcher is left usable — what is
			// still queued goes to the worker (an Engine's, to its next
			// emission).
			d.mu.Lock()
			d.done++
			d.running, d.runner = false, 0
			if d.head < len(d.queue) && !h.inline {
				h.handOffLocked()
			}
			d.cond.Broadcast()
			d.mu.Unlock()
		}
	}()
	for d.head < len(d.queue) {
		ev := d.queue[d.head]
		d.queue[d.head] = event{} // drop references held by the slot
		d.head++
		d.mu.Unlock()
		h.deliver(&ev)
		d.mu.Lock()
		d.done++
		d.cond.Broadcast()
	}
	d.queue, d.head = d.queue[:0], 0
	d.running, d.runner = false, 0
	d.cond.Broadcast()
	if d.worker && me != d.workerID {
		d.wake.Signal() // a worker that found the queue taken re-checks (it may be told to stop)
	}
	delivered = true
}

// handOffLocked gives the queue to the worker, starting it if needed.
// From now until it has drained the queue, the queue is the worker's:
// nobody else starts delivering meanwhile.
func (h *eventHub) handOffLocked() {
	d := &h.disp
	d.running, d.runner = true, d.workerID
	if d.worker {
		d.wake.Signal()
		return
	}
	d.worker, d.workerID = true, 0
	go h.work()
}

// work is the worker's goroutine: it drains what is handed to it until
// told to stop (stopWorker) with nothing queued.
func (h *eventHub) work() {
	me := goid() // once for the worker's life
	d := &h.disp
	d.mu.Lock()
	d.workerID = me
	for {
		if d.head < len(d.queue) && (!d.running || d.runner == 0 || d.runner == me) {
			h.drainLocked(me)
			continue
		}
		if d.workerStop && d.head == len(d.queue) {
			break
		}
		d.wake.Wait()
	}
	d.worker, d.workerID = false, 0
	d.cond.Broadcast() // awaitWorker
	d.mu.Unlock()
}

// stopWorker tells the worker that the owner's connection ended: it exits
// once the queue is empty (a straggling event later starts a worker that
// exits as soon as it has delivered it). keepWorker lets it stay while a
// new connection lives.
func (h *eventHub) stopWorker() { h.setWorkerStop(true) }
func (h *eventHub) keepWorker() { h.setWorkerStop(false) }

func (h *eventHub) setWorkerStop(stop bool) {
	d := &h.disp
	d.mu.Lock()
	d.workerStop = stop
	d.wake.Signal()
	d.cond.Broadcast() // an awaitWorker stops waiting for a worker kept for a new connection
	d.mu.Unlock()
}

// awaitWorker waits until a worker told to stop has exited — or was kept
// for a new connection meanwhile (a reconnect racing the close).
func (h *eventHub) awaitWorker() {
	d := &h.disp
	d.mu.Lock()
	for d.worker && d.workerStop {
		d.cond.Wait()
	}
	d.mu.Unlock()
}

// awaitData waits until the data events handed to the worker so far were
// delivered, or the timeout (negative: none) passes; it reports whether
// they were. Not from a handler, which would wait for itself.
func (h *eventHub) awaitData(timeout time.Duration) bool {
	d := &h.disp
	d.mu.Lock()
	defer d.mu.Unlock()
	seq := d.dataSeq
	if d.done >= seq {
		return true
	}
	if d.running && d.runner != 0 && d.runner == goid() {
		return false
	}
	expired := timeout == 0
	if timeout > 0 {
		t := time.AfterFunc(timeout, func() {
			d.mu.Lock()
			expired = true
			d.cond.Broadcast()
			d.mu.Unlock()
		})
		defer t.Stop()
	}
	for d.done < seq && !expired {
		d.cond.Wait()
	}
	return d.done >= seq
}

// afterQueued runs fn once the events queued so far were delivered: now,
// when nothing is being delivered, else as the last queued event.
func (h *eventHub) afterQueued(fn func()) {
	d := &h.disp
	d.mu.Lock()
	idle := !d.running && d.head == len(d.queue)
	d.mu.Unlock()
	if idle {
		fn()
		return
	}
	h.post(event{kind: evCall, fn: fn}, nil)
}

// busy reports whether a handler of this owner is running (or about to,
// on the worker) — on the caller's goroutine or another, perhaps blocked
// for good: a teardown waits for neither.
func (d *dispatcher) busy() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.running
}

// inHandler reports whether the calling goroutine is running one of this
// owner's event handlers (where blocking waits would deadlock). Cheap when
// no handler runs; otherwise it looks up the caller's goroutine id.
func (d *dispatcher) inHandler() bool {
	d.mu.Lock()
	running, runner := d.running, d.runner
	d.mu.Unlock()
	return running && runner != 0 && runner == goid()
}

// goid returns the calling goroutine's id, parsed from its stack header
// ("goroutine 123 [running]:"). Used only to recognise a handler calling
// back into its own socket (see dispatcher); never for anything else.
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

// eventKind names a Qt signal (or an internal continuation).
type eventKind uint8

const (
	evEncrypted eventKind = iota
	evSslErrors
	evPeerVerifyError
	evModeChanged
	evEncryptedBytesWritten
	evHandshakeInterruptedOnError
	evNewSessionTicketReceived
	evAlertSent
	evAlertReceived
	evPreSharedKeyAuthenticationRequired
	evConnected
	evDisconnected
	evHostFound
	evStateChanged
	evErrorOccurred
	evReadyRead
	evBytesWritten
	evReadChannelFinished
	evCall // not a signal: fn, run in the events' order
)

// event is one emission: the signal and its arguments.
type event struct {
	kind  eventKind
	level AlertLevel
	alert AlertType
	n     int64 // a byte count; a SocketState, SocketError or SslMode
	desc  string
	err   Error
	errs  []Error
	psk   *PreSharedKeyAuthenticator
	fn    func()
}

// listens reports whether anyone subscribed to kind (an internal call is
// always wanted).
func (ev *events) listens(kind eventKind) bool {
	switch kind {
	case evEncrypted:
		return !ev.encrypted.empty()
	case evSslErrors:
		return !ev.sslErrors.empty()
	case evPeerVerifyError:
		return !ev.peerVerifyError.empty()
	case evModeChanged:
		return !ev.modeChanged.empty()
	case evEncryptedBytesWritten:
		return !ev.encryptedBytesWritten.empty()
	case evHandshakeInterruptedOnError:
		return !ev.handshakeInterruptedOnError.empty()
	case evNewSessionTicketReceived:
		return !ev.newSessionTicketReceived.empty()
	case evAlertSent:
		return !ev.alertSent.empty()
	case evAlertReceived:
		return !ev.alertReceived.empty()
	case evPreSharedKeyAuthenticationRequired:
		return !ev.preSharedKeyAuthenticationRequired.empty()
	case evConnected:
		return !ev.connected.empty()
	case evDisconnected:
		return !ev.disconnected.empty()
	case evHostFound:
		return !ev.hostFound.empty()
	case evStateChanged:
		return !ev.stateChanged.empty()
	case evErrorOccurred:
		return !ev.errorOccurred.empty()
	case evReadyRead:
		return !ev.readyRead.empty()
	case evBytesWritten:
		return !ev.bytesWritten.empty()
	case evReadChannelFinished:
		return !ev.readChannelFinished.empty()
	}
	return true
}

// deliver calls ev's subscribers (those subscribed when it is delivered).
func (h *eventHub) deliver(ev *event) {
	e := &h.ev
	switch ev.kind {
	case evEncrypted:
		call0(&e.encrypted)
	case evSslErrors:
		call1(&e.sslErrors, ev.errs)
	case evPeerVerifyError:
		call1(&e.peerVerifyError, ev.err)
	case evModeChanged:
		call1(&e.modeChanged, SslMode(ev.n))
	case evEncryptedBytesWritten:
		call1(&e.encryptedBytesWritten, ev.n)
	case evHandshakeInterruptedOnError:
		call1(&e.handshakeInterruptedOnError, ev.err)
	case evNewSessionTicketReceived:
		call0(&e.newSessionTicketReceived)
	case evAlertSent:
		callAlert(&e.alertSent, ev)
	case evAlertReceived:
		callAlert(&e.alertReceived, ev)
	case evPreSharedKeyAuthenticationRequired:
		call1(&e.preSharedKeyAuthenticationRequired, ev.psk)
	case evConnected:
		call0(&e.connected)
	case evDisconnected:
		call0(&e.disconnected)
	case evHostFound:
		call0(&e.hostFound)
	case evStateChanged:
		call1(&e.stateChanged, SocketState(ev.n))
	case evErrorOccurred:
		call1(&e.errorOccurred, SocketError(ev.n))
	case evReadyRead:
		call0(&e.readyRead)
		if h.readyDone != nil {
			h.readyDone()
		}
	case evBytesWritten:
		call1(&e.bytesWritten, ev.n)
	case evReadChannelFinished:
		call0(&e.readChannelFinished)
	case evCall:
		ev.fn()
	}
}

func call0(h *handlers[func()]) {
	for _, s := range h.load() {
		s.fn()
	}
}

func call1[T any](h *handlers[func(T)], v T) {
	for _, s := range h.load() {
		s.fn(v)
	}
}

func callAlert(h *handlers[func(AlertLevel, AlertType, string)], ev *event) {
	for _, s := range h.load() {
		s.fn(ev.level, ev.alert, ev.desc)
	}
}

// emit posts ev if anyone listens.
func (h *eventHub) emit(ev event) {
	if h.ev.listens(ev.kind) {
		h.post(ev, nil)
	}
}

// emitSync delivers ev if anyone listens and returns after its handlers ran.
func (h *eventHub) emitSync(ev event) {
	if h.ev.listens(ev.kind) {
		h.send(ev)
	}
}

// eventHub is an owner's subscribers and the dispatcher that runs them. A
// Socket allocates its hub with the first subscription (most accepted
// connections never get one); an Engine holds one inline.
type eventHub struct {
	ev   events
	disp dispatcher
	// readyDone runs after each delivery of readyRead (a Socket counts
	// them for WaitForReadyRead); set when the hub is made.
	readyDone func()
	// inline: handlers run inside the call that raised the event (an
	// Engine's), not on a worker.
	inline bool
}

// hub returns the socket's event hub, or nil while nobody ever subscribed
// (then every event has no handler and nothing can be running one).
func (s *Socket) hub() *eventHub { return s.hubp.Load() }

// hubFor returns the socket's event hub, making it on first use.
func (s *Socket) hubFor() *eventHub {
	if h := s.hubp.Load(); h != nil {
		return h
	}
	s.hubp.CompareAndSwap(nil, (&eventHub{readyDone: s.readyReadDelivered}).init())
	return s.hubp.Load()
}

// inHandler reports whether the caller runs one of the socket's handlers.
func (s *Socket) inHandler() bool {
	h := s.hub()
	return h != nil && h.disp.inHandler()
}

// (inHandler may be called with s.mu held: dispatcher.mu nests inside it,
// and is never held while s.mu is taken.)

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

// OnModeChanged subscribes to modeChanged.
func (s *Socket) OnModeChanged(fn func(SslMode)) (remove func()) {
	return s.hubFor().ev.modeChanged.add(fn)
}

// OnEncryptedBytesWritten subscribes to encryptedBytesWritten: bytes of
// TLS records handed to the network. As in Qt, it is emitted after the
// write that sent them returned (on the socket's own goroutine), so a
// handler may write more; WaitForBytesWritten returns once it was.
func (s *Socket) OnEncryptedBytesWritten(fn func(int64)) (remove func()) {
	return s.hubFor().ev.encryptedBytesWritten.add(fn)
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

// OnBytesWritten subscribes to bytesWritten: plaintext bytes handed to
// TLS. As in Qt, it is emitted after the write returned (on the socket's
// own goroutine); WaitForBytesWritten returns once it was.
func (s *Socket) OnBytesWritten(fn func(int64)) (remove func()) {
	return s.hubFor().ev.bytesWritten.add(fn)
}

// OnReadChannelFinished subscribes to readChannelFinished: the peer will send no more.
func (s *Socket) OnReadChannelFinished(fn func()) (remove func()) {
	return s.subscribeLoopEvent(s.hubFor().ev.readChannelFinished.add(fn))
}

// emit posts ev on the socket's hub if anyone listens.
func (s *Socket) emit(ev event) {
	if h := s.hub(); h != nil {
		h.emit(ev)
	}
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
