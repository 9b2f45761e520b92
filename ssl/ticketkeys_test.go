package ssl

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// newRawTicketKey returns size random bytes, as `openssl rand 80` does.
func newRawTicketKey(t testing.TB, size int) []byte {
	t.Helper()
	k := make([]byte, size)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// ticketKeyFileText is a key file holding keys, newest first.
func ticketKeyFileText(keys ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString("# session ticket keys, newest first\n")
	for _, k := range keys {
		b.WriteString(base64.StdEncoding.EncodeToString(k) + "\n")
	}
	return b.Bytes()
}

// writeFileAtomic replaces path, as an operator rotating keys does.
func writeFileAtomic(t testing.TB, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// noKeyMaterial fails when text shows any key's bytes (raw, hex-ish or base64).
func noKeyMaterial(t *testing.T, text string, keys ...[]byte) {
	t.Helper()
	for _, k := range keys {
		b64 := base64.StdEncoding.EncodeToString(k)
		if strings.Contains(text, b64[:12]) || strings.Contains(text, string(k[16:32])) ||
			strings.Contains(strings.ToLower(text), strings.ToLower(strings.TrimSpace(hexString(k[16:24])))) {
			t.Errorf("key material in %q", text)
		}
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestParseTicketKeys(t *testing.T) {
	k80, k48 := newRawTicketKey(t, 80), newRawTicketKey(t, 48)
	text := "\n# newest first\n" + base64.StdEncoding.EncodeToString(k80) + "\n  " +
		base64.RawStdEncoding.EncodeToString(k48) + "  \r\n\n"
	keys, err := ParseTicketKeys([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	if keys.Len() != 2 || keys.ID(0) != TicketKeyID(k80[:16]) || keys.ID(1) != TicketKeyID(k48[:16]) {
		t.Fatalf("keys %v", keys.IDs())
	}
	if len(keys.ID(0)) != 8 {
		t.Errorf("identifier %q: want 8 hex digits", keys.ID(0))
	}
	if keys.Index(k48[:16]) != 1 || keys.Index(k80) != 0 || keys.Index(make([]byte, 16)) != -1 || keys.Index(k80[:4]) != -1 {
		t.Error("Index")
	}
	// The HAProxy layout: name, AES key, HMAC key.
	aes, mac := keys.Secret(0)
	if !bytes.Equal(aes, k80[16:48]) || !bytes.Equal(mac, k80[48:80]) {
		t.Error("80-byte key: AES-256 key is bytes 16..48, HMAC key 48..80")
	}
	aes, mac = keys.Secret(1)
	if !bytes.Equal(aes, k48[16:32]) || !bytes.Equal(mac, k48[32:48]) {
		t.Error("48-byte key: AES-128 key is bytes 16..32, HMAC key 32..48")
	}
	s := keys.String()
	if !strings.Contains(s, keys.ID(0)) || !strings.Contains(s, keys.ID(1)) {
		t.Errorf("String %q names no key", s)
	}
	noKeyMaterial(t, s, k80, k48)

	for _, tc := range []struct{ name, text, want string }{
		{"empty", "", "no keys"},
		{"comments only", "# nothing\n\n", "no keys"},
		{"short key", base64.StdEncoding.EncodeToString(k80[:32]), "line 1 holds 32 bytes, want 80 (or 48)"},
		{"long key", base64.StdEncoding.EncodeToString(append(k80, 1)), "line 1 holds 81 bytes"},
		{"not base64", base64.StdEncoding.EncodeToString(k80) + "\n" + "not*base64!" + base64.StdEncoding.EncodeToString(k48), "line 2 is not base64"},
		{"truncated", base64.StdEncoding.EncodeToString(k80)[:50], "line 1"},
		{"duplicate name", base64.StdEncoding.EncodeToString(k80) + "\n" + base64.StdEncoding.EncodeToString(append(k80[:16:16], newRawTicketKey(t, 64)...)), "key 2 has the name of key 1"},
	} {
		_, err := ParseTicketKeys([]byte(tc.text))
		if !errors.Is(err, ErrInvalidTicketKeys) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrInvalidTicketKeys saying %q", tc.name, err, tc.want)
			continue
		}
		noKeyMaterial(t, err.Error(), k80, k48)
	}
	if _, err := NewTicketKeys(); !errors.Is(err, ErrInvalidTicketKeys) {
		t.Errorf("no keys: %v", err)
	}
}

func TestTicketKeyFileReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ticket.keys")
	if _, err := OpenTicketKeyFile(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	k1, k2, k3 := newRawTicketKey(t, 80), newRawTicketKey(t, 80), newRawTicketKey(t, 48)
	writeFileAtomic(t, path, ticketKeyFileText(k1))
	f, err := OpenTicketKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f.SetCheckInterval(-1) // only Reload looks
	id1, id2, id3 := TicketKeyID(k1[:16]), TicketKeyID(k2[:16]), TicketKeyID(k3[:16])
	if ids := f.TicketKeys().IDs(); len(ids) != 1 || ids[0] != id1 || f.Generation() != 1 {
		t.Fatalf("loaded %v gen %d", ids, f.Generation())
	}
	if changed, err := f.Reload(); changed || err != nil {
		t.Errorf("unchanged file: changed %v, %v", changed, err)
	}

	// Rotation: the new key prepended, the old one kept.
	writeFileAtomic(t, path, ticketKeyFileText(k2, k1))
	if changed, err := f.Reload(); !changed || err != nil {
		t.Fatalf("rotated file: changed %v, %v", changed, err)
	}
	if ids := f.TicketKeys().IDs(); len(ids) != 2 || ids[0] != id2 || ids[1] != id1 {
		t.Fatalf("after rotation %v", ids)
	}

	// Bad files keep the keys in use, with a clear error.
	for _, bad := range []struct {
		name string
		data []byte
		want string
	}{
		{"short", []byte(base64.StdEncoding.EncodeToString(k1[:40]) + "\n"), "line 1 holds 40 bytes"},
		{"corrupt", append(ticketKeyFileText(k3), "#\n@@@@\n"...), "line 4 is not base64"},
		{"empty", nil, "no keys"},
	} {
		writeFileAtomic(t, path, bad.data)
		changed, err := f.Reload()
		if changed || !errors.Is(err, ErrInvalidTicketKeys) || !strings.Contains(err.Error(), bad.want) ||
			!strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "stay in use") {
			t.Errorf("%s file: changed %v, %v", bad.name, changed, err)
		}
		if f.Err() == nil || f.Err().Error() != err.Error() {
			t.Errorf("%s file: Err() %v", bad.name, f.Err())
		}
		if ids := f.TicketKeys().IDs(); len(ids) != 2 || ids[0] != id2 {
			t.Errorf("%s file: keys now %v", bad.name, ids)
		}
		noKeyMaterial(t, err.Error(), k1, k2, k3)
	}
	os.Remove(path)
	if _, err := f.Reload(); !errors.Is(err, fs.ErrNotExist) || f.TicketKeys().ID(0) != id2 {
		t.Errorf("removed file: %v, keys %v", err, f.TicketKeys().IDs())
	}
	noKeyMaterial(t, f.String(), k1, k2)

	// A good file again: taken up, the error cleared. With a check
	// interval of 0 TicketKeys itself looks at the file.
	f.SetCheckInterval(0)
	writeFileAtomic(t, path, ticketKeyFileText(k3, k2))
	if ids := f.TicketKeys().IDs(); len(ids) != 2 || ids[0] != id3 || ids[1] != id2 || f.Err() != nil {
		t.Errorf("recovered: %v, %v", ids, f.Err())
	}
	// The default interval looks at most once a second: a change right
	// after a look waits for the next.
	f.SetCheckInterval(time.Hour)
	f.TicketKeys()
	writeFileAtomic(t, path, ticketKeyFileText(k1))
	if f.TicketKeys().ID(0) != id3 {
		t.Error("the file was looked at again before the interval passed")
	}
	if changed, err := f.Reload(); !changed || err != nil || f.TicketKeys().ID(0) != id1 {
		t.Errorf("Reload: %v %v", changed, err)
	}
}

func TestTicketKeysUnsupportedBackend(t *testing.T) {
	keys, err := NewTicketKeys(newRawTicketKey(t, 80))
	if err != nil {
		t.Fatal(err)
	}
	p := newTestPKI(t)
	cfg := p.serverConfig(p.server)
	cfg.SetSessionTicketKeys(keys)
	b := noTicketKeysBackend{goBackend{}}
	if err := checkTicketKeys(cfg, true, b); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "SessionTicketKeys") {
		t.Errorf("backend without the feature: %v", err)
	}
	if err := checkTicketKeys(cfg, false, b); err != nil {
		t.Errorf("clients ignore the keys: %v", err)
	}
	cfg.SetSessionTicketKeys((*TicketKeys)(nil))
	if err := validateConfiguration(cfg, true); !errors.Is(err, ErrInvalidUserData) {
		t.Errorf("a source without keys: %v", err)
	}
}

// noTicketKeysBackend is the go backend without FeatureSessionTicketKeys.
type noTicketKeysBackend struct{ goBackend }

func (noTicketKeysBackend) SupportedFeatures() []SupportedFeature {
	return []SupportedFeature{FeatureSessionTicket}
}

// ticketClient connects with persistence on, offering ticket when set, and
// reports whether the handshake resumed, the key identifier the client
// sees, the server's, and the first new ticket received.
func ticketClient(t *testing.T, cfg Configuration, srv *Server, accepted chan *Socket, ticket []byte) (resumed bool, clientID, serverID string, next []byte) {
	t.Helper()
	cfg.SetSslOption(SslOptionDisableSessionPersistence, false)
	cfg.SetSessionTicket(ticket)
	s := NewSocket()
	defer s.Close()
	s.SetSslConfiguration(cfg)
	got := make(chan struct{}, 8)
	s.OnNewSessionTicketReceived(func() { got <- struct{}{} })
	s.ConnectToHostEncrypted("localhost", serverPort(srv))
	if !s.WaitForEncrypted(10 * time.Second) {
		t.Fatalf("handshake: %s", s.ErrorString())
	}
	select {
	case ss := <-accepted:
		serverID = ss.SessionTicketKeyID()
		if ss.IsSessionResumed() != s.IsSessionResumed() {
			t.Errorf("server resumed %v, client %v", ss.IsSessionResumed(), s.IsSessionResumed())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server accepted nothing")
	}
	// TLS 1.2 tickets come inside the handshake (a resumed one only when
	// the server renews it); TLS 1.3 ones after it.
	if s.SessionProtocol() == TlsV1_3 {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatalf("no session ticket (resumed %v, key %q)", s.IsSessionResumed(), s.SessionTicketKeyID())
		}
	}
	if next = s.SslConfiguration().SessionTicket(); bytes.Equal(next, ticket) {
		next = nil
	}
	return s.IsSessionResumed(), s.SessionTicketKeyID(), serverID, next
}

// ticketServer is a Server whose accepted sockets are handed to the test
// (and read until the client leaves).
func ticketServer(t *testing.T, cfg Configuration) (*Server, chan *Socket) {
	t.Helper()
	srv := newTestServer(t, cfg)
	accepted := make(chan *Socket, 8)
	acceptAll(srv, func(s *Socket) {
		accepted <- s
		s.Read(make([]byte, 10))
	})
	return srv, accepted
}

// TestSharedTicketKeys: two Servers sharing a ticket key file resume each
// other's sessions; after the file is rotated, old tickets still resume and
// new ones are issued under the new key; a server without the key makes a
// full handshake. Both backends (each with itself), TLS 1.3 and 1.2.
func TestSharedTicketKeys(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		for _, proto := range []Protocol{TlsV1_3, TlsV1_2} {
			t.Run(proto.String(), func(t *testing.T) {
				p := newTestPKI(t).with(m)
				path := filepath.Join(t.TempDir(), "ticket.keys")
				k1, k2 := newRawTicketKey(t, 80), newRawTicketKey(t, 48)
				id1, id2 := TicketKeyID(k1[:16]), TicketKeyID(k2[:16])
				writeFileAtomic(t, path, ticketKeyFileText(k1))
				// Each server its own source over the same file, as two
				// processes would have.
				serverOn := func(src TicketKeySource) (*Server, chan *Socket) {
					cfg := p.serverConfig(p.server)
					if src != nil {
						cfg.SetSessionTicketKeys(src)
					}
					return ticketServer(t, cfg)
				}
				open := func() *TicketKeyFile {
					f, err := OpenTicketKeyFile(path)
					if err != nil {
						t.Fatal(err)
					}
					f.SetCheckInterval(-1)
					return f
				}
				fa, fb := open(), open()
				a, acceptedA := serverOn(fa)
				b, acceptedB := serverOn(fb)
				cfg := p.clientConfig()
				cfg.SetProtocol(proto)

				resumed, _, _, ticket := ticketClient(t, cfg, a, acceptedA, nil)
				if resumed {
					t.Fatal("first handshake resumed")
				}
				resumed, cid, sid, _ := ticketClient(t, cfg, b, acceptedB, ticket)
				if !resumed || cid != id1 || sid != id1 {
					t.Fatalf("A's ticket on B: resumed %v, key %q (client) %q (server), want %q", resumed, cid, sid, id1)
				}

				// Rotation: k2 prepended on both servers.
				writeFileAtomic(t, path, ticketKeyFileText(k2, k1))
				for _, f := range []*TicketKeyFile{fa, fb} {
					if changed, err := f.Reload(); !changed || err != nil {
						t.Fatalf("reload: %v %v", changed, err)
					}
				}
				resumed, cid, sid, renewed := ticketClient(t, cfg, a, acceptedA, ticket)
				if !resumed || cid != id1 || sid != id1 {
					t.Fatalf("old ticket after rotation: resumed %v, key %q/%q, want %q", resumed, cid, sid, id1)
				}
				// The ticket issued on that connection is under the new key.
				// TLS 1.3 issues one after every handshake; in TLS 1.2
				// crypto/tls issues none on resumption, and libssl's client
				// keeps the one its server renews to itself (its new-session
				// callback runs for new sessions only).
				if renewed == nil && proto == TlsV1_3 {
					t.Error("no new ticket on a connection resumed with an old key")
				}
				if renewed != nil {
					resumed, cid, sid, _ = ticketClient(t, cfg, b, acceptedB, renewed)
					if !resumed || cid != id2 || sid != id2 {
						t.Errorf("ticket issued after rotation: resumed %v, key %q/%q, want the new key %q", resumed, cid, sid, id2)
					}
				}
				_, _, _, fresh := ticketClient(t, cfg, b, acceptedB, nil)
				resumed, cid, sid, _ = ticketClient(t, cfg, a, acceptedA, fresh)
				if !resumed || cid != id2 || sid != id2 {
					t.Errorf("new session after rotation: resumed %v, key %q/%q, want %q", resumed, cid, sid, id2)
				}

				// Servers without the keys: full handshakes, no error.
				other, err := NewTicketKeys(newRawTicketKey(t, 80))
				if err != nil {
					t.Fatal(err)
				}
				c, acceptedC := serverOn(other)
				d, acceptedD := serverOn(nil) // the process's own keys
				for srv, acc := range map[*Server]chan *Socket{c: acceptedC, d: acceptedD} {
					resumed, cid, sid, _ = ticketClient(t, cfg, srv, acc, ticket)
					if resumed || cid != "" || sid != "" {
						t.Errorf("server without the key: resumed %v, key %q/%q", resumed, cid, sid)
					}
				}
			})
		}
	})
}
