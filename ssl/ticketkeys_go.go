package ssl

import (
	"crypto/tls"
	"errors"
	"slices"
)

// The go backend's shared session-ticket keys (ticketkeys.go): crypto/tls
// encrypts and decrypts each ticket (Config.EncryptTicket, DecryptTicket)
// with the 32-byte key derived from one of ours, and the ticket carries
// that key's 16-byte name in front, as OpenSSL's tickets do, so that the
// server picks the key by name and knows which one it was.

// Extension numbers of the ClientHello that may carry a ticket.
const (
	extSessionTicket = 35 // RFC 5077 (TLS 1.2)
	extPreSharedKey  = 41 // RFC 8446 (TLS 1.3 resumption)
)

var errNoTicketKeys = errors.New("ssl: the session ticket key source has no keys")

// goWrapTicket is crypto/tls's WrapSession with the source's first key.
func goWrapTicket(src TicketKeySource, cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
	keys := src.TicketKeys()
	if keys.Len() == 0 {
		return nil, errNoTicketKeys
	}
	k := keys.keys[0]
	t, err := k.goCfg.EncryptTicket(cs, ss)
	if err != nil {
		return nil, err
	}
	out := make([]byte, ticketKeyNameSize+len(t))
	copy(out, k.name[:])
	copy(out[ticketKeyNameSize:], t)
	return out, nil
}

// goUnwrapTicket is crypto/tls's UnwrapSession: the key named at the
// ticket's start decrypts it; an unknown name, a ticket that does not
// authenticate or does not parse is no session (a full handshake follows,
// as crypto/tls does with tickets it cannot use). found receives the key.
func goUnwrapTicket(src TicketKeySource, identity []byte, cs tls.ConnectionState, found func(*ticketKey)) (*tls.SessionState, error) {
	keys := src.TicketKeys()
	i := keys.Index(identity)
	if i < 0 {
		return nil, nil
	}
	k := keys.keys[i]
	ss, err := k.goCfg.DecryptTicket(identity[ticketKeyNameSize:], cs)
	if ss != nil && err == nil && found != nil {
		found(k)
	}
	return ss, err
}

// goTicketKeys makes tc, a server configuration, encrypt and decrypt its
// tickets with src's keys. Per connection (sh set) the key that opened a
// ticket is noted in sh; for a configuration shared by a snapshot's
// connections goNoteTicketKeys must follow.
func goTicketKeys(tc *tls.Config, src TicketKeySource, sh *goShared) error {
	if src.TicketKeys().Len() == 0 {
		return invalidUserData("The session ticket key source has no keys")
	}
	tc.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		return goWrapTicket(src, cs, ss)
	}
	var note func(*ticketKey)
	if sh != nil {
		note = sh.noteTicketKey
	}
	tc.UnwrapSession = func(id []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		return goUnwrapTicket(src, id, cs, note)
	}
	return nil
}

// goNoteTicketKeys completes goTicketKeys for a configuration shared by
// many connections (made last: it wraps GetConfigForClient): a connection
// that offers a ticket gets a copy whose UnwrapSession notes the key in
// the connection's own state, found through its transport.
func goNoteTicketKeys(tc *tls.Config, src TicketKeySource) {
	inner := tc.GetConfigForClient
	tls12Only := tc.MaxVersion != 0 && tc.MaxVersion < tls.VersionTLS13
	tc.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		var c *tls.Config
		if inner != nil {
			var err error
			if c, err = inner(hello); err != nil {
				return nil, err
			}
		}
		tr, ok := hello.Conn.(*goTransport)
		if !ok || tr.shared == nil || !offersTicket(hello, tls12Only) {
			return c, nil
		}
		if c == nil {
			c = tc
		}
		c = c.Clone()
		c.GetConfigForClient = nil
		sh := tr.shared
		c.UnwrapSession = func(id []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
			return goUnwrapTicket(src, id, cs, sh.noteTicketKey)
		}
		return c, nil
	}
}

// offersTicket reports whether a ClientHello may carry a ticket this
// server would try: a TLS 1.3 pre_shared_key, or a TLS 1.2 session_ticket
// (present, maybe empty) when TLS 1.2 will be negotiated.
func offersTicket(hello *tls.ClientHelloInfo, tls12Only bool) bool {
	if slices.Contains(hello.Extensions, extPreSharedKey) {
		return true
	}
	return slices.Contains(hello.Extensions, extSessionTicket) &&
		(tls12Only || !slices.Contains(hello.SupportedVersions, tls.VersionTLS13))
}

// noteTicketKey remembers the key that opened the session's ticket.
func (sh *goShared) noteTicketKey(k *ticketKey) { sh.ticketKeyID.Store(&k.id) }

// noteOfferedTicket remembers, on a client, the identifier of the key
// named at the start of the ticket it offers (RFC 5077's layout: OpenSSL,
// nginx, HAProxy and this package put the key name first).
func (sh *goShared) noteOfferedTicket(ticket []byte) {
	if len(ticket) >= ticketKeyNameSize {
		id := TicketKeyID(ticket[:ticketKeyNameSize])
		sh.ticketKeyID.Store(&id)
	}
}

// resumedTicketKey is the identifier noted for a resumed session, or "".
func (sh *goShared) resumedTicketKey(resumed bool) string {
	if !resumed {
		return ""
	}
	if p := sh.ticketKeyID.Load(); p != nil {
		return *p
	}
	return ""
}
