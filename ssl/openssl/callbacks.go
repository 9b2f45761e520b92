//go:build cgo && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package openssl

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"runtime/cgo"
	"unsafe"

	"github.com/sslsocket/sslsocket/ssl"
)

// libssl's callbacks reach the engine through the cgo.Handle in the SSL's
// ex-data (shim.c). Each recovers a panic of the hook it calls, fails the
// libssl step, and leaves the panic for engine.do to re-raise once the C
// call has returned.

func engineOf(h C.uintptr_t) *engine { return cgo.Handle(h).Value().(*engine) }

// recoverHook stores a hook's panic and sets the callback's failure result.
func (e *engine) recoverHook(r *C.int, failure C.int) {
	if v := recover(); v != nil {
		e.panicked = v
		*r = failure
	}
}

// x509ErrorFor picks the X509_V_ERR code whose alert (libssl's
// ssl_x509err2alert) is the one the verification error names through an
// AlertType method; bad_certificate otherwise.
func x509ErrorFor(err error) int {
	var a interface{ AlertType() ssl.AlertType }
	if !errors.As(err, &a) {
		return x509ErrCertRejected
	}
	switch a.AlertType() {
	case ssl.AlertHandshakeFailure:
		return 50 // X509_V_ERR_APPLICATION_VERIFICATION
	case ssl.AlertUnsupportedCertificate:
		return 26 // X509_V_ERR_INVALID_PURPOSE
	case ssl.AlertCertificateRevoked:
		return 23 // X509_V_ERR_CERT_REVOKED
	case ssl.AlertCertificateExpired:
		return 10 // X509_V_ERR_CERT_HAS_EXPIRED
	case ssl.AlertCertificateUnknown:
		return 29 // X509_V_ERR_SUBJECT_ISSUER_MISMATCH (not in the table: certificate_unknown)
	case ssl.AlertUnknownCa:
		return 20 // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
	case ssl.AlertDecryptError:
		return 7 // X509_V_ERR_CERT_SIGNATURE_FAILURE
	case ssl.AlertInternalError:
		return 17 // X509_V_ERR_OUT_OF_MEM
	}
	return x509ErrCertRejected
}

// verifyResult applies VerifyPeer's answer inside a callback: 1 go on,
// 0 fail (with the alert the error names), -1 pause (clients in the
// certificate-verify callback only: SSL_set_retry_verify).
func (e *engine) verifyResult(err error, canPause bool) C.int {
	switch {
	case err == nil:
		e.decided = true
		return 1
	case errors.Is(err, ssl.ErrWantRetryVerify):
		if canPause && !e.server {
			return -1
		}
		e.pending = true // go on provisionally; the output is held
		return 1
	}
	e.hookErr = err
	C.shim_conn_set_x509_error(e.c, C.int(x509ErrorFor(err)))
	return 0
}

//export sslsockVerify
func sslsockVerify(h C.uintptr_t, stack *C.OPENSSL_STACK) (r C.int) {
	e := engineOf(h)
	defer e.recoverHook(&r, 0)
	chain, err := certificates(stack, nil)
	if err != nil {
		e.hookErr = err
		C.shim_conn_set_x509_error(e.c, x509ErrCertRejected)
		return 0
	}
	e.chain = chain
	if !e.server && e.ocsp && C.shim_conn_version(e.c) < tls13 {
		// TLS 1.2 sends the staple after the certificate: decide in the
		// status callback, which runs once the server's flight is in.
		e.deferred = true
		return 1
	}
	e.staple = e.ocspResponse()
	return e.verifyResult(e.hooks.VerifyPeer(e.chain, e.staple), true)
}

//export sslsockStatus
func sslsockStatus(h C.uintptr_t) (r C.int) {
	e := engineOf(h)
	defer e.recoverHook(&r, 0)
	if !e.deferred || e.decided || e.pending {
		return 1
	}
	e.deferred = false
	e.staple = e.ocspResponse()
	return e.verifyResult(e.hooks.VerifyPeer(e.chain, e.staple), false)
}

//export sslsockAlert
func sslsockAlert(h C.uintptr_t, write, level, desc C.int, text *C.char) {
	e := engineOf(h)
	var dummy C.int
	defer e.recoverHook(&dummy, 0)
	lvl := ssl.AlertLevelUnknown
	switch level {
	case 1: // SSL3_AL_WARNING
		lvl = ssl.AlertLevelWarning
	case 2: // SSL3_AL_FATAL
		lvl = ssl.AlertLevelFatal
	}
	e.hooks.Alert(write != 0, lvl, ssl.AlertType(desc), C.GoString(text))
}

//export sslsockNewSession
func sslsockNewSession(h C.uintptr_t, sess *C.SSL_SESSION) {
	e := engineOf(h)
	var dummy C.int
	defer e.recoverHook(&dummy, 0)
	if !e.persist || C.shim_session_resumable(sess) != 1 {
		return
	}
	n := C.shim_session_der(sess, nil, 0)
	if n <= 0 {
		return
	}
	der := make([]byte, n)
	if C.shim_session_der(sess, cbytes(der), n) != n {
		return
	}
	chain := e.chain
	if len(chain) == 0 {
		chain = e.offeredChain
	}
	e.hooks.NewSessionTicket(encodeTicket(der, chain), int(C.shim_session_lifetime_hint(sess)))
}

// pskAnswer is what a PSK callback makes of the hook's answer.
type pskAnswer int

const (
	pskFailed pskAnswer = iota // the handshake fails (e.hookErr says why when the hook did)
	pskSet                     // the credentials are in the shim
	pskNone                    // TLS 1.3 external PSK: no key; certificates go on
)

// askPreSharedKey runs the PSK hook and hands the credentials to the shim.
// For a TLS 1.3 external PSK (tls13), no key — ssl.ErrNoPreSharedKey, or
// no error and no key — is pskNone: Qt never asks for one there, and the
// handshake goes on as if nothing had been asked. For a TLS 1.2 PSK suite
// it fails the handshake, as in Qt.
func (e *engine) askPreSharedKey(auth *ssl.PreSharedKeyAuthenticator, maxID, maxKey int, tls13 bool) pskAnswer {
	err := e.hooks.PreSharedKey(auth)
	id, key := auth.Identity(), auth.PreSharedKey()
	switch {
	case err == nil && len(key) > 0:
	case tls13 && (err == nil || errors.Is(err, ssl.ErrNoPreSharedKey)):
		return pskNone
	case err != nil:
		e.hookErr = err
		return pskFailed
	default:
		return pskFailed
	}
	id, key = id[:min(len(id), maxID)], key[:min(len(key), maxKey)]
	if C.shim_conn_set_psk(e.c, cbytes(id), C.int(len(id)), cbytes(key), C.int(len(key))) != 1 {
		return pskFailed
	}
	return pskSet
}

//export sslsockPskClient
func sslsockPskClient(h C.uintptr_t, hint *C.char, maxID, maxKey C.int) (r C.int) {
	e := engineOf(h)
	defer e.recoverHook(&r, 0)
	var hintBytes []byte
	if hint != nil {
		hintBytes = []byte(C.GoString(hint))
	}
	auth := ssl.NewPreSharedKeyAuthenticator(hintBytes, nil, int(maxID), int(maxKey))
	if e.askPreSharedKey(auth, int(maxID), int(maxKey), false) != pskSet {
		if e.hookErr == nil {
			e.hookErr = errNoPreSharedKey
		}
		return 0
	}
	return 1
}

//export sslsockPskServer
func sslsockPskServer(h C.uintptr_t, identity *C.char, idLen, maxKey C.int) (r C.int) {
	e := engineOf(h)
	defer e.recoverHook(&r, 0)
	auth := ssl.NewPreSharedKeyAuthenticator(e.pskHint, C.GoBytes(unsafe.Pointer(identity), idLen), 0, int(maxKey))
	if e.askPreSharedKey(auth, 0, int(maxKey), false) != pskSet {
		return 0
	}
	return 1
}

// psk13Result is the answer of the TLS 1.3 external-PSK callbacks to the
// shim: 1 the key is set, 0 no key (offer / find no session: certificates
// go on), -1 fail the handshake.
func psk13Result(a pskAnswer) C.int {
	switch a {
	case pskSet:
		return 1
	case pskNone:
		return 0
	}
	return -1
}

//export sslsockPsk13Client
func sslsockPsk13Client(h C.uintptr_t) (r C.int) {
	e := engineOf(h)
	defer e.recoverHook(&r, -1)
	auth := ssl.NewPreSharedKeyAuthenticator(nil, nil, maxIdentityLength, maxPreSharedKeyLength)
	r = psk13Result(e.askPreSharedKey(auth, maxIdentityLength, maxPreSharedKeyLength, true))
	if r < 0 && e.hookErr == nil {
		e.hookErr = errNoPreSharedKey
	}
	return r
}

//export sslsockPsk13Server
func sslsockPsk13Server(h C.uintptr_t, identity *C.uchar, idLen C.int) (r C.int) {
	e := engineOf(h)
	defer e.recoverHook(&r, -1)
	auth := ssl.NewPreSharedKeyAuthenticator(e.pskHint, C.GoBytes(unsafe.Pointer(identity), idLen), 0, maxPreSharedKeyLength)
	return psk13Result(e.askPreSharedKey(auth, 0, maxPreSharedKeyLength, true))
}
