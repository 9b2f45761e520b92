package ssl

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"sync"
	"time"
)

// Session tickets on the go backend.
//
// A Configuration's SessionTicket (with SslOptionDisableSessionPersistence
// off) holds a client session serialized by crypto/tls: the ticket the
// server sent and the session state, in a small container of our own. It is
// opaque, like Qt's (which is OpenSSL's i2d_SSL_SESSION), and only the go
// backend reads it.

// sessionMagic starts a serialized session.
var sessionMagic = []byte("sslsocket-go-session-1\n")

func encodeSession(cs *tls.ClientSessionState) ([]byte, error) {
	ticket, state, err := cs.ResumptionState()
	// An empty ticket resumes nothing: a TLS 1.2 server sends one to say
	// it will not issue a ticket after all (RFC 5077 §3.3).
	if err != nil || state == nil || len(ticket) == 0 {
		return nil, errors.New("ssl: session is not resumable")
	}
	st, err := state.Bytes()
	if err != nil {
		return nil, err
	}
	out := append([]byte(nil), sessionMagic...)
	out = binary.AppendUvarint(out, uint64(len(ticket)))
	out = append(out, ticket...)
	return append(out, st...), nil
}

func decodeSession(data []byte) (*tls.ClientSessionState, error) {
	rest, ok := bytes.CutPrefix(data, sessionMagic)
	if !ok {
		return nil, errors.New("ssl: not a session of the go backend")
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)-k) {
		return nil, errors.New("ssl: malformed session")
	}
	ticket, st := rest[k:k+int(n)], rest[k+int(n):]
	state, err := tls.ParseSessionState(st)
	if err != nil {
		return nil, err
	}
	return tls.NewResumptionState(bytes.Clone(ticket), state)
}

// sessionCache is the one-socket tls.ClientSessionCache: it offers the
// imported session and hands every new one to the socket.
type sessionCache struct {
	mu      sync.Mutex
	offered *tls.ClientSessionState
	hooks   SessionHooks
}

// Get offers the imported session, once.
func (c *sessionCache) Get(string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := c.offered
	c.offered = nil
	return cs, cs != nil
}

// Put exports a new session (TLS 1.3: each NewSessionTicket).
func (c *sessionCache) Put(_ string, cs *tls.ClientSessionState) {
	if cs == nil {
		return
	}
	if blob, err := encodeSession(cs); err == nil {
		c.hooks.NewSessionTicket(blob, -1) // crypto/tls keeps the lifetime hint to itself
	}
}

// Session ticket keys of the go backend's servers: shared by every server
// socket of the process, so that any of them resumes a session another
// issued, and rotated as crypto/tls rotates its own: a new key encrypts
// every day, and keys are accepted for a week, so a key that leaks opens a
// week of tickets, not every ticket the process ever issued.
const (
	ticketKeyRotation = 24 * time.Hour
	ticketKeyLifetime = 7 * 24 * time.Hour
)

// ticketKeyRing is the process's rotating ticket keys (the one piece of
// process-wide state of the go backend besides Qt's defaults).
type ticketKeyRing struct {
	mu   sync.Mutex
	keys [][32]byte  // newest first: keys[0] encrypts; guarded by mu
	born []time.Time // when each key was made; guarded by mu
	gen  uint64      // bumped by each rotation; guarded by mu
}

var processTicketKeys ticketKeyRing

// sessionTicketKeys returns the keys to use now and their generation (it
// changes when they rotate). The slice is never modified: callers share it.
func sessionTicketKeys() ([][32]byte, uint64) { return processTicketKeys.at(time.Now()) }

func (r *ticketKeyRing) at(now time.Time) ([][32]byte, uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.keys) > 0 && now.Sub(r.born[0]) < ticketKeyRotation {
		return r.keys, r.gen
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		panic("ssl: no randomness for session ticket keys: " + err.Error())
	}
	keys, born := [][32]byte{k}, []time.Time{now}
	for i := range r.keys { // the older keys still within their lifetime
		if now.Sub(r.born[i]) < ticketKeyLifetime {
			keys, born = append(keys, r.keys[i]), append(born, r.born[i])
		}
	}
	r.keys, r.born = keys, born // a new slice: what callers hold stays as it was
	r.gen++
	return r.keys, r.gen
}
