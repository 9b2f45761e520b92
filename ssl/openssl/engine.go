//go:build cgo && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package openssl

/*
#cgo noescape shim_buf_reserve
#cgo nocallback shim_buf_reserve
#include "shim.h"
*/
import "C"

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"runtime/cgo"
	"unsafe"

	"github.com/sslsocket/sslsocket/ssl"
)

// SSL_get_error values (<openssl/ssl.h> of 3.0).
const (
	sslErrorNone            = 0  // SSL_ERROR_NONE
	sslErrorWantRead        = 2  // SSL_ERROR_WANT_READ
	sslErrorWantWrite       = 3  // SSL_ERROR_WANT_WRITE
	sslErrorZeroReturn      = 6  // SSL_ERROR_ZERO_RETURN
	sslErrorWantRetryVerify = 12 // SSL_ERROR_WANT_RETRY_VERIFY
)

// SSL_set_verify modes.
const (
	verifyNone              = 0x00 // SSL_VERIFY_NONE
	verifyPeer              = 0x01 // SSL_VERIFY_PEER
	verifyFailIfNoPeerCert  = 0x02 // SSL_VERIFY_FAIL_IF_NO_PEER_CERT
	x509ErrCertRejected     = 28   // X509_V_ERR_CERT_REJECTED: bad_certificate
	maxIdentityLength       = 256  // PSK_MAX_IDENTITY_LEN
	maxPreSharedKeyLength   = 512  // PSK_MAX_PSK_LEN
	maxCertificateChainSize = 64
)

// engine is one TLS endpoint: an SSL object over two in-memory BIOs, the
// seed's SSL_connect model, each BIO over a plain C buffer (shim_buf) that
// Feed and TakeOutput fill and drain without calling C. It implements the
// backend contract's EngineCore: the owner feeds received ciphertext, takes
// ciphertext to send and calls Handshake / Read / Write, which never block
// and return ssl.ErrWantRead / ssl.ErrWantWrite as SSL_get_error says.
//
// Not safe for concurrent use: the owner makes one call at a time. Hooks
// run synchronously inside Handshake and Read (and, for the alerts they
// send, Write and Shutdown), on the calling goroutine, from libssl's
// callbacks; they find the engine through the cgo.Handle stored in the
// SSL's ex-data, and C keeps no Go pointer.
type engine struct {
	// Constant after newEngine.
	c       *C.shim_conn
	h       cgo.Handle
	hooks   ssl.SessionHooks
	server  bool
	ocsp    bool   // client: a stapled OCSP response was asked for
	persist bool   // client: sessions go to hooks.NewSessionTicket
	pskHint []byte // server: the identity hint, for the authenticator
	// offeredChain is the chain stored with the session offered for
	// resumption; a resumed handshake is verified on it again.
	offeredChain []ssl.Certificate
	// ticketKeys: a server's own session ticket keys (ticketkeys.go).
	ticketKeys ssl.TicketKeySource

	// ticketKeyID identifies the ticket key of a resumed session: on a
	// server the key that opened it (set in the ticket key callback), on a
	// client the one named in the ticket offered.
	ticketKeyID string

	// The handshake's verification. VerifyPeer is asked exactly once per
	// handshake (again while it answers ssl.ErrWantRetryVerify), where both the
	// chain and the staple are known: the certificate-verify callback; for
	// a TLS 1.2 client asking for OCSP, the status callback (the staple
	// comes after the certificate); when neither ran (resumption, PSK, a
	// server that received no certificate), at the end of the handshake.
	chain    []ssl.Certificate
	staple   []byte
	decided  bool // VerifyPeer accepted
	deferred bool // the decision waits for the status callback
	// pending: VerifyPeer has not decided yet and libssl went on
	// provisionally (servers cannot pause in the verify callback, and
	// nothing can in the status callback or after the handshake). The
	// output is held until the decision; a rejection then discards it.
	pending bool

	// The buffers under the read and write BIOs (C memory, inside c).
	in, out *C.shim_buf

	// readIdle: after the last operation a read wants more input for sure
	// (shim_result.read_idle) and none was fed since, so Read answers
	// ssl.ErrWantRead without a call into libssl — the read that follows
	// every record an event loop handles.
	readIdle bool

	tlsDone      bool  // SSL_do_handshake returned 1
	done         bool  // handshake complete and accepted
	shutdownSent bool  // close_notify queued
	eof          bool  // FeedEOF was called
	closed       bool  // Close was called
	err          error // latched fatal error
	hookErr      error // the error a hook failed the handshake with
	panicked     any   // a panic recovered in a callback, re-raised after the C call
}

// errNoPreSharedKey fails a TLS 1.2 PSK handshake when the application
// gave no key (and its hook no error).
var errNoPreSharedKey = ssl.ErrNoPreSharedKey

// newEngine prepares the engine of one endpoint.
func newEngine(p ssl.SessionParams) (*engine, error) {
	if loadErr != nil {
		return nil, fmt.Errorf("%w: %v", ssl.ErrUnsupported, loadErr)
	}
	if p.Hooks == nil {
		return nil, invalidUserData("no session hooks")
	}
	cfg := p.Config
	e := &engine{hooks: p.Hooks, server: p.Server}
	var session []byte
	if !p.Server && !cfg.TestSslOption(ssl.SslOptionDisableSessionPersistence) &&
		!cfg.TestSslOption(ssl.SslOptionDisableSessionTickets) {
		e.persist = true
		if t := cfg.SessionTicket(); len(t) > 0 {
			sess, chain, err := decodeTicket(t)
			if err != nil {
				return nil, invalidUserData("Invalid session ticket: " + err.Error())
			}
			session, e.offeredChain = sess, chain
			e.ticketKeyID = offeredTicketKeyID(sess)
		}
	}
	if p.Server {
		e.ticketKeys = cfg.SessionTicketKeys()
	}
	if err := e.init(p, session); err != nil {
		return nil, err
	}
	return e, nil
}

// init creates the SSL object and applies the per-connection settings.
func (e *engine) init(p ssl.SessionParams, session []byte) (err error) {
	cfg := p.Config
	ctx, err := contextFor(p)
	if err != nil {
		return err
	}
	e.h = cgo.NewHandle(e)
	var ce C.shim_err
	server := C.int(0)
	if p.Server {
		server = 1
	}
	e.c = C.shim_conn_new(ctx, server, C.uintptr_t(e.h), C.size_t(ssl.MaxPendingOutput), &ce)
	C.shim_ctx_free(ctx) // the SSL holds its own reference
	if e.c == nil {
		e.h.Delete()
		return errorFrom("SSL_new", &ce)
	}
	e.in, e.out = C.shim_conn_in(e.c), C.shim_conn_out(e.c)
	defer func() {
		if err != nil {
			e.Close()
		}
	}()

	mode := verifyPeer // clients always verify: the hook decides, even for VerifyNone
	if p.Server {
		switch {
		case cfg.PeerVerifyMode() == ssl.VerifyNone:
			mode = verifyNone
		case cfg.PeerVerifyMode() == ssl.VerifyPeer && cfg.MissingCertificateIsFatal():
			mode = verifyPeer | verifyFailIfNoPeerCert
		}
	}
	C.shim_conn_set_verify(e.c, C.int(mode))

	if !p.Server && p.ServerName != "" {
		name := append([]byte(p.ServerName), 0)
		if C.shim_conn_set_server_name(e.c, (*C.char)(unsafe.Pointer(&name[0])), &ce) == 0 {
			return invalidUserData("Invalid server name " + p.ServerName + " (" + errorFrom("", &ce).Error() + ")")
		}
	}
	if protos := cfg.AllowedNextProtocols(); len(protos) > 0 {
		var wire []byte
		for _, proto := range protos {
			wire = append(append(wire, byte(len(proto))), proto...)
		}
		if len(wire) > 0xffff {
			return invalidUserData("The ALPN protocol list is too long")
		}
		if p.Server {
			if C.shim_conn_set_alpn_server(e.c, cbytes(wire), C.int(len(wire))) == 0 {
				return invalidUserData("out of memory")
			}
		} else if C.shim_conn_set_alpn_client(e.c, cbytes(wire), C.int(len(wire)), &ce) == 0 {
			return invalidUserData("Error when setting the ALPN protocols (" + errorFrom("", &ce).Error() + ")")
		}
	}
	if p.Server {
		e.pskHint = cfg.PreSharedKeyIdentityHint()
		if staple := cfg.OcspStaple(); len(staple) > 0 {
			if C.shim_conn_set_staple(e.c, cbytes(staple), C.int(len(staple))) == 0 {
				return invalidUserData("out of memory")
			}
		}
	} else if cfg.OcspStaplingEnabled() {
		e.ocsp = true
		if C.shim_conn_request_ocsp(e.c, &ce) == 0 {
			return invalidUserData("Cannot request OCSP stapling (" + errorFrom("", &ce).Error() + ")")
		}
	}
	if len(session) > 0 {
		if C.shim_conn_set_session(e.c, cbytes(session), C.int(len(session)), &ce) == 0 {
			return invalidUserData("Invalid session ticket: " + errorFrom("", &ce).Error())
		}
	}
	if p.WantsPreSharedKey {
		C.shim_conn_set_psk13(e.c, 1)
	}
	return nil
}

// do runs one operation, re-raising a panic a hook raised inside it.
func (e *engine) do(op C.int, p []byte) (int, int) {
	var ptr *C.uchar
	if len(p) > 0 {
		ptr = (*C.uchar)(unsafe.Pointer(&p[0]))
	}
	r := C.shim_do(e.c, op, ptr, C.size_t(len(p)))
	e.readIdle = r.read_idle != 0
	if v := e.panicked; v != nil {
		e.panicked = nil
		panic(v)
	}
	return int(r.n), int(r.code)
}

// fail turns SSL_get_error's answer into the operation's error, latching
// fatal ones.
func (e *engine) fail(op string, code int) error {
	switch code {
	case sslErrorWantRead:
		return ssl.ErrWantRead
	case sslErrorWantWrite:
		return ssl.ErrWantWrite
	case sslErrorWantRetryVerify:
		return ssl.ErrWantRetryVerify
	}
	oe := errorFrom(op, C.shim_conn_err(e.c))
	var err error = oe
	switch {
	case e.hookErr != nil:
		err = e.hookErr
	case code == sslErrorZeroReturn:
		oe.Text, oe.cause = "ssl/openssl: the peer closed the connection during the handshake", io.EOF
	}
	e.err = err
	return err
}

// ended latches the end of the input without close_notify: during the
// handshake an error matching io.EOF (the remote host closed the
// connection), after it ssl.ErrUncleanShutdown (a truncation).
func (e *engine) ended(op string) error {
	if op == "read" {
		e.err = ssl.ErrUncleanShutdown
	} else {
		e.err = &Error{Op: op, Text: "ssl/openssl: the connection ended during the handshake", cause: io.EOF}
	}
	return e.err
}

// errOutOfMemory latches an engine whose input buffer could not grow.
var errOutOfMemory = &Error{Op: "feed", Text: "ssl/openssl: out of memory for the received data"}

// Feed copies received ciphertext into the read BIO's buffer.
func (e *engine) Feed(p []byte) {
	if e.closed || len(p) == 0 {
		return
	}
	b := e.in
	if uint64(b.cap-b.w) < uint64(len(p)) && C.shim_buf_reserve(b, C.size_t(len(p))) == 0 {
		if e.err == nil {
			e.err = errOutOfMemory
		}
		return
	}
	copy(unsafe.Slice((*byte)(unsafe.Pointer(b.p)), b.cap)[b.w:], p)
	b.w += C.size_t(len(p))
	e.readIdle = false
}

// FeedEOF records that the transport ended. libssl is not told (its
// memory BIO keeps answering "retry"): told, OpenSSL 3 would answer an
// unexpected EOF with a decode_error alert nobody can receive, which Qt
// never shows since its BIO never sees the end either. Instead, once libssl
// wants more input than there is, Handshake and Read end the connection.
func (e *engine) FeedEOF() {
	if e.closed {
		return
	}
	e.eof = true
}

// BufferedInput is the ciphertext in the read BIO not yet consumed by libssl.
func (e *engine) BufferedInput() int {
	if e.closed {
		return 0
	}
	return int(e.in.w - e.in.r)
}

// PendingOutput is the ciphertext in the write BIO (none while the output
// is held for a pending verification decision).
func (e *engine) PendingOutput() int {
	if e.closed || e.pending {
		return 0
	}
	return int(e.out.w - e.out.r)
}

// TakeOutput moves pending ciphertext into p.
func (e *engine) TakeOutput(p []byte) int {
	if e.closed || e.pending || len(p) == 0 {
		return 0
	}
	b := e.out
	n := copy(p, unsafe.Slice((*byte)(unsafe.Pointer(b.p)), b.cap)[b.r:b.w])
	b.r += C.size_t(n)
	if b.r == b.w {
		b.r, b.w = 0, 0
	}
	return n
}

// Handshake advances the handshake (SSL_do_handshake).
func (e *engine) Handshake() error {
	switch {
	case e.closed:
		return errClosed
	case e.err != nil:
		return e.err
	case e.done:
		return nil
	}
	if e.pending {
		if err := e.decide(); err != nil {
			return err
		}
		if e.tlsDone {
			e.done = true
			return nil
		}
	}
	_, code := e.do(C.SHIM_HANDSHAKE, nil)
	if code != sslErrorNone {
		switch {
		case code == sslErrorWantRead && e.pending:
			return ssl.ErrWantRetryVerify
		case code == sslErrorWantRead && e.eof:
			return e.ended("handshake")
		}
		return e.fail("handshake", code)
	}
	e.tlsDone = true
	if !e.decided && !e.pending {
		// Nothing was verified during this handshake: decide on what the
		// session holds (the certificates of a resumed session, or none).
		e.chain = e.sessionChain()
		e.staple = e.ocspResponse()
		e.pending = true
		if err := e.decide(); err != nil {
			return err
		}
	}
	if e.pending {
		return ssl.ErrWantRetryVerify
	}
	e.done = true
	return nil
}

// decide asks VerifyPeer about a provisionally accepted peer.
func (e *engine) decide() error {
	err := e.hooks.VerifyPeer(e.chain, e.staple)
	switch {
	case err == nil:
		e.pending, e.decided = false, true
		return nil
	case errors.Is(err, ssl.ErrWantRetryVerify):
		return ssl.ErrWantRetryVerify
	}
	// libssl went on already: no alert can be sent any more. Drop what it
	// wrote after the provisional acceptance (a server's Finished or
	// tickets, a client's second flight): the peer sees the connection end.
	e.out.r, e.out.w = 0, 0
	e.pending = false
	e.err = err
	return err
}

// begin completes the handshake before Read and Write, as SSL_read and
// SSL_write do, and reports why they cannot go on.
func (e *engine) begin() error {
	switch {
	case e.closed:
		return errClosed
	case e.err != nil:
		return e.err
	case !e.done:
		return e.Handshake()
	}
	return nil
}

// Read decrypts application data (SSL_read_ex).
func (e *engine) Read(p []byte) (int, error) {
	if err := e.begin(); err != nil || len(p) == 0 {
		return 0, err
	}
	if e.readIdle { // what SSL_read_ex would answer, without calling it
		if e.eof {
			return 0, e.ended("read")
		}
		return 0, ssl.ErrWantRead
	}
	return e.readLibssl(p)
}

// readLibssl is Read's call into libssl.
func (e *engine) readLibssl(p []byte) (int, error) {
	n, code := e.do(C.SHIM_READ, p)
	switch {
	case code == sslErrorNone:
		return n, nil
	case code == sslErrorZeroReturn:
		return 0, io.EOF
	case code == sslErrorWantRead && e.eof:
		return 0, e.ended("read")
	}
	return 0, e.fail("read", code)
}

// Write encrypts p into records of at most 16 KiB while the pending output
// stays within ssl.MaxPendingOutput.
func (e *engine) Write(p []byte) (int, error) {
	if err := e.begin(); err != nil || len(p) == 0 {
		return 0, err
	}
	n, code := e.do(C.SHIM_WRITE, p)
	switch code {
	case sslErrorNone:
		return n, nil
	case sslErrorWantWrite:
		return n, ssl.ErrWantWrite
	}
	return n, e.fail("write", code)
}

// Shutdown queues close_notify (SSL_shutdown), once.
func (e *engine) Shutdown() error {
	switch {
	case e.closed:
		return errClosed
	case e.err != nil:
		return e.err
	case e.shutdownSent:
		return nil
	case !e.done:
		return &Error{Op: "shutdown", Text: "ssl/openssl: shutdown before the handshake completed"}
	}
	_, code := e.do(C.SHIM_SHUTDOWN, nil)
	if code != sslErrorNone {
		// Not latched: the session itself is not broken.
		return errorFrom("shutdown", C.shim_conn_err(e.c))
	}
	e.shutdownSent = true
	return nil
}

// Close frees the SSL object (and with it both BIOs).
func (e *engine) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	C.shim_conn_free(e.c)
	e.c, e.in, e.out = nil, nil, nil
	e.h.Delete()
	return nil
}

// State describes the session as libssl negotiated it.
func (e *engine) State() ssl.SessionState {
	if e.closed {
		return ssl.SessionState{}
	}
	st := ssl.SessionState{
		Version:      uint16(C.shim_conn_version(e.c)),
		Cipher:       ssl.CipherFromID(uint16(C.shim_conn_cipher_id(e.c))),
		Resumed:      C.shim_conn_session_reused(e.c) == 1,
		OCSPResponse: e.ocspResponse(),
	}
	if st.Resumed {
		st.TicketKeyID = e.ticketKeyID
	}
	if e.tlsDone || e.decided || e.pending {
		st.PeerChain = e.chain
	}
	if st.PeerChain == nil {
		st.PeerChain = e.sessionChain()
	}
	var alpn *C.uchar
	if n := C.shim_conn_alpn_selected(e.c, &alpn); n > 0 {
		st.ALPN = string(C.GoBytes(unsafe.Pointer(alpn), n))
		st.ALPNStatus = ssl.NextProtocolNegotiationNegotiated
	} else if e.server && C.shim_conn_alpn_no_overlap(e.c) == 1 {
		// The handshake failed (no_application_protocol); as the go
		// backend, the state says Unsupported, with http/1.1.
		st.ALPNStatus, st.ALPN = ssl.NextProtocolNegotiationUnsupported, ssl.NextProtocolHttp1_1
	}
	st.KeyExchangeGroup = groupFromNID(int(C.shim_conn_negotiated_group(e.c)))
	if e.server {
		if name := C.shim_conn_server_name(e.c); name != nil {
			st.ServerName = C.GoString(name)
		}
	} else {
		st.EphemeralKey = e.ephemeralKey()
	}
	return st
}

// ocspResponse is the staple a client received (nil on servers).
func (e *engine) ocspResponse() []byte {
	if e.server || !e.ocsp {
		return nil
	}
	var p *C.uchar
	n := C.shim_conn_ocsp_response(e.c, &p)
	if n <= 0 || p == nil {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(p), n)
}

// sessionChain is the peer's chain as the session holds it: leaf first.
func (e *engine) sessionChain() []ssl.Certificate {
	if !e.server && len(e.offeredChain) > 0 && C.shim_conn_session_reused(e.c) == 1 {
		return e.offeredChain
	}
	var stack *C.OPENSSL_STACK
	var leaf unsafe.Pointer
	C.shim_conn_peer_chain(e.c, &stack, &leaf)
	chain, err := certificates(stack, leaf)
	if err != nil {
		return nil
	}
	return chain
}

// ephemeralKey is the server's key-exchange key (SSL_get_peer_tmp_key):
// X25519 and the NIST curves as crypto keys, from the encoded point (cheap);
// the others — finite-field DH (Dh, the prime's size), X448 (Opaque, as Qt
// reports X25519 and X448), EC curves crypto/ecdsa lacks (Ec) — as their
// SubjectPublicKeyInfo DER (ssl.NewEncodedPublicKey).
func (e *engine) ephemeralKey() ssl.Key {
	var group C.int
	var buf [160]byte
	n := C.shim_conn_peer_tmp_key(e.c, &group, cbytes(buf[:]), C.int(len(buf)))
	if n <= 0 {
		return e.encodedEphemeralKey()
	}
	pub := buf[:n]
	var k any
	var err error
	switch group {
	case 1034: // NID_X25519
		k, err = ecdh.X25519().NewPublicKey(pub)
	case 415: // NID_X9_62_prime256v1
		k, err = ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pub)
	case 715: // NID_secp384r1
		k, err = ecdsa.ParseUncompressedPublicKey(elliptic.P384(), pub)
	case 716: // NID_secp521r1
		k, err = ecdsa.ParseUncompressedPublicKey(elliptic.P521(), pub)
	default:
		return e.encodedEphemeralKey()
	}
	if err != nil {
		return ssl.Key{}
	}
	return ssl.NewKey(k)
}

// EVP_PKEY_get_base_id values.
const (
	evpPkeyDH = 28  // EVP_PKEY_DH
	evpPkeyEC = 408 // EVP_PKEY_EC
)

// encodedEphemeralKey is the server's key-exchange key for the groups Go has
// no type for.
func (e *engine) encodedEphemeralKey() ssl.Key {
	var typ, bits C.int
	n := C.shim_conn_peer_tmp_key_spki(e.c, &typ, &bits, nil, 0)
	if n <= 0 || n > 1<<16 {
		return ssl.Key{}
	}
	der := make([]byte, n)
	if C.shim_conn_peer_tmp_key_spki(e.c, &typ, &bits, cbytes(der), n) != n {
		return ssl.Key{}
	}
	alg := ssl.Opaque
	switch typ {
	case evpPkeyDH:
		alg = ssl.Dh
	case evpPkeyEC:
		alg = ssl.Ec
	}
	k, err := ssl.NewEncodedPublicKey(der, alg, int(bits))
	if err != nil {
		return ssl.Key{}
	}
	return k
}

// certificates converts the DER of the certificates in stack (after leaf,
// when not nil) to Certificates. libssl parsed them already; crypto/x509
// is stricter, and a certificate it cannot parse fails verification.
func certificates(stack *C.OPENSSL_STACK, leaf unsafe.Pointer) ([]ssl.Certificate, error) {
	n := int(C.shim_stack_num(stack))
	if n > maxCertificateChainSize {
		return nil, fmt.Errorf("ssl/openssl: the peer sent %d certificates", n)
	}
	var chain []ssl.Certificate
	var leafDER []byte
	add := func(der []byte) error {
		x, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("ssl/openssl: peer certificate %d: %w", len(chain), err)
		}
		chain = append(chain, ssl.NewCertificate(x))
		return nil
	}
	if leaf != nil {
		leafDER = make([]byte, C.shim_x509_der(leaf, nil, 0))
		if len(leafDER) > 0 {
			C.shim_x509_der(leaf, cbytes(leafDER), C.int(len(leafDER)))
			if err := add(leafDER); err != nil {
				return nil, err
			}
		}
	}
	for i := 0; i < n; i++ {
		der := make([]byte, C.shim_stack_der(stack, C.int(i), nil, 0))
		if len(der) == 0 {
			continue
		}
		C.shim_stack_der(stack, C.int(i), cbytes(der), C.int(len(der)))
		if i == 0 && leafDER != nil && string(der) == string(leafDER) {
			continue
		}
		if err := add(der); err != nil {
			return nil, err
		}
	}
	return chain, nil
}

// cipherName is libssl's name of the negotiated suite (also for suites
// package ssl has no Cipher for, such as the PSK ones).
func (e *engine) cipherName() string {
	if e.closed {
		return ""
	}
	if n := C.shim_conn_cipher_name(e.c); n != nil {
		return C.GoString(n)
	}
	return ""
}

// initFinished is SSL_is_init_finished: one of the cheapest calls into
// libssl, which BenchmarkCgoCall uses to price a Go→C transition.
func (e *engine) initFinished() bool { return C.shim_conn_handshake_done(e.c) == 1 }
