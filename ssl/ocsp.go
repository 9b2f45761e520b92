package ssl

import (
	"bytes"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// OcspResponse is QOcspResponse: what a stapled OCSP response said about
// the peer's certificate.
type OcspResponse struct {
	CertificateStatus OcspCertificateStatus
	RevocationReason  OcspRevocationReason
	// Responder is the certificate that issued the peer's certificate and
	// vouches for the response (the zero Certificate if the response was
	// about another certificate).
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

// checkOcsp applies Qt's OCSP rules (reference §5.8) to a stapled response
// for chain[0]. It returns the errors to report, the decoded response (nil
// when none), or a fatal error.
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

	// The issuer: the peer itself if self-signed, else the first certificate
	// of the chain (or a trust anchor) that issued it.
	var issuer Certificate
	if peer.IsSelfSigned() {
		issuer = peer
	} else {
		for _, c := range append(append([]Certificate(nil), chain[1:]...), anchors...) {
			if peer.x.CheckSignatureFrom(c.x) == nil {
				issuer = c
				break
			}
		}
	}
	var errs []Error
	out := &OcspResponse{Subject: peer, RevocationReason: OcspReasonNone, CertificateStatus: OcspUnknown}
	if issuer.IsNull() {
		errs = append(errs, Error{Code: OcspResponseCannotBeTrusted})
	} else if _, err := ocsp.ParseResponse(der, issuer.x); err != nil {
		errs = append(errs, Error{Code: OcspResponseCannotBeTrusted})
	}
	// The response must be about the peer's certificate, from its issuer.
	if issuer.IsNull() || resp.SerialNumber == nil || resp.SerialNumber.Cmp(peer.x.SerialNumber) != 0 ||
		!issuedBy(resp, der, issuer) {
		errs = append(errs, NewError(OcspResponseCertIdUnknown, peer))
		return errs, out, nil
	}
	out.Responder = issuer
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

// issuedBy checks the response's CertID issuer name and key hashes
// against issuer (x/crypto/ocsp does not expose them).
func issuedBy(resp *ocsp.Response, der []byte, issuer Certificate) bool {
	nameHash, keyHash, err := responseCertID(der)
	if err != nil || !resp.IssuerHash.Available() {
		return false
	}
	var spki struct {
		Algo      pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.x.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	h := resp.IssuerHash.New()
	h.Write(issuer.x.RawSubject)
	wantName := h.Sum(nil)
	h = resp.IssuerHash.New()
	h.Write(spki.PublicKey.RightAlign())
	return bytes.Equal(nameHash, wantName) && bytes.Equal(keyHash, h.Sum(nil))
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
