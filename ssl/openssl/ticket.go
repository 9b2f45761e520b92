//go:build cgo && (linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package openssl

import (
	"encoding/binary"
	"errors"

	"github.com/sslsocket/sslsocket/ssl"
)

// A session ticket of this backend (Configuration.SessionTicket) is
// libssl's i2d_SSL_SESSION plus the peer's certificate chain as it was
// verified, so that a resumed handshake is verified again on the whole
// chain (libssl keeps only the leaf in a serialized session):
//
//	"OSL1" | u32 len | session DER | u16 count | count × (u32 len | certificate DER)
const ticketMagic = "OSL1"

// Limits on what decodeTicket accepts.
const (
	maxTicketSize       = 1 << 20
	maxTicketChainCerts = 16
)

func encodeTicket(session []byte, chain []ssl.Certificate) []byte {
	out := make([]byte, 0, 4+4+len(session)+2+len(chain)*1024)
	out = append(out, ticketMagic...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(session)))
	out = append(out, session...)
	n := min(len(chain), maxTicketChainCerts)
	out = binary.BigEndian.AppendUint16(out, uint16(n))
	for _, c := range chain[:n] {
		der := c.ToDer()
		out = binary.BigEndian.AppendUint32(out, uint32(len(der)))
		out = append(out, der...)
	}
	return out
}

var errBadTicket = errors.New("not a session of the openssl backend")

func decodeTicket(t []byte) (session []byte, chain []ssl.Certificate, err error) {
	if len(t) > maxTicketSize || len(t) < 4 || string(t[:4]) != ticketMagic {
		return nil, nil, errBadTicket
	}
	t = t[4:]
	next := func() ([]byte, bool) {
		if len(t) < 4 {
			return nil, false
		}
		n := binary.BigEndian.Uint32(t)
		if uint64(n) > uint64(len(t)-4) {
			return nil, false
		}
		b := t[4 : 4+n]
		t = t[4+n:]
		return b, true
	}
	session, ok := next()
	if !ok || len(session) == 0 || len(t) < 2 {
		return nil, nil, errBadTicket
	}
	count := int(binary.BigEndian.Uint16(t))
	t = t[2:]
	if count > maxTicketChainCerts {
		return nil, nil, errBadTicket
	}
	for range count {
		der, ok := next()
		if !ok {
			return nil, nil, errBadTicket
		}
		c, err := ssl.ParseCertificate(der, ssl.Der)
		if err != nil {
			return nil, nil, err
		}
		chain = append(chain, c)
	}
	if len(t) != 0 {
		return nil, nil, errBadTicket
	}
	return session, chain, nil
}
