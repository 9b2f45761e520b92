package ssl

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/binary"
)

// The server's ephemeral key-exchange key travels in clear: in TLS 1.3 in
// the ServerHello's key_share extension, in TLS 1.2 in ServerKeyExchange.
// crypto/tls does not expose it, so a client's transport watches the
// handshake records it receives and keeps the last one it sees
// (QSslConfiguration::ephemeralServerKey).

// maxSniff bounds how much of the handshake is inspected.
const maxSniff = 64 << 10

// keySniffer reassembles plaintext handshake messages from raw records.
type keySniffer struct {
	raw  []byte // unparsed record bytes
	hs   []byte // handshake-protocol bytes from type-22 records
	seen int
	done bool
	key  Key
}

// feed takes bytes as they arrive from the server.
func (k *keySniffer) feed(p []byte) {
	if k.done {
		return
	}
	k.seen += len(p)
	if k.seen > maxSniff {
		k.done = true
		return
	}
	k.raw = append(k.raw, p...)
	for len(k.raw) >= 5 {
		n := int(binary.BigEndian.Uint16(k.raw[3:5]))
		if len(k.raw) < 5+n {
			return
		}
		typ, body := k.raw[0], k.raw[5:5+n]
		k.raw = k.raw[5+n:]
		switch typ {
		case 22: // handshake
			k.hs = append(k.hs, body...)
			k.messages()
		case 20: // ChangeCipherSpec: TLS 1.3 compatibility, or TLS 1.2 ending the clear part
		default: // application data: everything else is encrypted now
			k.done = true
			return
		}
	}
}

// messages parses the complete handshake messages buffered so far.
func (k *keySniffer) messages() {
	for len(k.hs) >= 4 {
		n := int(k.hs[1])<<16 | int(k.hs[2])<<8 | int(k.hs[3])
		if len(k.hs) < 4+n {
			return
		}
		typ, body := k.hs[0], k.hs[4:4+n]
		k.hs = k.hs[4+n:]
		switch typ {
		case 2: // ServerHello (a HelloRetryRequest is followed by another)
			if key, ok := serverHelloKeyShare(body); ok {
				k.key = key
			}
		case 12: // ServerKeyExchange, TLS 1.2 ECDHE: curve_type 3, named_curve, point
			if len(body) >= 4 && body[0] == 3 {
				group := binary.BigEndian.Uint16(body[1:3])
				if l := int(body[3]); len(body) >= 4+l {
					if key, ok := shareKey(group, body[4:4+l]); ok {
						k.key = key
					}
				}
			}
			k.done = true
		}
	}
}

// serverHelloKeyShare finds the key_share extension of a ServerHello.
func serverHelloKeyShare(b []byte) (Key, bool) {
	if len(b) < 35 {
		return Key{}, false
	}
	b = b[34:] // legacy_version, random
	sid := int(b[0])
	if len(b) < 1+sid+3+2 {
		return Key{}, false
	}
	b = b[1+sid+3:] // session id, cipher suite, compression method
	extLen := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if len(b) < extLen {
		return Key{}, false
	}
	b = b[:extLen]
	for len(b) >= 4 {
		typ, l := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < 4+l {
			return Key{}, false
		}
		data := b[4 : 4+l]
		b = b[4+l:]
		if typ == 0x0033 && len(data) >= 4 { // key_share: group, key_exchange
			group := binary.BigEndian.Uint16(data)
			kl := int(binary.BigEndian.Uint16(data[2:]))
			if len(data) >= 4+kl {
				return shareKey(group, data[4:4+kl])
			}
		}
	}
	return Key{}, false
}

// shareKey turns a named group's key share into a public Key. For the
// post-quantum hybrids it reports the classical (elliptic-curve) part.
func shareKey(group uint16, data []byte) (Key, bool) {
	switch group {
	case 29: // x25519
		if k, err := ecdh.X25519().NewPublicKey(data); err == nil {
			return NewKey(k), true
		}
	case 23, 24, 25: // secp256r1, secp384r1, secp521r1
		curve := map[uint16]elliptic.Curve{23: elliptic.P256(), 24: elliptic.P384(), 25: elliptic.P521()}[group]
		if k, err := ecdsa.ParseUncompressedPublicKey(curve, data); err == nil {
			return NewKey(k), true
		}
	case 0x11ec: // X25519MLKEM768: ML-KEM ciphertext, then the X25519 share
		if len(data) >= 32 {
			return shareKey(29, data[len(data)-32:])
		}
	case 0x11eb: // SecP256r1MLKEM768: the P-256 point first
		if len(data) >= 65 {
			return shareKey(23, data[:65])
		}
	case 0x11ed: // SecP384r1MLKEM1024
		if len(data) >= 97 {
			return shareKey(24, data[:97])
		}
	}
	return Key{}, false
}
