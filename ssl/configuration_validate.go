package ssl

import (
	"crypto"
	"fmt"
	"time"

	"golang.org/x/crypto/ocsp"
)

// validateConfiguration checks, before any connection exists, what would
// otherwise only fail in the middle of a handshake — for a server, in
// every client's handshake. Listen and Dial call it; problems match
// ErrInvalidUserData.
func validateConfiguration(c Configuration, server bool) error {
	if _, _, ok := c.Protocol().VersionRange(); !ok {
		return invalidUserData("Attempted to use an unsupported protocol.")
	}
	chain, key := c.LocalCertificateChain(), c.PrivateKey()
	switch {
	case len(chain) > 0 && key.IsNull():
		return invalidUserData("Cannot provide a certificate with no key")
	case len(chain) == 0 && !key.IsNull():
		return invalidUserData("a private key was set without its certificate")
	case len(chain) > 0:
		if err := keyMatchesCertificate(key, chain[0]); err != nil {
			return err
		}
	}
	if server {
		if len(chain) == 0 && len(c.PreSharedKeyIdentityHint()) == 0 {
			return invalidUserData("a server needs a certificate and its private key (SetLocalCertificateChain and SetPrivateKey, or LoadKeyPair)")
		}
		if c.OcspStaplingEnabled() {
			return invalidUserData("Server-side QSslSocket does not support OCSP stapling")
		}
		if err := checkTicketKeys(c, true, backendByName(c.Backend())); err != nil {
			return err
		}
	}
	if err := checkECH(c, server, backendByName(c.Backend())); err != nil {
		return err
	}
	if staple := c.OcspStaple(); len(staple) > 0 {
		if len(chain) == 0 {
			return invalidUserData("an OCSP staple needs a certificate to be about")
		}
		if err := checkStaple(staple, chain, time.Now()); err != nil {
			return err
		}
	}
	return nil
}

// keyMatchesCertificate reports whether key is the private key of cert.
func keyMatchesCertificate(key Key, cert Certificate) error {
	if key.Type() != PrivateKey {
		return invalidUserData("the key set with the certificate is not a private key")
	}
	signer, ok := key.Handle().(crypto.Signer)
	if !ok {
		return invalidUserData("the private key cannot sign")
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if pub, ok := signer.Public().(equaler); !ok || !pub.Equal(cert.X509().PublicKey) {
		return invalidUserData(fmt.Sprintf("the private key does not belong to the certificate %q", cert.SubjectDisplayName()))
	}
	return nil
}

// checkStaple refuses an OCSP response a server should not staple: one that
// does not parse, is about another certificate, is not signed by the
// certificate's issuer (when the chain holds it), or has expired.
func checkStaple(der []byte, chain []Certificate, now time.Time) error {
	leaf := chain[0].X509()
	var issuer Certificate
	for _, c := range chain[1:] {
		if leaf.CheckSignatureFrom(c.X509()) == nil {
			issuer = c
			break
		}
	}
	var resp *ocsp.Response
	var err error
	if issuer.IsNull() {
		resp, err = ocsp.ParseResponse(der, nil)
	} else {
		resp, err = ocsp.ParseResponseForCert(der, leaf, issuer.X509())
	}
	if err != nil {
		return invalidUserData("the OCSP staple is not a valid OCSP response: " + err.Error())
	}
	if resp.SerialNumber == nil || resp.SerialNumber.Cmp(leaf.SerialNumber) != 0 {
		return invalidUserData("the OCSP staple is about another certificate (serial number differs)")
	}
	if !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate.Add(ocspLeeway)) {
		return invalidUserData("the OCSP staple has expired (next update was " + resp.NextUpdate.UTC().Format(time.RFC3339) + ")")
	}
	return nil
}

// checkStapleSyntax refuses bytes that are not an OCSP response.
func checkStapleSyntax(der []byte) error {
	if _, err := ocsp.ParseResponse(der, nil); err != nil {
		return invalidUserData("the OCSP staple is not a valid OCSP response: " + err.Error())
	}
	return nil
}

// Validate checks the configuration for a role before any connection, as
// Listen (mode SslServerMode) and Dial (SslClientMode) do: the protocol is
// supported; a certificate comes with its private key, and the key is the
// certificate's; a server has a certificate (or, for PSK, an identity
// hint); an OCSP staple parses, is about the certificate and has not
// expired. Problems match ErrInvalidUserData. Use it with NewServer, which
// cannot return an error.
func (c Configuration) Validate(mode SslMode) error {
	return validateConfiguration(c, mode == SslServerMode)
}
