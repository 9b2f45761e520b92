package ssl

import (
	"crypto/x509"
	"errors"
	"strings"
	"time"
)

// The cross-check keeps the security invariant of VerifyChain: whatever
// crypto/x509 rejects, the returned list names. crypto/x509 reports one
// reason at a time, so the check loops: each rejection is classified; if the
// enumeration already named an error of that class, the check relaxes that
// one dimension (host name, purpose, time, trust) and asks again, until
// crypto/x509 accepts or a rejection remains that nothing listed explains.

// rejectionClass groups crypto/x509 rejections by what explains them.
type rejectionClass int

const (
	classAuthority rejectionClass = iota
	classTime
	classHostname
	classUsage
	classCA
	classPathLen
	classOther
)

// explainedBy lists, per class, the codes that account for such a rejection.
var explainedBy = map[rejectionClass][]ErrorCode{
	classAuthority: {SelfSignedCertificate, SelfSignedCertificateInChain, UnableToGetLocalIssuerCertificate,
		UnableToGetIssuerCertificate, UnableToVerifyFirstCertificate, CertificateSignatureFailed,
		UnableToDecodeIssuerPublicKey, UnableToDecryptCertificateSignature, CertificateUntrusted,
		CertificateRejected, InvalidCaCertificate, UnspecifiedError},
	classTime:     {CertificateExpired, CertificateNotYetValid, InvalidNotBeforeField, InvalidNotAfterField},
	classHostname: {HostNameMismatch},
	classUsage:    {InvalidPurpose},
	classCA:       {InvalidCaCertificate},
	classPathLen:  {PathLengthExceeded},
	classOther:    {UnspecifiedError},
}

// closestCode is what the cross-check appends for an unexplained rejection.
var closestCode = map[rejectionClass]ErrorCode{
	classAuthority: UnableToGetLocalIssuerCertificate,
	classTime:      CertificateExpired,
	classHostname:  HostNameMismatch,
	classUsage:     InvalidPurpose,
	classCA:        InvalidCaCertificate,
	classPathLen:   PathLengthExceeded,
	classOther:     UnspecifiedError,
}

// classify maps a crypto/x509 error to its class and the certificate it
// names (nil when it names none).
func classify(err error) (rejectionClass, *x509.Certificate) {
	var host x509.HostnameError
	var inv x509.CertificateInvalidError
	var ua x509.UnknownAuthorityError
	var crit x509.UnhandledCriticalExtension
	switch {
	case errors.As(err, &host):
		return classHostname, host.Certificate
	case errors.As(err, &inv):
		switch inv.Reason {
		case x509.Expired:
			return classTime, inv.Cert
		case x509.NotAuthorizedToSign:
			return classCA, inv.Cert
		case x509.TooManyIntermediates:
			return classPathLen, inv.Cert
		case x509.IncompatibleUsage, x509.CANotAuthorizedForExtKeyUsage:
			return classUsage, inv.Cert
		case x509.NameMismatch:
			return classAuthority, inv.Cert
		}
		return classOther, inv.Cert
	case errors.As(err, &ua):
		if ua.Cert != nil {
			// crypto/x509 keeps the first reason a candidate issuer was
			// refused only in its message; an expired issuer is the case
			// that matters here.
			if c := classifyHint(err); c != classAuthority {
				return c, nil
			}
		}
		return classAuthority, ua.Cert
	case errors.As(err, &crit):
		return classOther, nil
	}
	return classOther, nil
}

// classifyHint recognises UnknownAuthorityError's wrapped hint by message
// (crypto/x509 does not export it).
func classifyHint(err error) rejectionClass {
	if containsAny(err.Error(), "has expired", "is not yet valid", "current time") {
		return classTime
	}
	return classAuthority
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func explained(errs []Error, c rejectionClass) bool {
	for _, e := range errs {
		for _, code := range explainedBy[c] {
			if e.Code == code {
				return true
			}
		}
	}
	return false
}

// safetyNet returns the errors to append so that the list explains every
// reason crypto/x509 has to reject the chain.
func (v *verification) safetyNet(errs []Error) []Error {
	opts := v.x509Options()
	roots := opts.Roots
	leaf := v.presented[0]
	anchorsAdded := 0
	timeRelaxed := false
	for range 2*len(v.presented) + 8 {
		_, err := leaf.Verify(opts)
		if err == nil {
			return nil
		}
		class, cert := classify(err)
		if !explained(errs, class) {
			if cert == nil {
				cert = leaf
			}
			return []Error{{Code: closestCode[class], Certificate: v.cert(cert)}}
		}
		switch class {
		case classHostname:
			opts.DNSName = ""
		case classUsage:
			opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
		case classTime:
			t, ok := commonValidity(v.presented)
			if !ok || timeRelaxed {
				return nil
			}
			opts.CurrentTime, timeRelaxed = t, true
		case classAuthority:
			// Trust one more presented certificate, from the top down.
			if anchorsAdded >= len(v.presented) {
				return nil
			}
			anchorsAdded++
			roots.AddCert(v.presented[len(v.presented)-anchorsAdded])
		default:
			return nil // explained and not relaxable
		}
	}
	return nil
}

// x509Options returns crypto/x509's options for the same inputs; each call
// builds fresh pools, which the caller may extend.
func (v *verification) x509Options() x509.VerifyOptions {
	roots := x509.NewCertPool()
	for _, r := range v.roots {
		roots.AddCert(r)
	}
	inter := x509.NewCertPool()
	for _, x := range v.presented[1:] {
		inter.AddCert(x)
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: v.now}
	switch v.purpose {
	case PurposeServerAuth:
		opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case PurposeClientAuth:
		opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		opts.KeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}
	if v.host != "" {
		opts.DNSName = v.goHostName()
	}
	return opts
}

// commonValidity returns an instant inside every certificate's validity
// period, if there is one.
func commonValidity(certs []*x509.Certificate) (time.Time, bool) {
	var lo, hi time.Time
	for i, x := range certs {
		if i == 0 || x.NotBefore.After(lo) {
			lo = x.NotBefore
		}
		if i == 0 || x.NotAfter.Before(hi) {
			hi = x.NotAfter
		}
	}
	return lo, !lo.After(hi)
}
