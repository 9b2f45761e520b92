package ssl

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"slices"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OcspResponse is QOcspResponse: what a stapled OCSP response said about
// the peer's certificate.
type OcspResponse struct {
	CertificateStatus OcspCertificateStatus
	RevocationReason  OcspRevocationReason
	// Responder is, as in Qt, the presented certificate that issued the
	// peer's certificate and that the response names as issuer (not
	// necessarily the response's signer); the zero Certificate when the
	// response could not be tied to the peer's certificate that way
	// (OcspResponseCertIdUnknown).
	Responder Certificate
	// Subject is the peer's certificate.
	Subject Certificate
}

// ocspLeeway is the clock skew Qt tolerates on thisUpdate/nextUpdate.
const ocspLeeway = 60 * time.Second

// fatalHandshakeError fails a handshake with exactly this message (no
// verification error to ignore), as Qt's fatal OCSP problems do.
type fatalHandshakeError struct{ msg string }

func (e *fatalHandshakeError) Error() string { return e.msg }

// checkOcsp applies Qt's OCSP rules to a stapled response for chain[0] (the
// chain as the peer presented it): it returns the errors to report, in Qt's
// order, the decoded response (nil when none), or a fatal error. As in Qt
// (measured, docs/qt-measured-verification.md §1):
//
//   - the response is trusted (else OcspResponseCannotBeTrusted) when its
//     signer, found by responder ID among the presented chain and the
//     certificates embedded in the response, signed it, chains to a trust
//     anchor, and is either the issuer the response names or a responder
//     that issuer delegated (extended key usage OCSPSigning);
//   - the response must be about chain[0] as issued by a presented
//     certificate (else OcspResponseCertIdUnknown; Responder is then null);
//   - the validity window and the status are evaluated whatever the above
//     said, so a revocation is never lost (CertificateRevoked).
//
// Trust anchors are used to verify the signer's certificate only, never to
// find the signer or the issuer, as in Qt: a server that staples must send
// the certificate of its leaf's issuer.
func checkOcsp(der []byte, chain []Certificate, anchors []Certificate, now time.Time) ([]Error, *OcspResponse, error) {
	if len(der) == 0 {
		return []Error{{Code: OcspNoResponseFound}}, nil, nil
	}
	peer := chain[0]
	resp, err := ocsp.ParseResponse(der, nil)
	var rerr ocsp.ResponseError
	switch {
	case errors.As(err, &rerr):
		code := map[ocsp.ResponseStatus]ErrorCode{
			ocsp.Malformed: OcspMalformedRequest, ocsp.InternalError: OcspInternalError, ocsp.TryLater: OcspTryLater,
			ocsp.SignatureRequired: OcspSigRequred, ocsp.Unauthorized: OcspUnauthorized,
		}[rerr.Status]
		if code == 0 {
			code = OcspMalformedResponse
		}
		return []Error{{Code: code}}, nil, nil
	case err != nil && strings.Contains(err.Error(), "bad number of responses"):
		return []Error{{Code: OcspMalformedResponse}}, nil, nil
	case err != nil:
		return nil, nil, &fatalHandshakeError{"Failed to decode OCSP response"}
	}
	id, err := parseCertID(der, resp)
	if err != nil {
		return nil, nil, &fatalHandshakeError{"Failed to decode OCSP response"}
	}

	var errs []Error
	if !ocspResponderTrusted(resp, id, chain, anchors, now) {
		errs = append(errs, Error{Code: OcspResponseCannotBeTrusted})
	}
	out := &OcspResponse{Subject: peer, RevocationReason: OcspReasonNone, CertificateStatus: OcspUnknown}
	if issuer, ok := ocspSubjectIssuer(id, peer, chain); ok {
		out.Responder = issuer
	} else {
		errs = append(errs, NewError(OcspResponseCertIdUnknown, peer))
	}
	if resp.ThisUpdate.IsZero() {
		return nil, nil, &fatalHandshakeError{"OCSP response has no thisUpdate"}
	}
	if now.Add(ocspLeeway).Before(resp.ThisUpdate) ||
		(!resp.NextUpdate.IsZero() && (now.Add(-ocspLeeway).After(resp.NextUpdate) || resp.NextUpdate.Before(resp.ThisUpdate))) {
		errs = append(errs, NewError(OcspResponseExpired, peer))
	}
	switch resp.Status {
	case ocsp.Good:
		out.CertificateStatus = OcspGood
	case ocsp.Revoked:
		out.CertificateStatus = OcspRevoked
		out.RevocationReason = OcspRevocationReason(resp.RevocationReason)
		errs = append(errs, NewError(CertificateRevoked, peer))
	default:
		out.CertificateStatus = OcspUnknown
		errs = append(errs, NewError(OcspStatusUnknown, peer))
	}
	return errs, out, nil
}

// certID is the CertID of a response's single response: which certificate
// (serial) of which issuer (hashes of its name and key) it is about.
type certID struct {
	hash              crypto.Hash
	nameHash, keyHash []byte
	serial            *big.Int
}

func parseCertID(der []byte, resp *ocsp.Response) (certID, error) {
	nameHash, keyHash, err := responseCertID(der)
	if err != nil {
		return certID{}, err
	}
	if !resp.IssuerHash.Available() || resp.SerialNumber == nil {
		return certID{}, errors.New("ssl: unusable CertID")
	}
	return certID{resp.IssuerHash, nameHash, keyHash, resp.SerialNumber}, nil
}

// namesIssuer reports whether the CertID's issuer hashes are c's.
func (id certID) namesIssuer(c *x509.Certificate) bool {
	h := id.hash.New()
	h.Write(c.RawSubject)
	if !bytes.Equal(h.Sum(nil), id.nameHash) {
		return false
	}
	key, ok := subjectPublicKeyBits(c)
	if !ok {
		return false
	}
	h = id.hash.New()
	h.Write(key)
	return bytes.Equal(h.Sum(nil), id.keyHash)
}

// subjectPublicKeyBits returns the subjectPublicKey BIT STRING's contents,
// what OCSP hashes to name a key.
func subjectPublicKeyBits(c *x509.Certificate) ([]byte, bool) {
	var spki struct {
		Algo      pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(c.RawSubjectPublicKeyInfo, &spki); err != nil {
		return nil, false
	}
	return spki.PublicKey.RightAlign(), true
}

// ocspSubjectIssuer is Qt's check that the response is about peer: a
// presented certificate (peer itself when self-signed) must be named by the
// CertID, have issued peer (OpenSSL's X509_check_issued: names, key
// identifiers, keyCertSign), and the serial must be peer's.
func ocspSubjectIssuer(id certID, peer Certificate, chain []Certificate) (Certificate, bool) {
	if id.serial.Cmp(peer.x.SerialNumber) != 0 {
		return Certificate{}, false
	}
	if peer.IsSelfSigned() {
		return peer, id.namesIssuer(peer.x)
	}
	for _, c := range chain {
		if id.namesIssuer(c.x) && checkIssued(peer.x, c.x) {
			return c, true
		}
	}
	return Certificate{}, false
}

// ocspResponderTrusted is what Qt asks of OpenSSL's OCSP_basic_verify (no
// flags): the signer is found by responder ID among the presented chain,
// then the response's certificates; its signature over the response must
// verify; its certificate must chain to a trust anchor (with the presented
// and embedded certificates as intermediates); and it must be the issuer
// named by the CertID, or a certificate that issuer gave the OCSPSigning
// extended key usage.
func ocspResponderTrusted(resp *ocsp.Response, id certID, chain []Certificate, anchors []Certificate, now time.Time) bool {
	candidates := make([]*x509.Certificate, 0, len(chain)+1)
	for _, c := range chain {
		candidates = append(candidates, c.x)
	}
	if resp.Certificate != nil {
		candidates = append(candidates, resp.Certificate)
	}
	var signer *x509.Certificate
	for _, c := range candidates {
		if responderIDNames(resp, c) {
			signer = c
			break
		}
	}
	if signer == nil || resp.CheckSignatureFrom(signer) != nil {
		return false
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, a := range anchors {
		if !a.IsNull() {
			roots.AddCert(a.x)
		}
	}
	for _, c := range candidates {
		inter.AddCert(c)
	}
	paths, err := signer.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	if err != nil {
		return false
	}
	if id.namesIssuer(signer) {
		return true
	}
	if !slices.Contains(signer.ExtKeyUsage, x509.ExtKeyUsageOCSPSigning) {
		return false
	}
	for _, p := range paths {
		if len(p) > 1 && id.namesIssuer(p[1]) {
			return true
		}
	}
	return false
}

// responderIDNames reports whether the response's ResponderID (by name or by
// the SHA-1 hash of the key) designates c.
func responderIDNames(resp *ocsp.Response, c *x509.Certificate) bool {
	if len(resp.RawResponderName) > 0 {
		return bytes.Equal(resp.RawResponderName, c.RawSubject)
	}
	key, ok := subjectPublicKeyBits(c)
	if !ok {
		return false
	}
	sum := sha1.Sum(key)
	return bytes.Equal(sum[:], resp.ResponderKeyHash)
}

// responseCertID digs the first SingleResponse's CertID hashes out of a
// DER OCSPResponse (RFC 6960 §4.2.1).
func responseCertID(der []byte) (nameHash, keyHash []byte, err error) {
	var outer struct {
		Status   asn1.Enumerated
		Response struct {
			Type     asn1.ObjectIdentifier
			Response []byte
		} `asn1:"explicit,tag:0"`
	}
	if _, err = asn1.Unmarshal(der, &outer); err != nil {
		return nil, nil, err
	}
	var basic struct {
		TBS asn1.RawValue
	}
	if _, err = asn1.Unmarshal(outer.Response.Response, &basic); err != nil {
		return nil, nil, err
	}
	// ResponseData ::= SEQUENCE { [0] version OPTIONAL, responderID, producedAt, responses, [1] ext OPTIONAL }
	rest := basic.TBS.Bytes
	var field asn1.RawValue
	for i := 0; ; i++ {
		if rest, err = asn1.Unmarshal(rest, &field); err != nil {
			return nil, nil, err
		}
		if field.Class == asn1.ClassUniversal && field.Tag == asn1.TagSequence && field.IsCompound {
			break // responses
		}
		if i > 4 {
			return nil, nil, errors.New("ssl: no responses in OCSP response")
		}
	}
	var single, certIDRaw asn1.RawValue
	if _, err = asn1.Unmarshal(field.Bytes, &single); err != nil {
		return nil, nil, err
	}
	if _, err = asn1.Unmarshal(single.Bytes, &certIDRaw); err != nil { // SingleResponse's first field
		return nil, nil, err
	}
	var certID struct {
		Algo          pkix.AlgorithmIdentifier
		NameHash      []byte
		IssuerKeyHash []byte
		Serial        asn1.RawValue
	}
	if _, err = asn1.Unmarshal(certIDRaw.FullBytes, &certID); err != nil {
		return nil, nil, err
	}
	return certID.NameHash, certID.IssuerKeyHash, nil
}
