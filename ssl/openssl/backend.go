//go:build cgo && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package openssl

/*
#include "shim.h"
*/
import "C"

import (
	"sync"

	"github.com/sslsocket/sslsocket/ssl"
)

// backend is the "openssl" ssl.Backend. It has no stream fast path: a
// Socket pumps the engine over its connection.
type backend struct{}

// register makes the backend known to package ssl (from init, once libssl
// loaded).
func register() { ssl.RegisterBackend(backend{}) }

// Name is "openssl", as in Qt.
func (backend) Name() string { return "openssl" }

// SupportedProtocols lists the Protocol values that can negotiate
// something. TLS 1.0 and 1.1 alone are listed only when the library's
// default security level is 0: OpenSSL 3 refuses them at level 1 and
// above, and the ranges that start there negotiate TLS 1.2 or 1.3.
func (backend) SupportedProtocols() []ssl.Protocol {
	protos := []ssl.Protocol{ssl.AnyProtocol, ssl.SecureProtocols, ssl.TlsV1_0OrLater, ssl.TlsV1_1OrLater,
		ssl.TlsV1_2, ssl.TlsV1_2OrLater, ssl.TlsV1_3, ssl.TlsV1_3OrLater}
	if defaultSecurityLevel() == 0 {
		protos = append(protos, ssl.TlsV1_0, ssl.TlsV1_1)
	}
	return protos
}

// SupportedFeatures: everything QSsl::SupportedFeature names, and shared
// session ticket keys.
func (backend) SupportedFeatures() []ssl.SupportedFeature {
	return []ssl.SupportedFeature{ssl.FeatureCertificateVerification, ssl.FeatureClientSideAlpn,
		ssl.FeatureServerSideAlpn, ssl.FeatureOcsp, ssl.FeaturePsk, ssl.FeatureSessionTicket, ssl.FeatureAlerts,
		ssl.FeatureSessionTicketKeys}
}

// ImplementedClasses: the TLS socket and the value types package ssl
// implements for every backend; no DTLS.
func (backend) ImplementedClasses() []ssl.ImplementedClass {
	return []ssl.ImplementedClass{ssl.ClassKey, ssl.ClassCertificate, ssl.ClassSocket, ssl.ClassDiffieHellman,
		ssl.ClassEllipticCurve}
}

// SupportedCiphers lists the suites libssl can negotiate: those of its
// "ALL" list and the five TLS 1.3 suites (the CCM ones, off by default,
// included), without the anonymous ones (Au=None), as Qt lists them.
// Every one has a Cipher in package ssl's table.
func (backend) SupportedCiphers() []ssl.Cipher { return supportedCiphers() }

// tls13Suites are every TLS 1.3 suite OpenSSL 3 implements.
const tls13Suites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:" +
	"TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"

var supportedCiphers = sync.OnceValue(func() []ssl.Cipher {
	var out []ssl.Cipher
	for _, c := range libsslCiphers("ALL", tls13Suites) {
		if !c.IsNull() && c.AuthenticationMethod() != "None" {
			out = append(out, c)
		}
	}
	return out
})

// libsslCiphers is the cipher list libssl builds from a cipher string and
// a TLS 1.3 suite list, as Ciphers (the null Cipher for a suite package
// ssl has no description of).
func libsslCiphers(cipherList, suites string) []ssl.Cipher {
	spec := &contextSpec{minV: tls10, maxV: tls13, cipherList: cipherList, ciphersuites: suites}
	ctx, err := spec.build()
	if err != nil {
		return nil
	}
	defer C.shim_ctx_free(ctx)
	ids := make([]C.int, 512)
	n := int(C.shim_ctx_cipher_ids(ctx, &ids[0], C.int(len(ids))))
	out := make([]ssl.Cipher, 0, n)
	for _, id := range ids[:n] {
		out = append(out, ssl.CipherFromID(uint16(id)))
	}
	return out
}

// SupportedEllipticCurves lists the curves package ssl knows that libssl
// accepts as key-exchange groups.
func (backend) SupportedEllipticCurves() []ssl.EllipticCurve {
	var out []ssl.EllipticCurve
	for _, name := range []string{"prime192v1", "secp224r1", "secp256k1", "prime256v1", "secp384r1", "secp521r1",
		"X25519", "X448", "brainpoolP256r1", "brainpoolP384r1", "brainpoolP512r1"} {
		if c := ssl.CurveFromShortName(name); c.IsValid() && groupSupported(c.NID()) {
			out = append(out, c)
		}
	}
	return out
}

// LibraryVersionNumber is OpenSSL_version_num() of the loaded library.
func (backend) LibraryVersionNumber() int64 { return versionNumber }

// LibraryVersionString is OpenSSL_version(OPENSSL_VERSION).
func (backend) LibraryVersionString() string { return versionString }

// buildVersion is the API the shim is written against: nothing is
// compiled against OpenSSL's headers, the library is loaded at run time.
const buildVersion = 0x30000000

// LibraryBuildVersionNumber is the API level the shim targets (3.0.0).
func (backend) LibraryBuildVersionNumber() int64 { return buildVersion }

// LibraryBuildVersionString says how the backend was built.
func (backend) LibraryBuildVersionString() string {
	return "OpenSSL 3.0 API (libssl.so.3 loaded at run time)"
}

// NewEngine prepares a sans-IO endpoint over a memory BIO pair.
func (backend) NewEngine(p ssl.SessionParams) (ssl.EngineCore, error) {
	e, err := newEngine(p)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// cipherDescription is one suite as libssl describes it.
type cipherDescription struct {
	id          uint16
	used, alg   int    // SSL_CIPHER_get_bits
	description string // SSL_CIPHER_description
}

// libsslCipherDescriptions describes the suites libssl lists for a cipher
// string and a TLS 1.3 suite list (the tests compare package ssl's table
// with it).
func libsslCipherDescriptions(cipherList, suites string) []cipherDescription {
	spec := &contextSpec{minV: tls10, maxV: tls13, cipherList: cipherList, ciphersuites: suites}
	ctx, err := spec.build()
	if err != nil {
		return nil
	}
	defer C.shim_ctx_free(ctx)
	var out []cipherDescription
	for i := 0; ; i++ {
		var id, alg C.int
		var desc [256]C.char
		used := int(C.shim_ctx_cipher_describe(ctx, C.int(i), &id, &alg, &desc[0], C.int(len(desc))))
		if used < 0 {
			return out
		}
		out = append(out, cipherDescription{id: uint16(id), used: used, alg: int(alg), description: C.GoString(&desc[0])})
	}
}

var defaultSecurityLevel = sync.OnceValue(func() int {
	var e C.shim_err
	ctx := C.shim_ctx_new(0, &e)
	if ctx == nil {
		return -1
	}
	defer C.shim_ctx_free(ctx)
	return int(C.shim_ctx_security_level(ctx))
})
