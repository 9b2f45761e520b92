package ssl

import (
	"bytes"
	"crypto"
	"crypto/md5"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"time"
)

// Purpose is the use a verified certificate must be fit for, as OpenSSL's
// X509_PURPOSE_SSL_SERVER / X509_PURPOSE_SSL_CLIENT checks it.
type Purpose int

// Purpose values.
const (
	PurposeServerAuth Purpose = iota // a TLS server's certificate (what a client verifies)
	PurposeClientAuth                // a TLS client's certificate (what a server verifies)
	PurposeAny                       // no purpose check
)

// VerifyOptions are the inputs of VerifyChain.
type VerifyOptions struct {
	// Roots are the trust anchors. nil means the system's
	// (SystemCaCertificates); an empty non-nil slice trusts nothing. Expired
	// anchors are dropped before verification, as Qt does.
	Roots []Certificate
	// HostName, when set, must match the leaf (MatchesHostname).
	HostName string
	// Time is the verification time; zero means now.
	Time time.Time
	// Depth limits the number of intermediate certificates between the leaf
	// and the trust anchor, as QSslConfiguration::peerVerifyDepth; 0 means no
	// limit. Exceeding it is reported as UnspecifiedError (OpenSSL's
	// X509_V_ERR_CERT_CHAIN_TOO_LONG, which Qt does not name).
	Depth int
	// Purpose the leaf must be fit for.
	Purpose Purpose
}

// Verify is QSslCertificate::verify(chain, hostName): it verifies chain
// (leaf first, then any intermediates) against the default configuration's
// trust anchors (its CA list, plus the system's while on-demand loading is
// allowed) and returns every problem found, empty when the chain is good.
func Verify(chain []Certificate, hostName string) []Error {
	roots := DefaultConfiguration().trustAnchors()
	if roots == nil {
		roots = []Certificate{}
	}
	return VerifyChain(chain, VerifyOptions{Roots: roots, HostName: hostName})
}

// VerifyChain verifies chain (leaf first) and returns every problem, in Qt's
// order: CertificateBlacklisted for each listed certificate in the chain,
// HostNameMismatch, then the chain errors in the order OpenSSL's verifier
// reports them when its callback lets it continue (the leaf's key strength,
// trust, then CA, purpose and path-length checks from the leaf up, then key
// and signature-digest strength, then signatures and validity periods from
// the root down). Each Error carries the certificate it is about. Keys and
// signature digests below OpenSSL's security level 2 (RSA and DSA under 2048
// bits, EC under 224, MD5 and SHA-1 signatures below the trust anchor) are
// UnspecifiedError, as Qt reports them, with a Detail naming what is weak. An
// empty chain gives [UnspecifiedError].
//
// Security invariant: VerifyChain never returns an empty list for a chain
// that crypto/x509 rejects with the same anchors, intermediates, name, time
// and purpose. When crypto/x509 rejects for a reason the enumeration did not
// name, the closest code (or UnspecifiedError) is appended, so ignoring the
// listed errors can never accept a chain nobody examined.
func VerifyChain(chain []Certificate, opts VerifyOptions) []Error {
	v := newVerification(chain, opts)
	if v == nil {
		return []Error{{Code: UnspecifiedError}}
	}
	if cleanChains.lookup(v) {
		return nil // verified clean before, with the very same inputs
	}
	errs := v.enumerate()
	if len(errs) == 0 && v.pathFound && v.hostOK {
		// crypto/x509 found a valid path (host aside) and its host check
		// passed: its full verification would accept too.
		cleanChains.store(v)
		return nil
	}
	errs = append(errs, v.safetyNet(errs)...)
	if len(errs) == 0 {
		cleanChains.store(v)
	}
	return errs
}

// verification holds one run of the verifier.
type verification struct {
	presented []*x509.Certificate
	roots     []*x509.Certificate
	host      string
	now       time.Time
	depth     int
	purpose   Purpose
	byRaw     map[*x509.Certificate]Certificate
	pathFound bool // crypto/x509 found a valid path (host name aside)
	hostOK    bool // no host name to check, or both host checks passed
}

func newVerification(chain []Certificate, opts VerifyOptions) *verification {
	if len(chain) == 0 || chain[0].IsNull() {
		return nil
	}
	v := &verification{host: opts.HostName, now: opts.Time, depth: opts.Depth, purpose: opts.Purpose,
		byRaw: map[*x509.Certificate]Certificate{}}
	if v.now.IsZero() {
		v.now = time.Now()
	}
	for _, c := range chain {
		if !c.IsNull() {
			v.presented = append(v.presented, c.x)
			v.byRaw[c.x] = c
		}
	}
	roots := opts.Roots
	if roots == nil {
		roots = SystemCaCertificates()
	}
	for _, r := range roots {
		if !r.IsNull() && !v.now.After(r.x.NotAfter) {
			v.roots = append(v.roots, r.x)
		}
	}
	return v
}

func (v *verification) cert(x *x509.Certificate) Certificate {
	if c, ok := v.byRaw[x]; ok {
		return c
	}
	return Certificate{x: x}
}

// chainStatus is how chain building ended.
type chainStatus int

const (
	chainTrusted    chainStatus = iota // ends in a trust anchor
	chainSelfSigned                    // ends in a self-signed certificate that is not trusted
	chainNoIssuer                      // the top certificate's issuer was not found
)

// buildChain follows OpenSSL's build_chain with trusted-first lookup: each
// certificate's issuer is looked for among the anchors, then among the
// presented certificates. trustedFrom is the index of the first certificate
// taken from the anchors (len(chain) when none).
func (v *verification) buildChain() (chain []*x509.Certificate, trustedFrom int, status chainStatus, tooLong bool) {
	if path := v.validPath(); path != nil {
		v.pathFound = true
		if v.depth > 0 && len(path) > v.depth+2 {
			return path[:v.depth+2], v.depth + 2, chainNoIssuer, true
		}
		return path, len(path) - 1, chainTrusted, false
	}
	leaf := v.presented[0]
	chain = []*x509.Certificate{leaf}
	trustedFrom = 1
	used := map[*x509.Certificate]bool{leaf: true}
	if selfSigned(leaf) && containsRaw(v.roots, leaf) {
		return chain, 0, chainTrusted, false
	}
	inTrusted := false
	for len(chain) < 64 {
		cur := chain[len(chain)-1]
		if selfSigned(cur) {
			if inTrusted {
				return chain, trustedFrom, chainTrusted, false
			}
			return chain, len(chain), chainSelfSigned, false
		}
		if v.depth > 0 && len(chain) >= v.depth+2 {
			// X509_V_ERR_CERT_CHAIN_TOO_LONG: OpenSSL stops building here.
			if !inTrusted {
				trustedFrom = len(chain)
			}
			return chain, trustedFrom, chainNoIssuer, true
		}
		if iss := v.findIssuer(cur, v.roots, used); iss != nil {
			if !inTrusted {
				inTrusted, trustedFrom = true, len(chain)
			}
			used[iss] = true
			chain = append(chain, iss)
			continue
		}
		if !inTrusted {
			if iss := v.findIssuer(cur, v.presented[1:], used); iss != nil {
				used[iss] = true
				chain = append(chain, iss)
				continue
			}
			return chain, len(chain), chainNoIssuer, false
		}
		return chain, trustedFrom, chainNoIssuer, false
	}
	if !inTrusted {
		trustedFrom = len(chain)
	}
	return chain, trustedFrom, chainNoIssuer, false
}

// validPath asks crypto/x509, which searches every candidate path, for a
// chain that verifies (host name aside, which does not change paths). When
// one exists the enumeration runs on it, so that a good path is never missed
// because a greedy builder took a bad one first (Qt's OpenSSL backend fails
// several bettertls path-building cases that way). Any anchor counts, as in
// crypto/x509 and browsers, not only self-signed ones as in OpenSSL.
func (v *verification) validPath() []*x509.Certificate {
	opts := v.x509Options()
	opts.DNSName = ""
	chains, err := v.presented[0].Verify(opts)
	if err != nil || len(chains) == 0 {
		return nil
	}
	best := chains[0]
	for _, c := range chains[1:] {
		if len(c) < len(best) {
			best = c
		}
	}
	// Keep the caller's Certificate values for presented certificates.
	out := make([]*x509.Certificate, len(best))
	for i, x := range best {
		out[i] = x
		for _, p := range v.presented {
			if bytes.Equal(p.Raw, x.Raw) {
				out[i] = p
				break
			}
		}
	}
	return out
}

func containsRaw(pool []*x509.Certificate, x *x509.Certificate) bool {
	for _, p := range pool {
		if bytes.Equal(p.Raw, x.Raw) {
			return true
		}
	}
	return false
}

// findIssuer returns the best candidate issuer of cur in pool: names and key
// identifiers must match and keyCertSign must be allowed (OpenSSL's
// X509_check_issued); among several, one whose signature over cur verifies
// and that is valid now wins.
func (v *verification) findIssuer(cur *x509.Certificate, pool []*x509.Certificate, used map[*x509.Certificate]bool) *x509.Certificate {
	var best *x509.Certificate
	bestScore := -1
	for _, cand := range pool {
		if used[cand] || bytes.Equal(cand.Raw, cur.Raw) || !likelyIssued(cur, cand) {
			continue
		}
		score := 0
		if cand.CheckSignature(cur.SignatureAlgorithm, cur.RawTBSCertificate, cur.Signature) == nil {
			score += 2
		}
		if !v.now.Before(cand.NotBefore) && !v.now.After(cand.NotAfter) {
			score++
		}
		if score > bestScore {
			best, bestScore = cand, score
		}
	}
	return best
}

// likelyIssued is OpenSSL's ossl_x509_likely_issued, which chain building
// uses: issuer name and authority key identifier match; neither the
// signature nor keyUsage is looked at (check_ca reports a CA without
// keyCertSign as InvalidCaCertificate).
func likelyIssued(child, issuer *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, issuer.RawSubject) {
		return false
	}
	return len(child.AuthorityKeyId) == 0 || len(issuer.SubjectKeyId) == 0 || bytes.Equal(child.AuthorityKeyId, issuer.SubjectKeyId)
}

func selfIssued(x *x509.Certificate) bool { return bytes.Equal(x.RawSubject, x.RawIssuer) }

// selfSigned is OpenSSL's EXFLAG_SS.
func selfSigned(x *x509.Certificate) bool { return likelyIssued(x, x) }

// checkIssued is X509_check_issued: likelyIssued plus keyCertSign when the
// issuer has a keyUsage extension.
func checkIssued(child, issuer *x509.Certificate) bool {
	return likelyIssued(child, issuer) && (!hasKeyUsage(issuer) || issuer.KeyUsage&x509.KeyUsageCertSign != 0)
}

func hasExtension(x *x509.Certificate, oid string) bool {
	for _, e := range x.Extensions {
		if e.Id.String() == oid {
			return true
		}
	}
	return false
}

func hasKeyUsage(x *x509.Certificate) bool { return hasExtension(x, oidExtKeyUsage) }

// caKind is OpenSSL's X509_check_ca: 0 not a CA, 1 a CA by basicConstraints,
// 3 a version 1 self-signed root, 4 a CA by keyUsage alone.
func caKind(x *x509.Certificate) int {
	if hasKeyUsage(x) && x.KeyUsage&x509.KeyUsageCertSign == 0 {
		return 0
	}
	if x.BasicConstraintsValid {
		if x.IsCA {
			return 1
		}
		return 0
	}
	if x.Version == 1 && selfSigned(x) {
		return 3
	}
	if hasKeyUsage(x) {
		return 4
	}
	return 0
}

// purposeOK is OpenSSL's check_purpose_ssl_server / _ssl_client.
func purposeOK(x *x509.Certificate, p Purpose, ca bool) bool {
	if p == PurposeAny {
		return true
	}
	if hasExtension(x, oidExtExtKeyUsage) { // present, even if empty: OpenSSL's EXFLAG_XKUSAGE
		ok := false
		for _, u := range x.ExtKeyUsage {
			switch {
			case p == PurposeServerAuth && (u == x509.ExtKeyUsageServerAuth ||
				u == x509.ExtKeyUsageNetscapeServerGatedCrypto || u == x509.ExtKeyUsageMicrosoftServerGatedCrypto):
				ok = true
			case p == PurposeClientAuth && u == x509.ExtKeyUsageClientAuth:
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	if ca {
		return caKind(x) != 0
	}
	if hasKeyUsage(x) {
		need := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement
		if p == PurposeServerAuth {
			need |= x509.KeyUsageKeyEncipherment
		}
		return x.KeyUsage&need != 0
	}
	return true
}

func pathLenSet(x *x509.Certificate) bool {
	return x.BasicConstraintsValid && (x.MaxPathLen > 0 || x.MaxPathLenZero)
}

// enumerate produces the Qt-ordered list of problems.
func (v *verification) enumerate() []Error {
	var errs []Error
	add := func(code ErrorCode, x *x509.Certificate) {
		errs = append(errs, Error{Code: code, Certificate: v.cert(x)})
	}
	leaf := v.presented[0]

	for _, x := range v.presented {
		if c := v.cert(x); c.IsBlacklisted() {
			add(CertificateBlacklisted, x)
		}
	}
	v.hostOK = v.host == "" || v.hostMatches()
	if !v.hostOK {
		add(HostNameMismatch, leaf)
	}

	// X509_verify_cert: the leaf's key is checked against the security
	// level before the chain is built.
	if d := weakKeyDetail(leaf, true); d != "" {
		errs = append(errs, Error{Code: UnspecifiedError, Certificate: v.cert(leaf), detail: d})
	}

	chain, trustedFrom, status, tooLong := v.buildChain()
	top := chain[len(chain)-1]

	// build_chain: depth limit, then why the chain is not trusted.
	if tooLong {
		add(UnspecifiedError, top)
	}
	switch status {
	case chainSelfSigned:
		if len(chain) == 1 {
			add(SelfSignedCertificate, top)
		} else {
			add(SelfSignedCertificateInChain, top)
		}
	case chainNoIssuer:
		if trustedFrom < len(chain) {
			add(UnableToGetIssuerCertificate, top)
		} else {
			add(UnableToGetLocalIssuerCertificate, top)
		}
	}

	// check_chain_extensions, from the leaf up.
	plen := 0
	for i, x := range chain {
		if len(x.UnhandledCriticalExtensions) > 0 {
			add(UnspecifiedError, x)
		}
		if i > 0 {
			if k := caKind(x); k == 0 || (i+1 < len(chain) && k != 1) {
				add(InvalidCaCertificate, x)
			}
		}
		if !purposeOK(x, v.purpose, i > 0) {
			add(InvalidPurpose, x)
		}
		if i > 1 && !selfIssued(x) && pathLenSet(x) && plen > x.MaxPathLen {
			add(PathLengthExceeded, x)
		}
		if i > 0 && !selfIssued(x) {
			plen++
		}
	}

	// check_auth_level: issuer keys (the anchor's too) and the digests of
	// every signature but the top certificate's, from the leaf up.
	for i, x := range chain {
		if i > 0 {
			if d := weakKeyDetail(x, false); d != "" {
				errs = append(errs, Error{Code: UnspecifiedError, Certificate: v.cert(x), detail: d})
			}
		}
		if i < len(chain)-1 {
			if d := weakSignatureDetail(x); d != "" {
				errs = append(errs, Error{Code: UnspecifiedError, Certificate: v.cert(x), detail: d})
			}
		}
	}

	// internal_verify: signatures and validity periods, from the top down.
	n := len(chain) - 1
	xi := chain[n]
	xs := xi
	if !selfSigned(xi) {
		if n == 0 {
			add(UnableToVerifyFirstCertificate, xi)
			return errs
		}
		n--
		xs = chain[n]
	}
	for {
		// On a path crypto/x509 verified, every signature already checked out.
		if xs != xi && !v.pathFound {
			switch err := checkCertSignature(xi, xs); {
			case err == nil:
			case xi.PublicKey == nil:
				add(UnableToDecodeIssuerPublicKey, xs)
			case isInsecureAlgorithm(err):
				// A digest no library here can check (MD2): the signature
				// stays unverified, which is an error of its own, apart from
				// the weak digest reported above.
				errs = append(errs, Error{Code: UnspecifiedError, Certificate: v.cert(xs),
					detail: "certificate signature not verified: " + xs.SignatureAlgorithm.String() + " is not supported"})
			default:
				add(CertificateSignatureFailed, xs)
			}
		}
		if v.now.Before(xs.NotBefore) {
			add(CertificateNotYetValid, xs)
		}
		if v.now.After(xs.NotAfter) {
			add(CertificateExpired, xs)
		}
		n--
		if n < 0 {
			break
		}
		xi, xs = xs, chain[n]
	}
	return errs
}

// checkCertSignature checks that issuer signed x. crypto/x509 checks SHA-1
// signatures at this level (its chain building refuses them, which the
// security-level check reports); MD5 with RSA, which it refuses outright, is
// checked with crypto/rsa, so that a weak but genuine signature is reported
// as weak, and a forged one as CertificateSignatureFailed.
func checkCertSignature(issuer, x *x509.Certificate) error {
	err := issuer.CheckSignature(x.SignatureAlgorithm, x.RawTBSCertificate, x.Signature)
	if x.SignatureAlgorithm != x509.MD5WithRSA || !isInsecureAlgorithm(err) {
		return err
	}
	pub, ok := issuer.PublicKey.(*rsa.PublicKey)
	if !ok {
		return x509.ErrUnsupportedAlgorithm
	}
	sum := md5.Sum(x.RawTBSCertificate)
	return rsa.VerifyPKCS1v15(pub, crypto.MD5, sum[:], x.Signature)
}

func isInsecureAlgorithm(err error) bool {
	var ia x509.InsecureAlgorithmError
	return errors.As(err, &ia)
}

// hostMatches applies Qt's rules and crypto/x509's, both of which must agree.
func (v *verification) hostMatches() bool {
	return MatchesHostname(v.cert(v.presented[0]), v.host)
}

// goHostName is the host in the form crypto/x509 compares: ACE for names.
func (v *verification) goHostName() string { return x509HostName(v.host) }
