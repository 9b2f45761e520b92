package ssl

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// TestPeerVerifyErrorOrder is the rule measured on Qt 6.4.2 / OpenSSL 3.0
// (docs/qt-measured-verification.md §2): peerVerifyError for the chain
// errors first, in list order, then for Qt's own checks (blacklist, OCSP,
// host name or missing certificate) in list order.
func TestPeerVerifyErrorOrder(t *testing.T) {
	c := certOf(pki.MustSelfSigned(pki.Spec{CommonName: "order.test"}))
	e := func(code ErrorCode) Error { return NewError(code, c) }
	null := func(code ErrorCode) Error { return NewError(code, Certificate{}) }
	tests := []struct {
		name       string
		list, emit []Error
	}{
		{"empty", nil, []Error{}},
		{"chain only", []Error{e(SelfSignedCertificate), e(CertificateExpired)},
			[]Error{e(SelfSignedCertificate), e(CertificateExpired)}},
		{"expired, wrong host (measured)", []Error{e(HostNameMismatch), e(CertificateExpired)},
			[]Error{e(CertificateExpired), e(HostNameMismatch)}},
		{"self-signed expired, wrong host (measured)", []Error{e(HostNameMismatch), e(SelfSignedCertificate), e(CertificateExpired)},
			[]Error{e(SelfSignedCertificate), e(CertificateExpired), e(HostNameMismatch)}},
		{"missing intermediate, wrong host (measured)", []Error{e(HostNameMismatch), e(UnableToGetLocalIssuerCertificate), e(UnableToVerifyFirstCertificate)},
			[]Error{e(UnableToGetLocalIssuerCertificate), e(UnableToVerifyFirstCertificate), e(HostNameMismatch)}},
		{"blacklisted, no staple, wrong host, expired (measured)",
			[]Error{e(CertificateBlacklisted), null(OcspNoResponseFound), e(HostNameMismatch), e(CertificateExpired)},
			[]Error{e(CertificateExpired), e(CertificateBlacklisted), null(OcspNoResponseFound), e(HostNameMismatch)}},
		{"OCSP errors of a leaf-only chain (measured)",
			[]Error{null(OcspResponseCannotBeTrusted), e(OcspResponseCertIdUnknown), e(CertificateRevoked), e(UnableToGetLocalIssuerCertificate), e(UnableToVerifyFirstCertificate)},
			[]Error{e(UnableToGetLocalIssuerCertificate), e(UnableToVerifyFirstCertificate), null(OcspResponseCannotBeTrusted), e(OcspResponseCertIdUnknown), e(CertificateRevoked)}},
		{"weak key, wrong host (measured)", []Error{e(HostNameMismatch), e(UnspecifiedError)},
			[]Error{e(UnspecifiedError), e(HostNameMismatch)}},
		{"no certificate", []Error{null(NoPeerCertificate)}, []Error{null(NoPeerCertificate)}},
		{"every OCSP code is Qt's own", []Error{null(OcspNoResponseFound), null(OcspMalformedRequest), null(OcspMalformedResponse),
			null(OcspInternalError), null(OcspTryLater), null(OcspSigRequred), null(OcspUnauthorized), null(OcspResponseCannotBeTrusted),
			e(OcspResponseCertIdUnknown), e(OcspResponseExpired), e(OcspStatusUnknown), e(InvalidPurpose)},
			[]Error{e(InvalidPurpose), null(OcspNoResponseFound), null(OcspMalformedRequest), null(OcspMalformedResponse),
				null(OcspInternalError), null(OcspTryLater), null(OcspSigRequred), null(OcspUnauthorized), null(OcspResponseCannotBeTrusted),
				e(OcspResponseCertIdUnknown), e(OcspResponseExpired), e(OcspStatusUnknown)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list := append([]Error(nil), tc.list...)
			got := peerVerifyErrorOrder(list)
			if !sameErrors(got, tc.emit) {
				t.Errorf("emitted %v\nwant    %v", got, tc.emit)
			}
			if !sameErrors(list, tc.list) {
				t.Error("the list itself was changed")
			}
		})
	}
	for _, code := range AllErrorCodes() {
		own := code == CertificateBlacklisted || code == HostNameMismatch || code == NoPeerCertificate ||
			code == CertificateRevoked || (code >= OcspNoResponseFound && code <= OcspStatusUnknown)
		if fromVerifyCallback(NewError(code, c)) == own {
			t.Errorf("%s: fromVerifyCallback = %v", code.String(), !own)
		}
	}
}

// orderPKI serves a leaf that is expired and blacklisted (Qt's "MD5
// Collisions Inc." entry), under an intermediate, as in the measurement.
func orderPKI(t *testing.T) (root *pki.Cert, chain []*pki.Cert) {
	t.Helper()
	root = pki.MustSelfSigned(pki.Spec{CommonName: "Order Root", IsCA: true})
	inter := root.MustIssue(pki.Spec{CommonName: "Order Intermediate", IsCA: true})
	leaf := inter.MustIssue(pki.Spec{CommonName: "MD5 Collisions Inc. (http://www.phreedom.org/md5)", Serial: big.NewInt(0x41),
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-72 * time.Hour), NotAfter: time.Now().Add(-48 * time.Hour)})
	return root, []*pki.Cert{leaf, inter}
}

// TestPeerVerifyErrorEmission: over a real handshake, on every backend,
// peerVerifyError follows Qt's emission order while sslErrors keeps Qt's
// list order; with HandshakeMustInterruptOnError the chain errors interrupt
// and Qt's own checks are still emitted as peerVerifyError (measured).
func TestPeerVerifyErrorEmission(t *testing.T) {
	checkNoLeaks(t)
	root, chain := orderPKI(t)
	leaf := certOf(chain[0])
	name := func(es []Error) string {
		var s []string
		for _, e := range es {
			who := "null"
			if !e.Certificate.IsNull() {
				who = "leaf"
				if !e.Certificate.Equal(leaf) {
					who = e.Certificate.SubjectDisplayName()
				}
			}
			s = append(s, e.Code.String()+"@"+who)
		}
		return strings.Join(s, ", ")
	}
	runModes(t, func(t *testing.T, m backendMode) {
		scfg := m.apply(Configuration{})
		scfg.SetLocalCertificateChain(certsOf(chain))
		scfg.SetPrivateKey(NewKey(chain[0].Key))
		for _, interrupt := range []bool{false, true} {
			t.Run(fmt.Sprintf("interrupt=%v", interrupt), func(t *testing.T) {
				ccfg := m.apply(Configuration{})
				ccfg.SetCaCertificates([]Certificate{certOf(root)})
				ccfg.SetOcspStaplingEnabled(true)
				ccfg.SetHandshakeMustInterruptOnError(interrupt)
				var emitted, interrupted, list []Error
				_, _, cOK, _ := handshakePair(t, ccfg, scfg, func(c, _ *Socket) {
					c.SetPeerVerifyName("wrong.invalid")
					c.OnPeerVerifyError(func(e Error) { emitted = append(emitted, e) })
					c.OnHandshakeInterruptedOnError(func(e Error) {
						interrupted = append(interrupted, e)
						c.ContinueInterruptedHandshake()
					})
					c.OnSslErrors(func(errs []Error) { list = errs })
				})
				if cOK {
					t.Fatal("handshake succeeded despite unignored errors")
				}
				wantList := "CertificateBlacklisted@leaf, OcspNoResponseFound@null, HostNameMismatch@leaf, CertificateExpired@leaf"
				wantEmitted := "CertificateExpired@leaf, CertificateBlacklisted@leaf, OcspNoResponseFound@null, HostNameMismatch@leaf"
				wantInterrupted := ""
				if interrupt {
					wantEmitted = "CertificateBlacklisted@leaf, OcspNoResponseFound@null, HostNameMismatch@leaf"
					wantInterrupted = "CertificateExpired@leaf"
				}
				if got := name(list); got != wantList {
					t.Errorf("sslErrors   %s\nwant        %s", got, wantList)
				}
				if got := name(emitted); got != wantEmitted {
					t.Errorf("peerVerifyError %s\nwant            %s", got, wantEmitted)
				}
				if got := name(interrupted); got != wantInterrupted {
					t.Errorf("handshakeInterruptedOnError %s, want %s", got, wantInterrupted)
				}
			})
		}
	})
}
