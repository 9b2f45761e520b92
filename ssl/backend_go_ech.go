package ssl

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"sync"
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
		sh.echClient = &goECHClient{publicName: cfg.ech.publicName, config: &p.Config}
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
	tc.RootCAs = echRootPool(cfg) // used only on a rejection: InsecureSkipVerify covers the rest
	return nil
}

// systemRootPool is the system's trust anchors as a pool, made once.
var systemRootPool = sync.OnceValue(func() *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range SystemCaCertificates() {
		pool.AddCert(c.X509())
	}
	return pool
})

// echRootPool is cfg's trust anchors as a pool: the shared system pool
// while the configuration uses only those.
func echRootPool(cfg Configuration) *x509.CertPool {
	var pool *x509.CertPool
	switch {
	case cfg.AllowsOnDemandRoots() && len(cfg.caCertificates) == 0:
		return systemRootPool()
	case cfg.AllowsOnDemandRoots():
		pool = systemRootPool().Clone()
	default:
		pool = x509.NewCertPool()
	}
	for _, c := range cfg.caCertificates {
		pool.AddCert(c.X509())
	}
	return pool
}

// goECHClient is what a client's goShared keeps of its ECH settings.
type goECHClient struct {
	publicName string         // the name the outer ClientHello carries
	config     *Configuration // for verifying a rejection's certificate
}

// echError turns crypto/tls's ECH rejection into an *ECHRejectedError.
// A rejection whose certificate does not prove the public name becomes
// our verifier's errors for that name.
func (sh *goShared) echError(err error) error {
	ec := sh.echClient
	var re *tls.ECHRejectionError
	var ours *ECHRejectedError
	var cve *tls.CertificateVerificationError
	switch {
	case err == nil || ec == nil || errors.As(err, &ours):
		return err
	case errors.As(err, &re):
		return &ECHRejectedError{PublicName: ec.publicName, RetryConfigList: slices.Clone(re.RetryConfigList), Err: err}
	case errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0:
		chain := make([]Certificate, len(cve.UnverifiedCertificates))
		for i, x := range cve.UnverifiedCertificates {
			chain[i] = NewCertificate(x)
		}
		roots := ec.config.trustAnchors()
		if roots == nil {
			roots = []Certificate{}
		}
		errs := VerifyChain(chain, VerifyOptions{Roots: roots, HostName: ec.publicName, Depth: ec.config.PeerVerifyDepth(), Purpose: PurposeServerAuth})
		if len(errs) == 0 { // crypto/x509 refused what our verifier accepts: say so anyway
			errs = []Error{NewError(UnspecifiedError, chain[0])}
		}
		sh.verifyFailed.Store(true) // crypto/tls sent bad_certificate
		return fmt.Errorf("the server rejected Encrypted Client Hello and its certificate does not prove the public name %q, so its retry configurations cannot be trusted: %w (%v)",
			ec.publicName, &VerificationError{Errors: errs}, cve.Err)
	}
	return err
}

// echState fills in the session's ECH facts.
func (sh *goShared) echState(st *SessionState, cs tls.ConnectionState) {
	st.KeyExchangeGroup, st.ECHAccepted = cs.CurveID, cs.ECHAccepted
	if !cs.ECHAccepted {
		return
	}
	if sh.echClient != nil {
		st.OuterServerName = sh.echClient.publicName
	} else if p := sh.echOuter.Load(); p != nil {
		st.OuterServerName = *p
	}
}
