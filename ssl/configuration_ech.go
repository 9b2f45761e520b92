package ssl

import (
	"crypto/tls"
	"fmt"
	"slices"
)

// Encrypted Client Hello settings of a Configuration, and the session
// facts beyond Qt's (ECH, the key-exchange group). Qt has no ECH: this
// is the go backend's (crypto/tls's); FeatureEncryptedClientHello says
// which backends have it, and asking for it elsewhere fails.

// echSettings is a Configuration's ECH part.
type echSettings struct {
	configList []byte                    // client: the ECHConfigList (validated when set)
	publicName string                    // client: the outer name configList makes it send
	keys       []EncryptedClientHelloKey // server

	// Session facts (a socket's copy).
	accepted  bool
	outerName string
	group     tls.CurveID
}

func (e echSettings) clone() echSettings {
	e.configList = slices.Clone(e.configList)
	e.keys = slices.Clone(e.keys)
	return e
}

// SetEncryptedClientHelloConfigList makes a client use Encrypted Client
// Hello with list, a serialized ECHConfigList (the "ech" parameter of the
// server's DNS HTTPS record, or what `sslsock serve --ech-key` prints):
// the real server name goes in an encrypted inner ClientHello and the
// clear outer one carries only the configuration's public name. The
// handshake then succeeds only if the server accepts ECH (TLS 1.3 only);
// a rejection fails it with an *ECHRejectedError holding the server's
// retry configurations. Nothing falls back to a plain ClientHello.
//
// The list is checked now: one that does not parse, or that holds no
// configuration a client can use, is refused with an error matching
// ErrMalformedECHConfigList, and the configuration is unchanged. An empty
// list switches ECH off. Beyond Qt; backends without
// FeatureEncryptedClientHello refuse such a configuration.
func (c *Configuration) SetEncryptedClientHelloConfigList(list []byte) error {
	if len(list) == 0 {
		c.ech.configList, c.ech.publicName = nil, ""
		return nil
	}
	picked, err := pickECHConfig(list)
	if err != nil {
		return err
	}
	c.ech.configList, c.ech.publicName = slices.Clone(list), picked.publicName
	return nil
}

// EncryptedClientHelloConfigList returns the ECHConfigList a client uses
// (nil: no ECH).
func (c Configuration) EncryptedClientHelloConfigList() []byte { return slices.Clone(c.ech.configList) }

// EncryptedClientHelloPublicName returns the name a client's outer
// ClientHello will carry in clear: the public name of the configuration
// it picks from its ECHConfigList (the first usable one, as crypto/tls
// picks); "" without ECH.
func (c Configuration) EncryptedClientHelloPublicName() string { return c.ech.publicName }

// SetEncryptedClientHelloKeys gives a server its ECH keys (all open what
// clients send; those with SendAsRetry are offered to clients whose ECH
// could not be opened). Without keys a server ignores ECH: a client
// offering it sees a rejection without retry configurations.
func (c *Configuration) SetEncryptedClientHelloKeys(keys []EncryptedClientHelloKey) {
	c.ech.keys = slices.Clone(keys)
}

// EncryptedClientHelloKeys returns a server's ECH keys.
func (c Configuration) EncryptedClientHelloKeys() []EncryptedClientHelloKey {
	return slices.Clone(c.ech.keys)
}

// wantsECH reports whether the configuration asks for ECH in this role.
func (c Configuration) wantsECH(server bool) bool {
	if server {
		return len(c.ech.keys) > 0
	}
	return len(c.ech.configList) > 0
}

// SessionECHAccepted reports whether the session's handshake used
// Encrypted Client Hello (on a socket's or engine's configuration).
func (c Configuration) SessionECHAccepted() bool { return c.ech.accepted }

// SessionOuterServerName returns, when ECH was accepted, the server name
// of the clear outer ClientHello — the configuration's public name — while
// the inner, encrypted name is the session's server name
// (ConnectionState().ServerName; on a client, the name it asked for).
// On a server it is what the client sent in clear. "" without ECH.
func (c Configuration) SessionOuterServerName() string { return c.ech.outerName }

// SessionKeyExchangeGroup returns the key-exchange group the session
// negotiated (X25519MLKEM768, X25519, P-256, ffdhe2048, …; its String
// names it); 0 when there was none or the backend cannot tell (a TLS 1.2
// RSA key exchange, a TLS 1.2 resumption on the go backend).
func (c Configuration) SessionKeyExchangeGroup() tls.CurveID { return c.ech.group }

// setSessionExtras fills in the facts beyond Qt's (see setSession).
func (c *Configuration) setSessionExtras(st SessionState) {
	c.ech.accepted, c.ech.outerName, c.ech.group = st.ECHAccepted, st.OuterServerName, st.KeyExchangeGroup
}

// checkECH refuses, before any connection, an ECH request that cannot be
// honoured: a backend without FeatureEncryptedClientHello (never a plain
// ClientHello instead), a protocol range without TLS 1.3, a null key.
func checkECH(c Configuration, server bool, b Backend) error {
	if !c.wantsECH(server) {
		return nil
	}
	if b != nil && !slices.Contains(b.SupportedFeatures(), FeatureEncryptedClientHello) {
		return fmt.Errorf("%w: the %s backend has no Encrypted Client Hello (FeatureEncryptedClientHello); use the go backend", ErrUnsupported, b.Name())
	}
	if server {
		for _, k := range c.ech.keys {
			if k.IsNull() {
				return invalidUserData("a null Encrypted Client Hello key")
			}
		}
		return nil
	}
	if _, maxV, ok := c.Protocol().VersionRange(); ok && maxV != 0 && maxV < tls.VersionTLS13 {
		return invalidUserData(fmt.Sprintf("Encrypted Client Hello needs TLS 1.3, and the protocol is %s", c.Protocol()))
	}
	return nil
}

// SessionKeyExchangeGroup returns the negotiated key-exchange group (see
// Configuration.SessionKeyExchangeGroup).
func (s *Socket) SessionKeyExchangeGroup() tls.CurveID {
	return s.SslConfiguration().SessionKeyExchangeGroup()
}

// SessionECHAccepted reports whether the handshake used Encrypted Client Hello.
func (s *Socket) SessionECHAccepted() bool { return s.SslConfiguration().SessionECHAccepted() }

// SessionOuterServerName returns the clear outer server name of an ECH
// handshake (see Configuration.SessionOuterServerName).
func (s *Socket) SessionOuterServerName() string {
	return s.SslConfiguration().SessionOuterServerName()
}

// SessionKeyExchangeGroup returns the negotiated key-exchange group (see
// Configuration.SessionKeyExchangeGroup).
func (e *Engine) SessionKeyExchangeGroup() tls.CurveID {
	return e.SslConfiguration().SessionKeyExchangeGroup()
}

// SessionECHAccepted reports whether the handshake used Encrypted Client Hello.
func (e *Engine) SessionECHAccepted() bool { return e.SslConfiguration().SessionECHAccepted() }

// SessionOuterServerName returns the clear outer server name of an ECH
// handshake (see Configuration.SessionOuterServerName).
func (e *Engine) SessionOuterServerName() string {
	return e.SslConfiguration().SessionOuterServerName()
}
