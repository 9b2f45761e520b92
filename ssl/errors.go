package ssl

import (
	"errors"
	"fmt"
	"strings"
)

// ErrorCode is QSslError::SslError: one kind of certificate-verification
// problem. The values are Qt 6's.
type ErrorCode int

// ErrorCode values (QSslError::SslError).
const (
	UnspecifiedError                    ErrorCode = -1
	NoError                             ErrorCode = 0
	UnableToGetIssuerCertificate        ErrorCode = 1
	UnableToDecryptCertificateSignature ErrorCode = 2
	UnableToDecodeIssuerPublicKey       ErrorCode = 3
	CertificateSignatureFailed          ErrorCode = 4
	CertificateNotYetValid              ErrorCode = 5
	CertificateExpired                  ErrorCode = 6
	InvalidNotBeforeField               ErrorCode = 7
	InvalidNotAfterField                ErrorCode = 8
	SelfSignedCertificate               ErrorCode = 9
	SelfSignedCertificateInChain        ErrorCode = 10
	UnableToGetLocalIssuerCertificate   ErrorCode = 11
	UnableToVerifyFirstCertificate      ErrorCode = 12
	CertificateRevoked                  ErrorCode = 13
	InvalidCaCertificate                ErrorCode = 14
	PathLengthExceeded                  ErrorCode = 15
	InvalidPurpose                      ErrorCode = 16
	CertificateUntrusted                ErrorCode = 17
	CertificateRejected                 ErrorCode = 18
	SubjectIssuerMismatch               ErrorCode = 19
	AuthorityIssuerSerialNumberMismatch ErrorCode = 20
	NoPeerCertificate                   ErrorCode = 21
	HostNameMismatch                    ErrorCode = 22
	NoSslSupport                        ErrorCode = 23
	CertificateBlacklisted              ErrorCode = 24
	CertificateStatusUnknown            ErrorCode = 25
	OcspNoResponseFound                 ErrorCode = 26
	OcspMalformedRequest                ErrorCode = 27
	OcspMalformedResponse               ErrorCode = 28
	OcspInternalError                   ErrorCode = 29
	OcspTryLater                        ErrorCode = 30
	OcspSigRequred                      ErrorCode = 31 // sic: Qt's spelling
	OcspUnauthorized                    ErrorCode = 32
	OcspResponseCannotBeTrusted         ErrorCode = 33
	OcspResponseCertIdUnknown           ErrorCode = 34
	OcspResponseExpired                 ErrorCode = 35
	OcspStatusUnknown                   ErrorCode = 36
)

type errorCodeInfo struct{ name, message string }

// errorCodes holds Qt's enumerator names and QSslError::errorString() texts.
var errorCodes = map[ErrorCode]errorCodeInfo{
	UnspecifiedError:                    {"UnspecifiedError", "An unknown error occurred"},
	NoError:                             {"NoError", "No error"},
	UnableToGetIssuerCertificate:        {"UnableToGetIssuerCertificate", "The issuer certificate could not be found"},
	UnableToDecryptCertificateSignature: {"UnableToDecryptCertificateSignature", "The certificate signature could not be decrypted"},
	UnableToDecodeIssuerPublicKey:       {"UnableToDecodeIssuerPublicKey", "The public key in the certificate could not be read"},
	CertificateSignatureFailed:          {"CertificateSignatureFailed", "The signature of the certificate is invalid"},
	CertificateNotYetValid:              {"CertificateNotYetValid", "The certificate is not yet valid"},
	CertificateExpired:                  {"CertificateExpired", "The certificate has expired"},
	InvalidNotBeforeField:               {"InvalidNotBeforeField", "The certificate's notBefore field contains an invalid time"},
	InvalidNotAfterField:                {"InvalidNotAfterField", "The certificate's notAfter field contains an invalid time"},
	SelfSignedCertificate:               {"SelfSignedCertificate", "The certificate is self-signed, and untrusted"},
	SelfSignedCertificateInChain:        {"SelfSignedCertificateInChain", "The root certificate of the certificate chain is self-signed, and untrusted"},
	UnableToGetLocalIssuerCertificate:   {"UnableToGetLocalIssuerCertificate", "The issuer certificate of a locally looked up certificate could not be found"},
	UnableToVerifyFirstCertificate:      {"UnableToVerifyFirstCertificate", "No certificates could be verified"},
	CertificateRevoked:                  {"CertificateRevoked", "The certificate has been revoked"},
	InvalidCaCertificate:                {"InvalidCaCertificate", "One of the CA certificates is invalid"},
	PathLengthExceeded:                  {"PathLengthExceeded", "The basicConstraints path length parameter has been exceeded"},
	InvalidPurpose:                      {"InvalidPurpose", "The supplied certificate is unsuitable for this purpose"},
	CertificateUntrusted:                {"CertificateUntrusted", "The root CA certificate is not trusted for this purpose"},
	CertificateRejected:                 {"CertificateRejected", "The root CA certificate is marked to reject the specified purpose"},
	SubjectIssuerMismatch:               {"SubjectIssuerMismatch", "The current candidate issuer certificate was rejected because its subject name did not match the issuer name of the current certificate"},
	AuthorityIssuerSerialNumberMismatch: {"AuthorityIssuerSerialNumberMismatch", "The current candidate issuer certificate was rejected because its issuer name and serial number was present and did not match the authority key identifier of the current certificate"},
	NoPeerCertificate:                   {"NoPeerCertificate", "The peer did not present any certificate"},
	HostNameMismatch:                    {"HostNameMismatch", "The host name did not match any of the valid hosts for this certificate"},
	NoSslSupport:                        {"NoSslSupport", "No TLS/SSL support is available"},
	CertificateBlacklisted:              {"CertificateBlacklisted", "The peer certificate is blacklisted"},
	CertificateStatusUnknown:            {"CertificateStatusUnknown", "The certificate status is unknown"},
	OcspNoResponseFound:                 {"OcspNoResponseFound", "No OCSP status response found"},
	OcspMalformedRequest:                {"OcspMalformedRequest", "The OCSP status request had invalid syntax"},
	OcspMalformedResponse:               {"OcspMalformedResponse", "OCSP response contains an unexpected number of SingleResponse structures"},
	OcspInternalError:                   {"OcspInternalError", "OCSP responder reached an inconsistent internal state"},
	OcspTryLater:                        {"OcspTryLater", "OCSP responder was unable to return a status for the requested certificate"},
	OcspSigRequred:                      {"OcspSigRequred", "The server requires the client to sign the OCSP request in order to construct a response"},
	OcspUnauthorized:                    {"OcspUnauthorized", "The client is not authorized to request OCSP status from this server"},
	OcspResponseCannotBeTrusted:         {"OcspResponseCannotBeTrusted", "OCSP responder's identity cannot be verified"},
	OcspResponseCertIdUnknown:           {"OcspResponseCertIdUnknown", "The identity of a certificate in an OCSP response cannot be established"},
	OcspResponseExpired:                 {"OcspResponseExpired", "The certificate status response has expired"},
	OcspStatusUnknown:                   {"OcspStatusUnknown", "The certificate's status is unknown"},
}

var errorCodeNames = func() *enumTable[ErrorCode] {
	names := make(map[ErrorCode]string, len(errorCodes))
	for c, info := range errorCodes {
		names[c] = info.name
	}
	return newEnumTable("ErrorCode", names)
}()

// Message returns Qt's errorString() text for the code. Codes Qt does not
// define read "An unknown error occurred", like UnspecifiedError.
func (v ErrorCode) Message() string {
	if info, ok := errorCodes[v]; ok {
		return info.message
	}
	return errorCodes[UnspecifiedError].message
}

// AllErrorCodes returns every code of QSslError::SslError, in value order.
func AllErrorCodes() []ErrorCode {
	codes := make([]ErrorCode, 0, len(errorCodes))
	for c := UnspecifiedError; c <= OcspStatusUnknown; c++ {
		codes = append(codes, c)
	}
	return codes
}

// Error is QSslError: one verification problem, and the certificate it
// concerns (the zero Certificate when it concerns none). Two Errors are equal
// when code and certificate are; Error is comparable with Equal, usable as a
// Go error, and matches errors.Is against a bare code:
//
//	errors.Is(err, ssl.HostNameMismatch)
type Error struct {
	Code        ErrorCode
	Certificate Certificate
	// detail says exactly what is wrong when the code alone does not (a key
	// or signature algorithm below OpenSSL's security level 2 is reported
	// as UnspecifiedError, as Qt does, with a detail naming it). It is not
	// part of Qt's equality.
	detail string
}

// Detail returns what exactly is wrong when the code alone does not say it
// (for example "EE certificate key too weak: RSA 1024 bits, security level 2
// requires 2048"), or "".
func (e Error) Detail() string { return e.detail }

// NewError returns the Error for code about cert (pass the zero Certificate for none).
func NewError(code ErrorCode, cert Certificate) Error { return Error{Code: code, Certificate: cert} }

// Error returns Qt's errorString() for the code, or the detail when there is
// one.
func (e Error) Error() string {
	if e.detail != "" {
		return e.detail
	}
	return e.Code.Message()
}

// Equal reports Qt's QSslError equality: same code and equal certificates
// (two null certificates are equal).
func (e Error) Equal(o Error) bool { return e.Code == o.Code && e.Certificate.Equal(o.Certificate) }

// Is lets errors.Is match an Error against an ErrorCode, or against another
// Error with Qt's equality.
func (e Error) Is(target error) bool {
	switch t := target.(type) {
	case ErrorCode:
		return e.Code == t
	case Error:
		return e.Equal(t)
	case *Error:
		return t != nil && e.Equal(*t)
	}
	return false
}

// Error makes ErrorCode usable as an errors.Is target and as a plain error.
// Because of it, fmt's %v and %s print the message; call String for Qt's
// enumerator name.
func (v ErrorCode) Error() string { return v.Message() }

// String describes the error with its code name and, when there is one, the
// certificate's subject, for logs.
func (e Error) String() string {
	if e.Certificate.IsNull() {
		return fmt.Sprintf("%s: %s", e.Code.String(), e.Error())
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code.String(), e.Error(), e.Certificate.SubjectDisplayName())
}

// ContainsError reports whether list holds an Error equal to e.
func ContainsError(list []Error, e Error) bool {
	for _, x := range list {
		if x.Equal(e) {
			return true
		}
	}
	return false
}

// VerificationError is returned where a whole list of verification problems
// stopped an operation (a handshake, a certificate check). It matches
// errors.Is against each code and each Error it holds.
type VerificationError struct {
	Errors []Error
}

// Error names every problem, each with its code and the certificate it
// concerns. (The socket's ErrorString keeps Qt's text: the first problem's
// message.)
func (e *VerificationError) Error() string {
	switch len(e.Errors) {
	case 0:
		return "ssl: certificate verification failed"
	case 1:
		return "ssl: certificate verification failed: " + e.Errors[0].String()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ssl: certificate verification failed with %d errors: ", len(e.Errors))
	for i, x := range e.Errors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x.String())
	}
	return b.String()
}

// qtErrorString is what Qt's errorString() says for a failed verification:
// the first problem's message.
func (e *VerificationError) qtErrorString() string {
	if len(e.Errors) == 0 {
		return "ssl: certificate verification failed"
	}
	return e.Errors[0].Error()
}

// Unwrap exposes every listed Error to errors.Is and errors.As.
func (e *VerificationError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, x := range e.Errors {
		out[i] = x
	}
	return out
}

// errParse is the root of every "this input is not what it claims to be" error.
var errParse = errors.New("ssl: malformed input")

// ErrMalformed matches, via errors.Is, every error this package returns for
// input that cannot be decoded (garbage certificates, keys, PKCS#12 bundles,
// DH parameters).
var ErrMalformed = errParse

// ErrBadPassphrase matches, via errors.Is, a missing or wrong passphrase for
// an encrypted key or PKCS#12 bundle.
var ErrBadPassphrase = errors.New("ssl: missing or wrong passphrase")

// parseError wraps a decoding failure so that it matches ErrMalformed.
type parseError struct {
	what string
	err  error
}

// Error describes what could not be decoded.
func (e *parseError) Error() string {
	if e.err == nil {
		return "ssl: " + e.what
	}
	return "ssl: " + e.what + ": " + e.err.Error()
}

// Unwrap makes the error match ErrMalformed and the underlying cause.
func (e *parseError) Unwrap() []error {
	if e.err == nil {
		return []error{errParse}
	}
	return []error{errParse, e.err}
}

func malformed(what string, err error) error { return &parseError{what: what, err: err} }

// SocketErr is a socket failure: Qt's error() and errorString() as a Go
// error, wrapping its cause when there is one.
type SocketErr struct {
	Kind    SocketError
	Message string
	// Err is the underlying error (a network error, the TLS engine's), or nil.
	Err error
}

// Unwrap returns the cause.
func (e *SocketErr) Unwrap() error { return e.Err }

// Error returns the message, then the underlying error when the message
// does not already say it (for a refused connection, the address).
func (e *SocketErr) Error() string {
	if e.Err != nil && !strings.Contains(e.Message, e.Err.Error()) {
		return "ssl: " + e.Kind.String() + ": " + e.Message + ": " + e.Err.Error()
	}
	return "ssl: " + e.Kind.String() + ": " + e.Message
}

// Is matches a SocketError kind: errors.Is(err, ssl.ConnectionRefusedError).
func (e *SocketErr) Is(target error) bool {
	k, ok := target.(SocketError)
	return ok && k == e.Kind
}

// Error makes SocketError usable as an errors.Is target.
func (v SocketError) Error() string { return v.String() }
