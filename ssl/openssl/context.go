//go:build cgo && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package openssl

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/sslsocket/sslsocket/ssl"
)

// SSL_CTX_set_options bits (<openssl/ssl.h> of 3.0: SSL_OP_BIT(n) = 1 << n).
const (
	opDontInsertEmptyFragments = 1 << 11 // SSL_OP_DONT_INSERT_EMPTY_FRAGMENTS
	opNoTicket                 = 1 << 14 // SSL_OP_NO_TICKET
	opNoCompression            = 1 << 17 // SSL_OP_NO_COMPRESSION
	opCipherServerPreference   = 1 << 22 // SSL_OP_CIPHER_SERVER_PREFERENCE
	opNoRenegotiation          = 1 << 30 // SSL_OP_NO_RENEGOTIATION
)

// Protocol versions (<openssl/prov_ssl.h>: TLS1_VERSION … TLS1_3_VERSION).
const (
	tls10 = 0x0301
	tls12 = 0x0303
	tls13 = 0x0304
)

func invalidUserData(msg string) error { return fmt.Errorf("%w: %s", ssl.ErrInvalidUserData, msg) }

// contexts caches SSL_CTX objects by everything that goes into them, so
// that connections with the same configuration share one: SSL_CTX_new and
// loading a key cost more than a handshake's share, and a shared server
// context shares its ticket keys and session cache (any server of the
// process resumes the sessions of the others, as with the go backend).
// Per-connection settings (SNI, ALPN, OCSP, verify mode, session to
// resume) go on the SSL object instead.
var contexts = struct {
	sync.Mutex
	byKey map[[32]byte]*list.Element
	lru   list.List // of *cachedContext, most recent first
}{byKey: map[[32]byte]*list.Element{}}

// maxContexts bounds the cache; an evicted context lives on while a
// connection uses it (each SSL holds a reference).
const maxContexts = 32

type cachedContext struct {
	key [32]byte
	ctx *C.SSL_CTX
}

// contextFor returns an SSL_CTX for the parameters with a reference the
// caller must drop with shim_ctx_free.
func contextFor(p ssl.SessionParams) (*C.SSL_CTX, error) {
	spec, err := newContextSpec(p)
	if err != nil {
		return nil, err
	}
	key := spec.digest()
	contexts.Lock()
	if el, ok := contexts.byKey[key]; ok {
		contexts.lru.MoveToFront(el)
		ctx := el.Value.(*cachedContext).ctx
		C.shim_ctx_up_ref(ctx)
		contexts.Unlock()
		return ctx, nil
	}
	contexts.Unlock()

	ctx, err := spec.build()
	if err != nil {
		return nil, err
	}
	contexts.Lock()
	defer contexts.Unlock()
	if el, ok := contexts.byKey[key]; ok { // built meanwhile by another goroutine
		C.shim_ctx_free(ctx)
		ctx = el.Value.(*cachedContext).ctx
		C.shim_ctx_up_ref(ctx)
		return ctx, nil
	}
	contexts.byKey[key] = contexts.lru.PushFront(&cachedContext{key: key, ctx: ctx})
	for contexts.lru.Len() > maxContexts {
		el := contexts.lru.Back()
		old := contexts.lru.Remove(el).(*cachedContext)
		delete(contexts.byKey, old.key)
		C.shim_ctx_free(old.ctx)
	}
	C.shim_ctx_up_ref(ctx)
	return ctx, nil
}

// contextSpec is what an SSL_CTX is made of, decided from a Configuration
// as the go backend decides its tls.Config (ssl/backend_go.go).
type contextSpec struct {
	server       bool
	minV, maxV   int
	cipherList   string // TLS 1.2 and below; "" keeps OpenSSL's default
	ciphersuites string // TLS 1.3; "" keeps OpenSSL's default
	groups       []int  // NIDs
	chain        [][]byte
	privateKey   []byte
	dh           []byte
	pskHint      string
	setOpts      uint64
	clearOpts    uint64
	conf         [][2]string // SSL_CONF commands, sorted by name
	ticketKeys   bool        // server: the application's ticket keys (ticketkeys.go)
}

func newContextSpec(p ssl.SessionParams) (*contextSpec, error) {
	cfg := p.Config
	s := &contextSpec{server: p.Server}
	minV, maxV, ok := cfg.Protocol().VersionRange()
	if !ok {
		return nil, invalidUserData("Attempted to use an unsupported protocol.")
	}
	s.minV, s.maxV = int(minV), int(maxV)
	if s.maxV == 0 {
		s.maxV = tls13
	}
	if ciphers := cfg.Ciphers(); len(ciphers) > 0 {
		var pre13, in13 []string
		for _, c := range ciphers {
			if c.Protocol() == ssl.TlsV1_3 {
				in13 = append(in13, c.Name())
			} else {
				pre13 = append(pre13, c.Name())
			}
		}
		switch {
		case len(in13) == 0: // no TLS 1.3 suite asked for: no TLS 1.3
			s.maxV = min(s.maxV, tls12)
		case len(pre13) == 0: // only TLS 1.3 suites
			s.minV = max(s.minV, tls13)
		}
		if s.minV > s.maxV {
			return nil, invalidUserData("Invalid or empty cipher list")
		}
		s.cipherList = strings.Join(pre13, ":")
		s.ciphersuites = strings.Join(in13, ":")
	}
	for _, c := range cfg.EllipticCurves() {
		if !c.IsValid() || !groupSupported(c.NID()) {
			return nil, invalidUserData(fmt.Sprintf("Error when setting the elliptic curves (%s is not supported)", c.ShortName()))
		}
		s.groups = append(s.groups, c.NID())
	}
	if chain := cfg.LocalCertificateChain(); len(chain) > 0 {
		key := cfg.PrivateKey()
		if key.IsNull() {
			return nil, invalidUserData("Cannot provide a certificate with no key")
		}
		if key.Type() != ssl.PrivateKey {
			return nil, invalidUserData("The private key cannot sign")
		}
		s.privateKey = key.ToDer(nil)
		if len(s.privateKey) == 0 {
			return nil, invalidUserData("Cannot encode the private key for OpenSSL")
		}
		for _, c := range chain {
			s.chain = append(s.chain, c.ToDer())
		}
	}
	if p.Server {
		s.pskHint = string(cfg.PreSharedKeyIdentityHint())
		if strings.IndexByte(s.pskHint, 0) >= 0 {
			return nil, invalidUserData("The PSK identity hint contains a NUL byte")
		}
		dh := cfg.DiffieHellmanParameters()
		if !dh.IsValid() {
			return nil, invalidUserData("Diffie-Hellman parameters are not valid: " + dh.ErrorString())
		}
		s.dh = dh.ToDer()
		s.ticketKeys = cfg.SessionTicketKeys() != nil
	}
	s.setOpts = opNoRenegotiation
	flag := func(on bool, bits uint64) {
		if on {
			s.setOpts |= bits
		} else {
			s.clearOpts |= bits
		}
	}
	flag(cfg.TestSslOption(ssl.SslOptionDisableSessionTickets), opNoTicket)
	flag(cfg.TestSslOption(ssl.SslOptionDisableCompression), opNoCompression)
	flag(cfg.TestSslOption(ssl.SslOptionDisableEmptyFragments), opDontInsertEmptyFragments)
	flag(!cfg.TestSslOption(ssl.SslOptionDisableServerCipherPreference), opCipherServerPreference)
	for k, v := range cfg.BackendConfiguration() {
		s.conf = append(s.conf, [2]string{k, v})
	}
	slices.SortFunc(s.conf, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return s, nil
}

// digest digests every field: equal keys build equal contexts.
func (s *contextSpec) digest() [32]byte {
	h := sha256.New()
	var b [8]byte
	num := func(v uint64) {
		binary.BigEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	bytes := func(p []byte) {
		num(uint64(len(p)))
		h.Write(p)
	}
	str := func(s string) { bytes([]byte(s)) }
	if s.server {
		num(1)
	} else {
		num(0)
	}
	num(uint64(s.minV))
	num(uint64(s.maxV))
	str(s.cipherList)
	str(s.ciphersuites)
	num(uint64(len(s.groups)))
	for _, g := range s.groups {
		num(uint64(g))
	}
	num(uint64(len(s.chain)))
	for _, c := range s.chain {
		bytes(c)
	}
	bytes(s.privateKey)
	bytes(s.dh)
	str(s.pskHint)
	num(s.setOpts)
	num(s.clearOpts)
	num(uint64(len(s.conf)))
	for _, kv := range s.conf {
		str(kv[0])
		str(kv[1])
	}
	if s.ticketKeys {
		num(1)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// build makes the SSL_CTX.
func (s *contextSpec) build() (ctx *C.SSL_CTX, err error) {
	var e C.shim_err
	server := C.int(0)
	if s.server {
		server = 1
	}
	ctx = C.shim_ctx_new(server, &e)
	if ctx == nil {
		return nil, errorFrom("SSL_CTX_new", &e)
	}
	built := ctx // the error returns below set ctx to nil before this runs
	defer func() {
		if err != nil {
			C.shim_ctx_free(built)
		}
	}()
	if C.shim_ctx_set_versions(ctx, C.int(s.minV), C.int(s.maxV), &e) == 0 {
		return nil, invalidUserData("Attempted to use an unsupported protocol. (" + errorFrom("", &e).Error() + ")")
	}
	withCString := func(v string, f func(*C.char) C.int) C.int {
		cs := C.CString(v)
		defer C.free(unsafe.Pointer(cs))
		return f(cs)
	}
	if s.cipherList != "" {
		if withCString(s.cipherList, func(cs *C.char) C.int { return C.shim_ctx_set_cipher_list(ctx, cs, &e) }) == 0 {
			return nil, invalidUserData("Invalid or empty cipher list (" + errorFrom("", &e).Error() + ")")
		}
	}
	if s.ciphersuites != "" {
		if withCString(s.ciphersuites, func(cs *C.char) C.int { return C.shim_ctx_set_ciphersuites(ctx, cs, &e) }) == 0 {
			return nil, invalidUserData("Invalid or empty cipher list (" + errorFrom("", &e).Error() + ")")
		}
	}
	if len(s.groups) > 0 {
		nids := make([]C.int, len(s.groups))
		for i, g := range s.groups {
			nids[i] = C.int(g)
		}
		if C.shim_ctx_set_groups(ctx, &nids[0], C.int(len(nids)), &e) == 0 {
			return nil, invalidUserData("Error when setting the elliptic curves (" + errorFrom("", &e).Error() + ")")
		}
	}
	if len(s.chain) > 0 {
		if C.shim_ctx_use_certificate(ctx, cbytes(s.chain[0]), C.int(len(s.chain[0])), &e) == 0 {
			return nil, invalidUserData("Error loading local certificate, " + errorFrom("", &e).Error())
		}
		for _, der := range s.chain[1:] {
			if C.shim_ctx_add_chain_certificate(ctx, cbytes(der), C.int(len(der)), &e) == 0 {
				return nil, invalidUserData("Error loading local certificate chain, " + errorFrom("", &e).Error())
			}
		}
		if C.shim_ctx_use_private_key(ctx, cbytes(s.privateKey), C.int(len(s.privateKey)), &e) == 0 {
			return nil, invalidUserData("Private key does not certify public key, " + errorFrom("", &e).Error())
		}
	}
	if len(s.dh) > 0 {
		if C.shim_ctx_set_dh_params(ctx, cbytes(s.dh), C.int(len(s.dh)), &e) == 0 {
			return nil, invalidUserData("Diffie-Hellman parameters are not valid (" + errorFrom("", &e).Error() + ")")
		}
	}
	if s.pskHint != "" {
		if withCString(s.pskHint, func(cs *C.char) C.int { return C.shim_ctx_set_psk_identity_hint(ctx, cs, &e) }) == 0 {
			return nil, invalidUserData("Cannot set the PSK identity hint (" + errorFrom("", &e).Error() + ")")
		}
	}
	C.shim_ctx_set_options(ctx, C.uint64_t(s.setOpts), C.uint64_t(s.clearOpts))
	if s.ticketKeys && C.shim_ctx_set_ticket_keys_cb(ctx, &e) == 0 {
		return nil, errorFrom("SSL_CTX_set_tlsext_ticket_key_evp_cb", &e)
	}
	for _, kv := range s.conf {
		ck, cv := C.CString(kv[0]), C.CString(kv[1])
		ok := C.shim_ctx_conf_cmd(ctx, server, ck, cv, &e)
		C.free(unsafe.Pointer(ck))
		C.free(unsafe.Pointer(cv))
		if ok == 0 {
			return nil, invalidUserData(fmt.Sprintf("An error occurred attempting to set %s to %s (%s)", kv[0], kv[1], errorFrom("", &e).Error()))
		}
	}
	return ctx, nil
}

// cbytes points C at a Go slice for the duration of one call.
func cbytes(p []byte) *C.uchar {
	if len(p) == 0 {
		return nil
	}
	return (*C.uchar)(unsafe.Pointer(&p[0]))
}

var groupSupport sync.Map // NID → bool

// groupSupported reports whether libssl accepts the group (SSL_CTX_set1_groups).
func groupSupported(nid int) bool {
	if v, ok := groupSupport.Load(nid); ok {
		return v.(bool)
	}
	ok := C.shim_ctx_group_supported(C.int(nid)) == 1
	groupSupport.Store(nid, ok)
	return ok
}

// flushContexts frees the cached contexts (for leak checkers at exit;
// connections still open keep theirs alive).
func flushContexts() {
	contexts.Lock()
	defer contexts.Unlock()
	for contexts.lru.Len() > 0 {
		old := contexts.lru.Remove(contexts.lru.Back()).(*cachedContext)
		delete(contexts.byKey, old.key)
		C.shim_ctx_free(old.ctx)
	}
}
