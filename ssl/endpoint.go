package ssl

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// endpoint is the per-connection policy Socket and Engine share: Qt's
// verification decision (reference §5.4–5.6, §5.14), ignore rules,
// pause/resume, interrupt/continue, PSK, and the events a backend's hooks
// raise. It implements SessionHooks. It holds no I/O object and never
// emits while holding its lock.
type endpoint struct {
	owner endpointOwner

	mu   sync.Mutex
	cond sync.Cond

	// Parameters of the handshake under way, set by begin. Guarded by mu.
	cfg          *Configuration // a snapshot shared with the owner; never modified
	host         string         // the name the peer's certificate must match
	pauseMode    PauseMode
	server       bool
	blockOnPause bool // Socket: a pause blocks the hook; Engine: ErrWantRetryVerify

	// Policy state. Guarded by mu. (The flags sit next to the ones above:
	// one word for all.)
	ignoreAll      bool // IgnoreSslErrors(): reset by a new connection (Qt's init)
	pending        bool // errors reported, decision awaited (pause)
	paused         bool // PauseOnSslErrors: waiting for Resume
	continueInterr bool
	aborted        bool // the owner ended the connection: stop deciding
	expired        bool // a Server's handshake timeout passed: a pause ends with it
	// A deferred decision (see VerifyPeer): deferDecisions is set by the
	// driver's owner before the handshake; stage passes between the core's
	// VerifyPeer and the driver's runDecision, with the errors in
	// sslErrors and the decision, once made, in failure (nil: go on).
	deferDecisions bool
	stage          decisionStage
	stageVerify    bool    // the errors are fatal unless ignored (doVerify)
	ignoreList     []Error // IgnoreSslErrorList: survives reconnection
	sslErrors      []Error // the current handshake's errors
	peerChain      []Certificate
	ocspResponses  []OcspResponse
	failure        error
}

// endpointOwner is what the endpoint needs from its Socket or Engine.
type endpointOwner interface {
	// stillOpen is false once the application aborted or closed the
	// connection (from a handler, typically): the handshake must stop.
	stillOpen() bool
	// storeTicket keeps a new session ticket; it reports whether
	// newSessionTicketReceived is due (Qt signals post-handshake tickets only).
	storeTicket(ticket []byte, lifetimeHint int) bool
	// hub is the owner's subscribers and dispatcher (handlers run one at
	// a time), nil while a socket has none; hubFor makes them if needed.
	hub() *eventHub
	hubFor() *eventHub
	// subscribeLoopEvent is told of a subscription to an event that only
	// a socket's read loop can raise after the handshake (alertReceived,
	// newSessionTicketReceived) and returns the function that removes it.
	subscribeLoopEvent(remove func()) func()
}

func newEndpoint(owner endpointOwner) *endpoint {
	e := new(endpoint)
	e.init(owner)
	return e
}

// init prepares an endpoint held inside its owner (a Socket: one
// allocation for both).
func (e *endpoint) init(owner endpointOwner) {
	e.owner = owner
	e.cond.L = &e.mu
}

// reset forgets the previous connection, as Qt's init() does:
// IgnoreSslErrors() is forgotten, IgnoreSslErrorList kept.
func (e *endpoint) reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ignoreAll, e.pending, e.paused, e.continueInterr, e.aborted, e.expired = false, false, false, false, false, false
	e.sslErrors, e.peerChain, e.ocspResponses, e.failure = nil, nil, nil, nil
	e.stage = decisionNone
}

// begin sets the parameters of a handshake.
func (e *endpoint) begin(cfg *Configuration, server bool, host string, pause PauseMode, blockOnPause bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cfg, e.server, e.host, e.pauseMode, e.blockOnPause = cfg, server, host, pause, blockOnPause
	e.aborted, e.expired = false, false
	e.deferDecisions = false
}

// setDeferDecisions makes VerifyPeer hand the decision to the driver (see
// VerifyPeer): for cores that call their hooks under the driver's lock.
func (e *endpoint) setDeferDecisions(on bool) {
	e.mu.Lock()
	e.deferDecisions = on
	e.mu.Unlock()
}

// verificationNeverRefuses reports whether this handshake's verification
// cannot refuse: a server whose policy never does (QueryPeer, VerifyNone:
// Qt's "errors never abort") and that does not interrupt on errors. With
// nobody listening to its events too, nothing observable depends on when
// it runs (SessionParams.VerificationCanWait): the go backend then
// verifies after the handshake and shares one crypto/tls configuration
// among a Server's connections.
func (e *endpoint) verificationNeverRefuses() bool {
	e.mu.Lock()
	cfg, server := e.cfg, e.server
	e.mu.Unlock()
	if !server || cfg == nil || cfg.HandshakeMustInterruptOnError() {
		return false
	}
	return cfg.PeerVerifyMode() != VerifyPeer
}

// hasDecisionSubscribers reports whether anyone listens to an event that
// a handshake decision emits (peerVerifyError, sslErrors,
// handshakeInterruptedOnError).
func (e *endpoint) hasDecisionSubscribers() bool {
	h := e.owner.hub()
	return h != nil && !(h.ev.sslErrors.empty() && h.ev.peerVerifyError.empty() && h.ev.handshakeInterruptedOnError.empty())
}

// setPauseMode changes where the handshake pauses.
func (e *endpoint) setPauseMode(m PauseMode) {
	e.mu.Lock()
	e.pauseMode = m
	e.mu.Unlock()
}

// abort ends any wait for a decision; later hooks fail the handshake.
func (e *endpoint) abort() {
	e.mu.Lock()
	e.aborted = true
	e.paused = false
	e.cond.Broadcast()
	e.mu.Unlock()
}

// expire ends a verification pause with the handshake timeout (a Server's
// sweeper: a paused handshake does no I/O that a deadline could end).
func (e *endpoint) expire() {
	e.mu.Lock()
	e.expired = true
	e.cond.Broadcast()
	e.mu.Unlock()
}

// errHandshakeTimeout is the cause of a Server handshake that outlived its
// timeout (QSslServer's SocketTimeoutError), and of a pause it ended (expire).
var errHandshakeTimeout = fmt.Errorf("ssl: the handshake timed out: %w", os.ErrDeadlineExceeded)

// errAbortedByHandler ends a handshake that an event handler aborted.
var errAbortedByHandler = errors.New("ssl: handshake aborted by the application")

// VerifyPeer applies Qt's verification policy: the problems are computed,
// each is emitted as peerVerifyError (or, with
// HandshakeMustInterruptOnError, as handshakeInterruptedOnError awaiting
// ContinueInterruptedHandshake), the list as sslErrors; then the handshake
// continues only if verification is optional for this side or the
// application ignored every error — or, with PauseOnSslErrors, once it
// calls Resume having ignored them.
//
// A driver that defers decisions (deferDecisions: the pumped engines and
// Engine, whose core calls this hook under their lock) gets
// ErrWantRetryVerify first when there is something to decide: it then
// calls runDecision with no lock held — the handlers run there — and
// retries the core, whose next VerifyPeer returns the decision.
func (e *endpoint) VerifyPeer(chain []Certificate, ocsp []byte) error {
	e.mu.Lock()
	switch {
	case e.pending:
		// Asked again after ErrWantRetryVerify while paused: the errors
		// were reported.
		errs := e.sslErrors
		e.mu.Unlock()
		return e.decide(errs)
	case e.stage == decisionAwaited:
		e.mu.Unlock()
		return ErrWantRetryVerify // the driver has not run the decision yet
	case e.stage == decisionMade:
		res := e.failure // the decision: nil to go on
		e.stage = decisionNone
		e.mu.Unlock()
		return res
	}
	deferring := e.deferDecisions
	e.mu.Unlock()

	errs, doVerify, err := e.check(chain, ocsp)
	if err != nil {
		return e.fail(err)
	}
	if len(errs) == 0 {
		return nil // nothing to emit, nothing to decide
	}
	if deferring {
		e.mu.Lock()
		e.stage, e.sslErrors, e.stageVerify = decisionAwaited, errs, doVerify
		e.mu.Unlock()
		return ErrWantRetryVerify
	}
	return e.applyPolicy(errs, doVerify)
}

// decisionStage is where a deferred verification decision stands.
type decisionStage uint8

const (
	decisionNone    decisionStage = iota
	decisionAwaited               // VerifyPeer found errors: the driver must run the decision
	decisionMade                  // the driver ran it: the next VerifyPeer returns it
)

// runDecision is the driver's half of a deferred decision: called with no
// lock held after the core returned ErrWantRetryVerify, it emits the
// verification events and applies the policy (a Socket waits here for
// Resume when paused). It reports whether the core should be retried at
// once; false when nothing was awaited (an Engine paused until Resume).
func (e *endpoint) runDecision() bool {
	e.mu.Lock()
	if e.stage != decisionAwaited {
		e.mu.Unlock()
		return false
	}
	errs, doVerify := e.sslErrors, e.stageVerify
	e.stage = decisionNone // running: a VerifyPeer meanwhile (none is expected) checks anew
	e.mu.Unlock()
	res := e.applyPolicy(errs, doVerify)
	if errors.Is(res, ErrWantRetryVerify) {
		return false // paused (an Engine): VerifyPeer answers through e.pending
	}
	if res != nil {
		e.fail(res) // (applyPolicy's failures are recorded already: the first one stays)
	}
	e.mu.Lock()
	e.stage = decisionMade
	e.mu.Unlock()
	return true
}

// check computes the problems with the peer's chain, and whether this
// side's mode makes them fatal.
func (e *endpoint) check(chain []Certificate, ocsp []byte) (errs []Error, doVerify bool, err error) {
	e.mu.Lock()
	cfg, server, host := e.cfg, e.server, e.host
	e.peerChain = chain
	e.mu.Unlock()

	mode := cfg.PeerVerifyMode()
	doVerify = mode == VerifyPeer || (mode == AutoVerifyPeer && !server)
	switch {
	case mode == VerifyNone:
		for _, c := range chain { // the blacklist is checked whatever the mode
			if c.IsBlacklisted() {
				errs = append(errs, NewError(CertificateBlacklisted, c))
			}
		}
	case len(chain) == 0:
		if doVerify {
			errs = append(errs, NewError(NoPeerCertificate, Certificate{}))
		}
	default:
		opts := VerifyOptions{Roots: cfg.trustAnchors(), Depth: cfg.PeerVerifyDepth(), Purpose: PurposeServerAuth}
		if opts.Roots == nil {
			opts.Roots = []Certificate{}
		}
		if server {
			opts.Purpose = PurposeClientAuth
		} else {
			opts.HostName = host
		}
		errs = VerifyChain(chain, opts)
		if !server && doVerify && cfg.OcspStaplingEnabled() {
			ocspErrs, resp, err := checkOcsp(ocsp, chain, opts.Roots, time.Now())
			if err != nil {
				return nil, false, err
			}
			e.mu.Lock()
			e.ocspResponses = nil
			if resp != nil {
				e.ocspResponses = []OcspResponse{*resp}
			}
			e.mu.Unlock()
			// Qt's order: blacklist, OCSP, host name, chain.
			i := 0
			for i < len(errs) && errs[i].Code == CertificateBlacklisted {
				i++
			}
			errs = append(errs[:i], append(ocspErrs, errs[i:]...)...)
		}
	}
	return errs, doVerify, nil
}

// applyPolicy emits the verification events for errs and decides: nil to
// go on, ErrWantRetryVerify while paused (an Engine), else the failure.
func (e *endpoint) applyPolicy(errs []Error, doVerify bool) error {
	e.mu.Lock()
	cfg := e.cfg
	e.mu.Unlock()
	if cfg.HandshakeMustInterruptOnError() {
		for _, er := range peerVerifyErrorOrder(errs) {
			if !fromVerifyCallback(er) { // Qt's own checks: emitted, never interrupting
				e.send(event{kind: evPeerVerifyError, err: er})
				if !e.open() {
					return e.fail(errAbortedByHandler)
				}
				continue
			}
			e.mu.Lock()
			e.continueInterr = false
			e.mu.Unlock()
			e.send(event{kind: evHandshakeInterruptedOnError, err: er})
			e.mu.Lock()
			cont := e.continueInterr
			e.mu.Unlock()
			if !cont || !e.open() {
				return e.fail(&VerificationError{Errors: []Error{er}})
			}
		}
	} else {
		for _, er := range peerVerifyErrorOrder(errs) {
			e.send(event{kind: evPeerVerifyError, err: er})
			if !e.open() {
				return e.fail(errAbortedByHandler)
			}
		}
	}
	e.mu.Lock()
	e.sslErrors = errs
	e.mu.Unlock()
	e.send(event{kind: evSslErrors, errs: errs})
	if !e.open() {
		return e.fail(errAbortedByHandler)
	}
	if !doVerify || e.ignored(errs) {
		return nil
	}
	e.mu.Lock()
	// Qt reads pauseMode() here, after emitting sslErrors: a handler may set it.
	if e.pauseMode&PauseOnSslErrors == 0 {
		e.mu.Unlock()
		return e.fail(&VerificationError{Errors: errs})
	}
	e.pending, e.paused = true, true
	e.cond.Broadcast()
	e.mu.Unlock()
	return e.decide(errs)
}

// decide settles a paused verification: ErrWantRetryVerify while the
// application has not called Resume (an Engine), or waits for it (a Socket).
func (e *endpoint) decide(errs []Error) error {
	e.mu.Lock()
	for e.paused && !e.aborted && !e.expired && e.blockOnPause {
		e.cond.Wait()
	}
	if e.expired && e.paused && !e.aborted {
		e.pending, e.paused = false, false
		e.mu.Unlock()
		return e.fail(errHandshakeTimeout)
	}
	if e.paused && !e.aborted {
		e.mu.Unlock()
		return ErrWantRetryVerify
	}
	e.pending = false
	aborted := e.aborted
	e.mu.Unlock()
	if aborted || !e.open() {
		return e.fail(errAbortedByHandler)
	}
	if e.ignored(errs) {
		return nil
	}
	return e.fail(&VerificationError{Errors: errs})
}

// open asks the owner, without holding mu, whether to go on.
func (e *endpoint) open() bool {
	e.mu.Lock()
	aborted := e.aborted
	e.mu.Unlock()
	return !aborted && e.owner.stillOpen()
}

// fail records the error that ends the handshake and returns it.
func (e *endpoint) fail(err error) error {
	e.mu.Lock()
	if e.failure == nil {
		e.failure = err
	}
	e.mu.Unlock()
	return err
}

// verificationFailure is the error VerifyPeer ended the handshake with, if any.
func (e *endpoint) verificationFailure() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failure
}

// ignored is Qt's verifyErrorsHaveBeenIgnored: with an ignore list, every
// error must be on it (code and certificate); otherwise the
// IgnoreSslErrors() flag decides.
func (e *endpoint) ignored(errs []Error) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.ignoreList) > 0 {
		for _, er := range errs {
			if !ContainsError(e.ignoreList, er) {
				return false
			}
		}
		return true
	}
	return e.ignoreAll
}

// WantsPreSharedKey tells a backend whether to offer (client) or look up
// (server) a TLS 1.3 external PSK: only when the application listens to
// preSharedKeyAuthenticationRequired, so that no ordinary TLS 1.3
// connection asks for a key.
func (e *endpoint) WantsPreSharedKey() bool {
	h := e.owner.hub()
	return h != nil && !h.ev.preSharedKeyAuthenticationRequired.empty()
}

// send delivers a decision-point event through the owner's hub, if it
// has one, and returns once its handlers ran.
func (e *endpoint) send(ev event) {
	if h := e.owner.hub(); h != nil {
		h.emitSync(ev)
	}
}

// PreSharedKey asks the application through preSharedKeyAuthenticationRequired.
func (e *endpoint) PreSharedKey(auth *PreSharedKeyAuthenticator) error {
	e.send(event{kind: evPreSharedKeyAuthenticationRequired, psk: auth})
	if len(auth.PreSharedKey()) == 0 {
		return ErrNoPreSharedKey
	}
	return nil
}

// Alert emits alertSent or alertReceived.
func (e *endpoint) Alert(sent bool, level AlertLevel, typ AlertType, description string) {
	hub := e.owner.hub()
	if hub == nil {
		return
	}
	ev := event{kind: evAlertReceived, level: level, alert: typ, desc: description}
	if sent {
		ev.kind = evAlertSent
	}
	if !hub.ev.listens(ev.kind) {
		return
	}
	// Raised inside the backend's call (crypto/tls holds its locks, a
	// pump its core's): handed to the socket's worker, never run here.
	hub.postAsync(ev)
}

// NewSessionTicket hands the ticket to the owner and signals it.
func (e *endpoint) NewSessionTicket(ticket []byte, lifetimeHint int) {
	if e.owner.storeTicket(ticket, lifetimeHint) {
		if hub := e.owner.hub(); hub != nil && !hub.ev.newSessionTicketReceived.empty() {
			hub.postAsync(event{kind: evNewSessionTicketReceived}) // as Alert: never inside the backend's call
		}
	}
}

// --- the application's side ----------------------------------------------

func (e *endpoint) ignoreAllErrors() {
	e.mu.Lock()
	e.ignoreAll = true
	e.mu.Unlock()
}

func (e *endpoint) setIgnoreList(list []Error) {
	e.mu.Lock()
	e.ignoreList = append([]Error(nil), list...)
	e.mu.Unlock()
}

func (e *endpoint) handshakeErrors() []Error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Error(nil), e.sslErrors...)
}

func (e *endpoint) continueInterrupted() {
	e.mu.Lock()
	e.continueInterr = true
	e.mu.Unlock()
}

// resume ends a pause; it reports whether the handshake was paused.
func (e *endpoint) resume() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.paused {
		return false
	}
	e.paused = false
	e.cond.Broadcast()
	return true
}

func (e *endpoint) peerCertificates() []Certificate {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.peerChain
}

func (e *endpoint) setPeerCertificates(chain []Certificate) {
	e.mu.Lock()
	e.peerChain = chain
	e.mu.Unlock()
}

func (e *endpoint) ocsp() []OcspResponse {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]OcspResponse(nil), e.ocspResponses...)
}
