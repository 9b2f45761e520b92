package ssl

import (
	"errors"
	"time"
)

// socketHooks connects a backend session to its socket.
type socketHooks struct{ s *Socket }

// errAbortedByHandler ends a handshake that an event handler aborted.
var errAbortedByHandler = errors.New("ssl: handshake aborted by the application")

// VerifyPeer applies Qt's verification policy (reference §5.4–5.6, §5.14):
// the problems are computed, each is emitted as peerVerifyError (or, with
// HandshakeMustInterruptOnError, as handshakeInterruptedOnError awaiting
// ContinueInterruptedHandshake), the list as sslErrors; then the handshake
// continues only if verification is optional for this side or the
// application ignored every error — or, with PauseOnSslErrors, once it
// calls Resume having ignored them.
func (h socketHooks) VerifyPeer(chain []Certificate, ocsp []byte) error {
	s := h.s
	s.mu.Lock()
	cfg := s.config
	server := s.mode == SslServerMode
	host := s.peerVerifyName
	if host == "" {
		host = s.hostName
	}
	s.peerChain = chain
	s.mu.Unlock()

	mode := cfg.PeerVerifyMode()
	doVerify := mode == VerifyPeer || (mode == AutoVerifyPeer && !server)
	var errs []Error
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
				return err
			}
			s.mu.Lock()
			s.ocspResponses = nil
			if resp != nil {
				s.ocspResponses = []OcspResponse{*resp}
			}
			s.mu.Unlock()
			// Qt's order: blacklist, OCSP, host name, chain.
			i := 0
			for i < len(errs) && errs[i].Code == CertificateBlacklisted {
				i++
			}
			errs = append(errs[:i], append(ocspErrs, errs[i:]...)...)
		}
	}

	if cfg.HandshakeMustInterruptOnError() {
		for _, e := range errs {
			if e.Code == HostNameMismatch || e.Code == CertificateBlacklisted || e.Code == NoPeerCertificate {
				continue // not chain errors: reported in sslErrors only
			}
			s.mu.Lock()
			s.continueInterr = false
			s.mu.Unlock()
			send1(&s.disp, &s.ev.handshakeInterruptedOnError, e)
			s.mu.Lock()
			cont, aborted := s.continueInterr, s.aborted
			s.mu.Unlock()
			if aborted || !cont {
				return &VerificationError{Errors: []Error{e}}
			}
		}
	} else {
		for _, e := range errs {
			send1(&s.disp, &s.ev.peerVerifyError, e)
			if s.abortedOrClosed() {
				return errAbortedByHandler
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	s.mu.Lock()
	s.sslErrors = errs
	s.mu.Unlock()
	send1(&s.disp, &s.ev.sslErrors, errs)
	if s.abortedOrClosed() {
		return errAbortedByHandler
	}
	if !doVerify || s.errorsIgnored(errs) {
		return nil
	}
	s.mu.Lock()
	if s.pauseMode&PauseOnSslErrors == 0 {
		s.mu.Unlock()
		return &VerificationError{Errors: errs}
	}
	s.paused = true
	s.cond.Broadcast()
	for s.paused && !s.aborted {
		s.cond.Wait()
	}
	aborted := s.aborted
	s.mu.Unlock()
	if aborted {
		return errAbortedByHandler
	}
	if s.errorsIgnored(errs) {
		return nil
	}
	return &VerificationError{Errors: errs}
}

func (s *Socket) abortedOrClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.aborted || s.state != ConnectedState
}

// errorsIgnored is Qt's verifyErrorsHaveBeenIgnored: with an ignore list,
// every error must be on it (code and certificate); otherwise the
// IgnoreSslErrors() flag decides.
func (s *Socket) errorsIgnored(errs []Error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ignoreList) > 0 {
		for _, e := range errs {
			if !ContainsError(s.ignoreList, e) {
				return false
			}
		}
		return true
	}
	return s.ignoreAll
}

// PreSharedKey reports that PSK is not available on the go backend; the
// openssl backend asks the application through preSharedKeyAuthenticationRequired.
func (h socketHooks) PreSharedKey(auth *PreSharedKeyAuthenticator) error {
	s := h.s
	send1(&s.disp, &s.ev.preSharedKeyAuthenticationRequired, auth)
	if len(auth.PreSharedKey()) == 0 {
		return errors.New("ssl: no pre-shared key provided")
	}
	return nil
}

// Alert emits alertSent or alertReceived.
func (h socketHooks) Alert(sent bool, level AlertLevel, typ AlertType, description string) {
	s := h.s
	if sent {
		emitAlert(&s.disp, &s.ev.alertSent, level, typ, description)
	} else {
		emitAlert(&s.disp, &s.ev.alertReceived, level, typ, description)
	}
}

// NewSessionTicket stores a resumable session unless persistence is disabled.
func (h socketHooks) NewSessionTicket(ticket []byte, lifetimeHint int) {
	s := h.s
	s.mu.Lock()
	if s.config.TestSslOption(SslOptionDisableSessionPersistence) {
		s.mu.Unlock()
		return
	}
	s.config.sessionTicket = append([]byte(nil), ticket...)
	s.config.ticketLifetimeHint, s.config.ticketHintSet = lifetimeHint, lifetimeHint >= 0
	encrypted := s.encrypted
	s.mu.Unlock()
	if encrypted { // TLS 1.3 tickets arrive after the handshake; Qt signals only those
		emit0(&s.disp, &s.ev.newSessionTicketReceived)
	}
}

// IgnoreSslErrors makes this connection's handshake continue despite any
// verification error. Like Qt, connecting (ConnectToHost*) resets it: call
// it after ConnectToHostEncrypted, or from an OnSslErrors handler.
func (s *Socket) IgnoreSslErrors() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignoreAll = true
}

// IgnoreSslErrorList makes the handshake continue only if every error that
// occurs is in list (same code and certificate): QSslSocket::ignoreSslErrors(list).
// It survives reconnection; an empty list clears it.
func (s *Socket) IgnoreSslErrorList(list []Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignoreList = append([]Error(nil), list...)
}

// SslHandshakeErrors returns the errors of the last handshake (kept after
// encrypted when they were ignored).
func (s *Socket) SslHandshakeErrors() []Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Error(nil), s.sslErrors...)
}

// ContinueInterruptedHandshake lets a handshake interrupted by
// handshakeInterruptedOnError go on; call it from that event's handler.
func (s *Socket) ContinueInterruptedHandshake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.continueInterr = true
}

// Resume continues a handshake paused by PauseOnSslErrors: it completes if
// the errors have been ignored meanwhile, and fails otherwise.
func (s *Socket) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused {
		s.paused = false
		s.cond.Broadcast()
	}
}

// OcspResponses returns the stapled OCSP response of the handshake, decoded
// (with OCSP stapling enabled on a client); empty when there was none.
func (s *Socket) OcspResponses() []OcspResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]OcspResponse(nil), s.ocspResponses...)
}
