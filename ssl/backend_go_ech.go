package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
)

// Encrypted Client Hello on the go backend: crypto/tls does the work
// (EncryptedClientHelloConfigList, GetEncryptedClientHelloKeys,
// ECHRejectionError); this file wires the Configuration to it and reports
// what crypto/tls does not: the outer name a server saw, the public name
// a rejected client used, the ech_required alert it sent.

// goECH sets up ECH on tc for the session p describes. sh is the
// connection's shared state, nil for a server configuration shared by
// every connection (the outer name then goes to the goTransport).
func goECH(tc *tls.Config, p SessionParams, sh *goShared) error {
	cfg := p.Config
	if p.Server {
		if len(cfg.ech.keys) == 0 {
			return nil
		}
		keys := make([]tls.EncryptedClientHelloKey, 0, len(cfg.ech.keys))
		for _, k := range cfg.ech.keys {
			if k.IsNull() {
				return invalidUserData("a null Encrypted Client Hello key")
			}
			keys = append(keys, tls.EncryptedClientHelloKey{Config: k.config.raw, PrivateKey: k.private, SendAsRetry: k.sendAsRetry})
		}
		tc.GetEncryptedClientHelloKeys = func(hello *tls.ClientHelloInfo) ([]tls.EncryptedClientHelloKey, error) {
			// Called first with the outer ClientHello, before its inner one
			// is opened (and again when the encrypted extensions are written).
			outer := hello.ServerName
			if sh != nil {
				sh.echOuter.CompareAndSwap(nil, &outer)
			} else if tr, ok := hello.Conn.(*goTransport); ok {
				tr.echOuter.CompareAndSwap(nil, &outer)
			}
			return keys, nil
		}
		return nil
	}
	list := cfg.ech.configList
	if len(list) == 0 {
		return nil
	}
	if tc.MaxVersion != 0 && tc.MaxVersion < tls.VersionTLS13 {
		return invalidUserData("Encrypted Client Hello needs TLS 1.3, which the protocol or cipher list excludes")
	}
	tc.MinVersion = max(tc.MinVersion, tls.VersionTLS13) // crypto/tls offers nothing older with ECH
	tc.EncryptedClientHelloConfigList = list
	if sh != nil {
		sh.echPublicName, sh.echConfig = cfg.ech.publicName, &p.Config
	}
	mode := cfg.PeerVerifyMode()
	if mode != VerifyPeer && mode != AutoVerifyPeer {
		// Verification is off (VerifyNone) or report-only (QueryPeer):
		// the rejection is still fatal, its retry list unauthenticated.
		tc.EncryptedClientHelloRejectionVerify = func(tls.ConnectionState) error { return nil }
		return nil
	}
	// A rejecting server proves the public name (RFC 9849 §6.1.7).
	// crypto/tls checks it with crypto/x509 against RootCAs — our trust
	// anchors (its EncryptedClientHelloRejectionVerify cannot be used: it
	// is called before the peer's certificates are in the state it gets);
	// a failure is turned into our verifier's errors by echError.
	pool := x509.NewCertPool()
	for _, c := range cfg.trustAnchors() {
		pool.AddCert(c.X509())
	}
	tc.RootCAs = pool // used only on a rejection: InsecureSkipVerify covers the rest
	return nil
}

// echError turns crypto/tls's ECH rejection into an *ECHRejectedError.
// A rejection whose certificate does not prove the public name becomes
// our verifier's errors for that name.
func (sh *goShared) echError(err error) error {
	cfg := sh.echConfig
	var re *tls.ECHRejectionError
	var ours *ECHRejectedError
	var cve *tls.CertificateVerificationError
	switch {
	case err == nil || sh.echPublicName == "" || errors.As(err, &ours):
		return err
	case errors.As(err, &re):
		return &ECHRejectedError{PublicName: sh.echPublicName, RetryConfigList: slices.Clone(re.RetryConfigList), Err: err}
	case errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0:
		chain := make([]Certificate, len(cve.UnverifiedCertificates))
		for i, x := range cve.UnverifiedCertificates {
			chain[i] = NewCertificate(x)
		}
		roots := cfg.trustAnchors()
		if roots == nil {
			roots = []Certificate{}
		}
		errs := VerifyChain(chain, VerifyOptions{Roots: roots, HostName: sh.echPublicName, Depth: cfg.PeerVerifyDepth(), Purpose: PurposeServerAuth})
		if len(errs) == 0 { // crypto/x509 refused what our verifier accepts: say so anyway
			errs = []Error{NewError(UnspecifiedError, chain[0])}
		}
		sh.verifyFailed.Store(true) // crypto/tls sent bad_certificate
		return fmt.Errorf("the server rejected Encrypted Client Hello and its certificate does not prove the public name %q, so its retry configurations cannot be trusted: %w (%v)",
			sh.echPublicName, &VerificationError{Errors: errs}, cve.Err)
	}
	return err
}

// echState fills in the session's ECH facts.
func (sh *goShared) echState(st *SessionState, cs tls.ConnectionState) {
	st.KeyExchangeGroup, st.ECHAccepted = cs.CurveID, cs.ECHAccepted
	if !cs.ECHAccepted {
		return
	}
	if sh.echPublicName != "" {
		st.OuterServerName = sh.echPublicName
	} else if p := sh.echOuter.Load(); p != nil {
		st.OuterServerName = *p
	}
}
