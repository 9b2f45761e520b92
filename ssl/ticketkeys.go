package ssl

import (
	"bufio"
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Session-ticket keys shared by several servers (docs/session-resumption.md).
//
// A server encrypts the session state it hands a client as a ticket; any
// server holding the key resumes the session. Servers behind one load
// balancer therefore share an ordered set of keys: the first encrypts new
// tickets, every key decrypts, so a new key is prepended a while before
// it is used everywhere and an old one is kept for the ticket lifetime.
//
// A key is 80 bytes (or 48, the AES-128 form), laid out as HAProxy's
// tls-ticket-keys keys are:
//
//	80 bytes: name (16) | AES-256 key (32) | HMAC-SHA256 key (32)
//	48 bytes: name (16) | AES-128 key (16) | HMAC-SHA256 key (16)
//
// The name is sent in clear at the start of every ticket (RFC 5077's
// recommended layout) and picks the decrypting key; it is no secret. The
// openssl backend uses the parts as they are (AES-CBC and HMAC-SHA256 in
// libssl's ticket key callback). crypto/tls takes 32-byte keys, which the
// go backend derives from all the key's bytes with HKDF-SHA256 (no salt,
// info "sslsocket crypto/tls session ticket key"), and it prefixes the
// name to crypto/tls's ticket so that it, too, picks the key by name.

// TicketKeySize and TicketKeySizeAES128 are the two key sizes.
const (
	TicketKeySize       = 80 // name, AES-256 key, HMAC key
	TicketKeySizeAES128 = 48 // name, AES-128 key, HMAC key
	ticketKeyNameSize   = 16
	maxTicketKeys       = 256
)

// ErrInvalidTicketKeys matches (errors.Is) every problem with session
// ticket keys: a key of the wrong size, a line that is not base64, no key
// at all, two keys with the same name. Its messages never contain key
// material.
var ErrInvalidTicketKeys = errors.New("ssl: invalid session ticket keys")

// goTicketKeyInfo is the HKDF info of the go backend's derived keys.
const goTicketKeyInfo = "sslsocket crypto/tls session ticket key"

// ticketKey is one key; immutable.
type ticketKey struct {
	name [ticketKeyNameSize]byte
	raw  []byte // the 48 or 80 bytes: secret, never printed
	id   string // TicketKeyID(name)
	// goCfg holds the go backend's derived key: crypto/tls encrypts and
	// decrypts tickets with it (Config.EncryptTicket, DecryptTicket).
	goCfg *tls.Config
}

// TicketKeys is an ordered, immutable set of session-ticket keys: the
// first encrypts new tickets, every key decrypts. It is its own
// TicketKeySource. Its String and errors name keys only by their
// identifiers (TicketKeyID), never by their bytes.
type TicketKeys struct {
	keys []*ticketKey
}

// TicketKeySource gives a server the keys to use now. TicketKeys is a
// fixed source; TicketKeyFile reloads a file when it changes.
// Implementations must be safe for concurrent use; a server calls
// TicketKeys for each ticket it issues or opens.
type TicketKeySource interface {
	TicketKeys() *TicketKeys
}

// NewTicketKeys makes a key set from raw keys of TicketKeySize (or
// TicketKeySizeAES128) bytes each, newest first. The bytes are copied.
func NewTicketKeys(keys ...[]byte) (*TicketKeys, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidTicketKeys)
	}
	if len(keys) > maxTicketKeys {
		return nil, fmt.Errorf("%w: %d keys (at most %d)", ErrInvalidTicketKeys, len(keys), maxTicketKeys)
	}
	ks := &TicketKeys{keys: make([]*ticketKey, 0, len(keys))}
	for i, raw := range keys {
		k, err := newTicketKey(raw)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		for j, other := range ks.keys {
			if other.name == k.name {
				return nil, fmt.Errorf("%w: key %d has the name of key %d (%s)", ErrInvalidTicketKeys, i+1, j+1, k.id)
			}
		}
		ks.keys = append(ks.keys, k)
	}
	return ks, nil
}

func newTicketKey(raw []byte) (*ticketKey, error) {
	if len(raw) != TicketKeySize && len(raw) != TicketKeySizeAES128 {
		return nil, fmt.Errorf("%w: a key has %d bytes, want %d (or %d)", ErrInvalidTicketKeys, len(raw), TicketKeySize, TicketKeySizeAES128)
	}
	k := &ticketKey{raw: bytes.Clone(raw)}
	copy(k.name[:], raw)
	k.id = TicketKeyID(k.name[:])
	derived, err := hkdf.Key(sha256.New, k.raw, nil, goTicketKeyInfo, 32)
	if err != nil {
		return nil, err
	}
	k.goCfg = &tls.Config{}
	k.goCfg.SetSessionTicketKeys([][32]byte{[32]byte(derived)})
	clear(derived)
	return k, nil
}

// ParseTicketKeys reads keys in the format of a ticket key file: one key
// per line, base64 (standard alphabet, padding optional) of TicketKeySize
// or TicketKeySizeAES128 bytes, newest first, as `openssl rand 80 | base64
// -w0` prints one. Empty lines and lines starting with '#' are skipped.
// Errors say which line is wrong, never what it holds.
func ParseTicketKeys(data []byte) (*TicketKeys, error) {
	var raws [][]byte
	defer func() {
		for _, r := range raws {
			clear(r)
		}
	}()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			raw, err = base64.RawStdEncoding.DecodeString(text)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: line %d is not base64", ErrInvalidTicketKeys, line)
		}
		if len(raw) != TicketKeySize && len(raw) != TicketKeySizeAES128 {
			clear(raw)
			return nil, fmt.Errorf("%w: line %d holds %d bytes, want %d (or %d)", ErrInvalidTicketKeys, line, len(raw), TicketKeySize, TicketKeySizeAES128)
		}
		raws = append(raws, raw)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: line %d: %v", ErrInvalidTicketKeys, line+1, err)
	}
	return NewTicketKeys(raws...)
}

// TicketKeyID is the identifier of the key whose 16-byte name is given:
// the first 4 bytes of SHA-256(name), in hex. The name is sent in clear
// in every ticket, so the identifier gives nothing away; it is what the
// session facts (Socket.SessionTicketKeyID), logs and String show.
func TicketKeyID(name []byte) string {
	sum := sha256.Sum256(name)
	return hex.EncodeToString(sum[:4])
}

// TicketKeys returns k itself: a fixed key set is a TicketKeySource.
func (k *TicketKeys) TicketKeys() *TicketKeys { return k }

// Len is the number of keys.
func (k *TicketKeys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.keys)
}

// ID returns the identifier (TicketKeyID) of the i-th key; keys[0] encrypts.
func (k *TicketKeys) ID(i int) string { return k.keys[i].id }

// IDs returns the identifiers of every key, the encrypting one first.
func (k *TicketKeys) IDs() []string {
	ids := make([]string, k.Len())
	for i := range ids {
		ids[i] = k.keys[i].id
	}
	return ids
}

// String names the keys by their identifiers only.
func (k *TicketKeys) String() string {
	if k.Len() == 0 {
		return "no session ticket keys"
	}
	s := fmt.Sprintf("%d session ticket key(s): %s encrypts", k.Len(), k.keys[0].id)
	if k.Len() > 1 {
		s += ", " + strings.Join(k.IDs()[1:], ", ") + " also decrypt"
	}
	return s
}

// Index returns the position of the key whose 16-byte name starts a
// ticket, or -1 when none has that name. Backends use it to pick the
// decrypting key.
func (k *TicketKeys) Index(name []byte) int {
	if len(name) < ticketKeyNameSize {
		return -1
	}
	for i, key := range k.keys {
		if subtle.ConstantTimeCompare(key.name[:], name[:ticketKeyNameSize]) == 1 {
			return i
		}
	}
	return -1
}

// Name returns the 16-byte name of the i-th key (public: it is sent in
// every ticket).
func (k *TicketKeys) Name(i int) [16]byte { return k.keys[i].name }

// Secret returns copies of the i-th key's AES key (32 or 16 bytes) and
// HMAC-SHA256 key (32 or 16 bytes), for a backend that encrypts tickets
// with them (the openssl backend). They are secret: never log them, and
// clear them after use.
func (k *TicketKeys) Secret(i int) (aesKey, hmacKey []byte) {
	raw := k.keys[i].raw
	n := (len(raw) - ticketKeyNameSize) / 2
	return bytes.Clone(raw[16 : 16+n]), bytes.Clone(raw[16+n:])
}

// SetSessionTicketKeys makes a server encrypt its session tickets with the
// first key src gives and accept tickets under any of them, so that
// servers sharing the keys (several processes, machines behind a load
// balancer) resume each other's sessions. Nil, the default, keeps each
// process's own keys (a new one every day, each accepted for a week). On
// clients it has no effect. Backends without FeatureSessionTicketKeys
// refuse a server configuration that sets it (ErrUnsupported).
func (c *Configuration) SetSessionTicketKeys(src TicketKeySource) { c.ticketKeys = src }

// SessionTicketKeys returns the source set with SetSessionTicketKeys, or nil.
func (c Configuration) SessionTicketKeys() TicketKeySource { return c.ticketKeys }

// checkTicketKeys refuses a server configuration with session ticket keys
// on a backend that cannot use them, and a source with no keys.
func checkTicketKeys(c Configuration, server bool, b Backend) error {
	if !server || c.ticketKeys == nil {
		return nil
	}
	if b != nil && !slices.Contains(b.SupportedFeatures(), FeatureSessionTicketKeys) {
		return fmt.Errorf("%w: the %s backend cannot use the application's session ticket keys (no %v)", ErrUnsupported, b.Name(), FeatureSessionTicketKeys)
	}
	if c.ticketKeys.TicketKeys().Len() == 0 {
		return invalidUserData("The session ticket key source has no keys")
	}
	return nil
}
