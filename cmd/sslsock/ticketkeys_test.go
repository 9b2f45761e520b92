package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
)

// keyServe is `sslsock serve --json` run as its own process from the
// built binary, its events collected as they come.
type keyServe struct {
	addr string
	mu   sync.Mutex
	out  bytes.Buffer
	cond *sync.Cond
	done bool
}

func startKeyServe(t *testing.T, args ...string) *keyServe {
	t.Helper()
	sb := &keyServe{addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	sb.cond = sync.NewCond(&sb.mu)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, sslsockBinary(t), append([]string{"serve", "--json", "--listen", sb.addr}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			sb.mu.Lock()
			sb.out.Write(sc.Bytes())
			sb.out.WriteByte('\n')
			sb.cond.Broadcast()
			sb.mu.Unlock()
		}
		sb.mu.Lock()
		sb.done = true
		sb.cond.Broadcast()
		sb.mu.Unlock()
	}()
	t.Cleanup(func() {
		cancel() // kills the process
		<-read
		_ = cmd.Wait()
	})
	sb.waitFor(t, func(ev map[string]any) bool { return ev["event"] == "listening" })
	return sb
}

// waitFor waits until an event matching ok was logged, and returns it; at
// most 30 s (a bound on a failure, never the measure of a success).
func (sb *keyServe) waitFor(t *testing.T, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	timer := time.AfterFunc(30*time.Second, func() {
		sb.mu.Lock()
		sb.done = true
		sb.cond.Broadcast()
		sb.mu.Unlock()
	})
	defer timer.Stop()
	sb.mu.Lock()
	defer sb.mu.Unlock()
	for seen := 0; ; {
		lines := strings.Split(sb.out.String(), "\n")
		for ; seen < len(lines)-1; seen++ {
			var ev map[string]any
			if json.Unmarshal([]byte(lines[seen]), &ev) == nil && ok(ev) {
				return ev
			}
		}
		if sb.done {
			t.Fatalf("serve %s: no such event in:\n%s", sb.addr, sb.out.String())
		}
		sb.cond.Wait()
	}
}

// keysLogged matches serve's "ticketKeys" event listing exactly ids.
func keysLogged(ids ...string) func(map[string]any) bool {
	return func(ev map[string]any) bool {
		if ev["event"] != "ticketKeys" {
			return false
		}
		got, _ := json.Marshal(ev["keys"])
		want, _ := json.Marshal(ids)
		return string(got) == string(want)
	}
}

// connectTicketJSON runs the built binary's connect --json and decodes its report.
func connectTicketJSON(t *testing.T, addr, ca, backend string, args ...string) connectReport {
	t.Helper()
	r := runBinary(t, nil, nil, append([]string{"connect", "--json", "--no-system-ca", "--ca", ca, "--backend", backend,
		"--verify-name", "localhost"}, append(args, addr)...)...)
	var rep connectReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || !rep.OK {
		t.Fatalf("connect %v: exit %d %v\n%s\n%s", args, r.code, err, r.stdout, r.stderr)
	}
	return rep
}

// TestServeTicketKeysAcrossProcesses: two `sslsock serve` processes share a
// --ticket-keys file; `connect --sess-out` on one and `--sess-in` on the
// other resumes; rotating the file (a new key prepended) keeps old
// sessions resuming and puts new ones under the new key; a corrupt file
// leaves the keys in use; a server with other keys makes a full
// handshake. Each backend with itself.
func TestServeTicketKeysAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	for _, backend := range ssl.AvailableBackends() {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			in := func(name string) string { return filepath.Join(dir, name) }
			for _, args := range [][]string{
				{"cert", "new", "--type", "ca", "--cn", "Ticket CA", "--out", in("ca")},
				{"cert", "new", "--san", "localhost,127.0.0.1", "--issuer-cert", in("ca.pem"), "--issuer-key", in("ca.key"), "--out", in("srv")},
			} {
				if r := runIn("", args...); r.code != 0 {
					t.Fatalf("%v: %s", args, r.stderr)
				}
			}
			key := func() (line, id string) {
				k := make([]byte, 80)
				if _, err := rand.Read(k); err != nil {
					t.Fatal(err)
				}
				return base64.StdEncoding.EncodeToString(k), ssl.TicketKeyID(k[:16])
			}
			k1, id1 := key()
			k2, id2 := key()
			k3, id3 := key()
			write := func(name string, lines ...string) {
				if err := os.WriteFile(in(name+".tmp"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Rename(in(name+".tmp"), in(name)); err != nil {
					t.Fatal(err)
				}
			}
			write("keys", k1)
			write("other", k3)
			serve := func(keys string) *keyServe {
				return startKeyServe(t, "--backend", backend, "--cert", in("srv.pem"), "--key", in("srv.key"), "--ticket-keys", in(keys))
			}
			a, b := serve("keys"), serve("keys")
			a.waitFor(t, keysLogged(id1))
			connect := func(sb *keyServe, args ...string) connectReport {
				return connectTicketJSON(t, sb.addr, in("ca.pem"), backend, args...)
			}

			rep := connect(a, "--sess-out", in("s1"))
			if rep.Resumed || rep.SessionOffered {
				t.Fatalf("first connection: resumed %v offered %v", rep.Resumed, rep.SessionOffered)
			}
			rep = connect(b, "--sess-in", in("s1"))
			if !rep.Resumed || rep.TicketKey != id1 {
				t.Fatalf("A's session on B: resumed %v key %q, want %q", rep.Resumed, rep.TicketKey, id1)
			}
			b.waitFor(t, func(ev map[string]any) bool {
				return ev["event"] == "encrypted" && ev["resumed"] == true && ev["ticketKey"] == id1
			})

			// Rotation: both servers take the new file up by themselves.
			write("keys", k2, k1)
			a.waitFor(t, keysLogged(id2, id1))
			b.waitFor(t, keysLogged(id2, id1))
			if rep = connect(b, "--sess-in", in("s1")); !rep.Resumed || rep.TicketKey != id1 {
				t.Errorf("old session after rotation: resumed %v key %q, want %q", rep.Resumed, rep.TicketKey, id1)
			}
			connect(a, "--session-out", in("s2"))
			if rep = connect(b, "--session-in", in("s2")); !rep.Resumed || rep.TicketKey != id2 {
				t.Errorf("new session after rotation: resumed %v key %q, want %q", rep.Resumed, rep.TicketKey, id2)
			}

			// A corrupt file: reported, and the keys in use stay.
			write("keys", k2[:40])
			ev := a.waitFor(t, func(ev map[string]any) bool { return ev["event"] == "ticketKeysError" })
			if msg, _ := ev["errorString"].(string); !strings.Contains(msg, "line 1") || !strings.Contains(msg, "stay in use") || strings.Contains(msg, k2[:20]) {
				t.Errorf("corrupt file reported as %q", msg)
			}
			if rep = connect(a, "--sess-in", in("s2")); !rep.Resumed || rep.TicketKey != id2 {
				t.Errorf("after a corrupt file: resumed %v key %q, want %q", rep.Resumed, rep.TicketKey, id2)
			}

			// A server without the keys: a full handshake, no error.
			c := serve("other")
			c.waitFor(t, keysLogged(id3))
			if rep = connect(c, "--sess-in", in("s2")); rep.Resumed || rep.TicketKey != "" || !rep.SessionOffered {
				t.Errorf("server without the key: resumed %v key %q offered %v", rep.Resumed, rep.TicketKey, rep.SessionOffered)
			}
			r := runBinary(t, nil, nil, "connect", "--no-system-ca", "--ca", in("ca.pem"), "--backend", backend, "--sess-in", in("s2"), "--send", `x\n`, c.addr)
			if !strings.Contains(r.stdout, "resumed:       no (the saved session was offered; the server made a full handshake)") {
				t.Errorf("the report does not say the session was not resumed:\n%s", r.stdout)
			}
			r = runBinary(t, nil, nil, "connect", "--no-system-ca", "--ca", in("ca.pem"), "--backend", backend, "--sess-in", in("s2"), "--send", `x\n`, b.addr)
			if !strings.Contains(r.stdout, "resumed:       yes (ticket key "+id2+")") {
				t.Errorf("the report does not say the session was resumed:\n%s", r.stdout)
			}
		})
	}
}

// TestServeTicketKeysBadFile: a missing, short or corrupt --ticket-keys
// file stops serve before it listens, with an error that names the problem
// and never the key.
func TestServeTicketKeysBadFile(t *testing.T) {
	dir := t.TempDir()
	k := make([]byte, 80)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(k)
	for _, tc := range []struct{ name, content, want string }{
		{"missing", "", "no such file"},
		{"short", base64.StdEncoding.EncodeToString(k[:32]), "line 1 holds 32 bytes, want 80 (or 48)"},
		{"corrupt", "# keys\n" + b64[:30] + "!" + b64[31:], "line 2 is not base64"},
		{"empty", "# no keys yet\n", "no keys"},
	} {
		path := filepath.Join(dir, tc.name)
		if tc.name != "missing" {
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		r := runIn("", "serve", "--listen", "127.0.0.1:0", "--ticket-keys", path, "--pki-dir", filepath.Join(dir, "pki"))
		if r.code != 2 || !strings.Contains(r.stderr, "--ticket-keys") || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stdout, "listening") {
			t.Errorf("%s file: exit %d\n%s\n%s", tc.name, r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr+r.stdout, b64[:16]) || strings.Contains(r.stderr+r.stdout, b64[20:36]) {
			t.Errorf("%s file: key material in the output", tc.name)
		}
	}
}
