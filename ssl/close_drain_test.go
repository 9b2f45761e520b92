package ssl

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

// largeClientHello is a TLS 1.2 ClientHello of about size bytes (records
// included): extCount unknown extensions fill it up to the 64 KiB an
// extension block can hold, zeros beyond. It offers only
// TLS_RSA_WITH_NULL_MD5, which no server of ours accepts: the answer is a
// fatal alert — handshake_failure; or, for a message over a library's size
// limit (crypto/tls: 64 KiB; OpenSSL: about 128 KiB), an alert sent after
// reading only its header, while the client is still sending the rest.
func largeClientHello(size, extCount int) []byte {
	var body []byte
	body = append(body, 0x03, 0x03)             // client_version TLS 1.2
	body = append(body, make([]byte, 32)...)    // random
	body = append(body, 32)                     // session_id
	body = append(body, make([]byte, 32)...)    //
	body = append(body, 0x00, 0x02, 0x00, 0x01) // cipher_suites: TLS_RSA_WITH_NULL_MD5
	body = append(body, 0x01, 0x00)             // compression: null
	msgLen := size - 5*(size/16384+1) - 4
	extTotal := min(max(msgLen-len(body)-2, extCount*4), 0xffff)
	each := extTotal/extCount - 4
	var ext []byte
	for i := 0; i < extCount; i++ {
		n := each
		if i == extCount-1 {
			n = extTotal - len(ext) - 4
		}
		ext = binary.BigEndian.AppendUint16(ext, uint16(0x7a00+i)) // unassigned types
		ext = binary.BigEndian.AppendUint16(ext, uint16(n))
		ext = append(ext, make([]byte, n)...)
	}
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)
	if len(body) < msgLen {
		body = append(body, make([]byte, msgLen-len(body))...)
	}
	msg := []byte{1, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}
	msg = append(msg, body...)
	var out []byte
	for len(msg) > 0 {
		n := min(len(msg), 16384)
		out = append(out, 0x16, 0x03, 0x01, byte(n>>8), byte(n))
		out = append(out, msg[:n]...)
		msg = msg[n:]
	}
	return out
}

// TestAlertSurvivesLargeClientHello: a client sends a ClientHello of tens
// of KiB with many extensions (or hundreds of KiB), which the Server must
// refuse with a fatal alert; the client must be able to send it all, read
// that alert and then the end of the connection (the server's FIN) every
// time, never a reset (ECONNRESET or EPIPE on its write, ECONNRESET on
// its read) that destroyed the alert or could have.
func TestAlertSurvivesLargeClientHello(t *testing.T) {
	checkNoLeaks(t)
	// 20 KiB … 68 KiB (the largest beyond crypto/tls's limit) with 50 …
	// 410 extensions, and 300 KiB … 900 KiB as test suites also send
	// (beyond every library's limit, within drainBytes).
	var hellos [][]byte
	for k := 0; k < 13; k++ {
		hellos = append(hellos, largeClientHello(20<<10+k*4<<10, 50+k*30))
	}
	for k := 0; k < 7; k++ {
		hellos = append(hellos, largeClientHello(300<<10+k*100<<10, 400))
	}
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		// Qt's idiom: abort on error. The alert went out before
		// errorOccurred: Abort must not destroy it.
		srv.OnErrorOccurred(func(s *Socket, _ SocketError) { s.Abort() })
		acceptAll(srv, func(*Socket) {})
		addr := srv.Addr().String()
		const rounds = 200
		var f failures
		for i := 0; i < rounds; i++ {
			hello := hellos[i%13] // three in four: tens of KiB
			if i%4 == 3 {
				hello = hellos[13+i%7]
			}
			f.add(sendHelloReadAlert(addr, hello))
		}
		f.check(t, rounds)
	})
}

// failures counts the connections of a loop that did not get their
// alert, by what went wrong.
type failures struct {
	n     int
	kinds map[string]int
	first error
}

// failure is a connection's failure of kind ("write reset", "alert
// lost", "reset after the alert").
type failure struct {
	kind string
	err  error
}

func (f *failure) Error() string { return f.kind + ": " + f.err.Error() }

func (f *failures) add(err error) {
	if err == nil {
		return
	}
	f.n++
	if f.first == nil {
		f.first = err
	}
	if f.kinds == nil {
		f.kinds = map[string]int{}
	}
	kind := "other"
	var fe *failure
	if errors.As(err, &fe) {
		kind = fe.kind
	}
	f.kinds[kind]++
}

func (f *failures) check(t *testing.T, rounds int) {
	t.Helper()
	if f.n > 0 {
		t.Fatalf("%d of %d connections failed %v; first: %v", f.n, rounds, f.kinds, f.first)
	}
}

// sendHelloReadAlert sends hello on a new connection and reads the answer:
// nil if it is a fatal alert.
func sendHelloReadAlert(addr string, hello []byte) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	for len(hello) > 0 { // a record per write, as test suites send them
		n := 5 + int(binary.BigEndian.Uint16(hello[3:5]))
		if _, err := c.Write(hello[:n]); err != nil {
			return &failure{"write reset", err}
		}
		hello = hello[n:]
	}
	hdr := make([]byte, 7)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return &failure{"alert lost", err}
	}
	if hdr[0] != 0x15 || hdr[5] != 2 {
		return &failure{"alert lost", fmt.Errorf("got % x, want a fatal alert", hdr)}
	}
	if rest, err := io.ReadAll(c); err != nil || len(rest) > 0 {
		return &failure{"reset after the alert", fmt.Errorf("%d bytes, %v; want an orderly end", len(rest), err)}
	}
	return nil
}

// keyUpdateFlood is what a TLS 1.3 client whose application traffic
// secret is secret (suite: the negotiated TLS 1.3 cipher suite) sends to
// update its keys valid times in a row without any data between, as
// records encrypted by hand, followed by total-valid records like them
// but with a broken tag. crypto/tls refuses more than 16 updates in a row
// (a fatal unexpected_message alert); OpenSSL 3.0 takes any number and
// refuses the first broken record (bad_record_mac). Either way most of
// the flood is still unread when the alert goes out.
func keyUpdateFlood(t *testing.T, suite uint16, secret []byte, valid, total int) []byte {
	t.Helper()
	newHash, keyLen := sha256.New, 16
	switch suite {
	case tls.TLS_AES_256_GCM_SHA384:
		newHash, keyLen = sha512.New384, 32
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		keyLen = 32
	}
	label := func(secret []byte, label string, n int) []byte {
		info := binary.BigEndian.AppendUint16(nil, uint16(n))
		info = append(info, byte(6+len(label)))
		info = append(info, "tls13 "+label...)
		info = append(info, 0) // no context
		out, err := hkdf.Expand(newHash, secret, string(info), n)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	// KeyUpdate(update_not_requested), then the inner content type.
	inner := []byte{24, 0, 0, 1, 0, 0x16}
	var out, rec []byte
	for i := 0; i <= valid; i++ {
		key, iv := label(secret, "key", keyLen), label(secret, "iv", 12) // sequence number 0: the nonce is the IV
		var aead cipher.AEAD
		var err error
		if suite == tls.TLS_CHACHA20_POLY1305_SHA256 {
			aead, err = chacha20poly1305.New(key)
		} else {
			var b cipher.Block
			if b, err = aes.NewCipher(key); err == nil {
				aead, err = cipher.NewGCM(b)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		n := len(inner) + aead.Overhead()
		hdr := []byte{0x17, 0x03, 0x03, byte(n >> 8), byte(n)}
		rec = aead.Seal(hdr, iv, inner, hdr)
		out = append(out, rec...)
		secret = label(secret, "traffic upd", newHash().Size())
	}
	out = out[:len(out)-len(rec)]
	rec[len(rec)-1] ^= 0x80 // the tag broken
	for i := valid; i < total; i++ {
		out = append(out, rec...)
	}
	return out
}

// clientSecret collects a crypto/tls client's application traffic secret
// from its key log.
type clientSecret struct{ secret []byte }

func (c *clientSecret) Write(p []byte) (int, error) {
	f := strings.Fields(string(p))
	if len(f) == 3 && f[0] == "CLIENT_TRAFFIC_SECRET_0" {
		c.secret, _ = hex.DecodeString(f[2])
	}
	return len(p), nil
}

// TestAlertSurvivesKeyUpdateFlood: after the handshake a client sends
// thousands of KeyUpdate messages at once; the accepted socket, whose
// application reads, refuses them with a fatal alert while most of them
// are still unread (crypto/tls: too many in a row; OpenSSL, which takes
// any number: a corrupted one after them). The client must read that alert and then an orderly
// end of the connection (the server's FIN), never a reset.
func TestAlertSurvivesKeyUpdateFlood(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		srv := newTestServer(t, p.serverConfig(p.server))
		acceptAll(srv, func(s *Socket) { io.Copy(io.Discard, s) })
		addr := srv.Addr().String()
		roots := x509.NewCertPool()
		roots.AddCert(p.root.Cert)
		want := "remote error: tls: unexpected message"
		if m.backend == "openssl" {
			want = "remote error: tls: bad record MAC"
		}
		const rounds = 100
		var f failures
		for i := 0; i < rounds; i++ {
			f.add(floodKeyUpdates(t, addr, roots, want))
		}
		f.check(t, rounds)
	})
}

// floodKeyUpdates runs one connection of TestAlertSurvivesKeyUpdateFlood.
func floodKeyUpdates(t *testing.T, addr string, roots *x509.CertPool, want string) error {
	raw, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(20 * time.Second))
	keys := &clientSecret{}
	c := tls.Client(raw, &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS13, KeyLogWriter: keys})
	if err := c.Handshake(); err != nil {
		return errors.Join(errors.New("handshake"), err)
	}
	// The client's own record layer is bypassed: its keys move on with
	// every update, the server's (update_not_requested) stay.
	if _, err := raw.Write(keyUpdateFlood(t, c.ConnectionState().CipherSuite, keys.secret, 20, 2000)); err != nil {
		return &failure{"write reset", err}
	}
	_, err = c.Read(make([]byte, 1))
	if err == nil || !strings.Contains(err.Error(), want) {
		return &failure{"alert lost", fmt.Errorf("read: %v, want %q", err, want)}
	}
	if rest, err := io.ReadAll(raw); err != nil || len(rest) > 0 {
		return &failure{"reset after the alert", fmt.Errorf("%d bytes, %v; want an orderly end", len(rest), err)}
	}
	return nil
}

// drainPair is a loopback TCP pair for the drain's unit tests: the side
// closeOrderly closes, and its peer.
func drainPair(t *testing.T) (ours, peer net.Conn) {
	t.Helper()
	a, b := tcpPair(t)
	return b, a
}

// awaitDrains waits until no drain runs (each ends by itself; the wait
// only bounds a broken one).
func awaitDrains(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); drainsRunning.Load() > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d drains still running", drainsRunning.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCloseOrderlyDrainsUntilPeerCloses: after our last bytes the peer
// reads them and an end of stream (our FIN), however much it still sends
// meanwhile (within the byte bound); the drain ends when the peer closes,
// long before its time bound.
func TestCloseOrderlyDrainsUntilPeerCloses(t *testing.T) {
	checkNoLeaks(t)
	ours, peer := drainPair(t)
	peer.Write(make([]byte, 200<<10)) // unread when we close
	ours.Write([]byte("alert"))
	drainLimits{time: time.Hour, bytes: 1 << 20, max: 10}.closeOrderly(ours, true)
	peer.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := peer.Write(make([]byte, 300<<10)); err != nil {
		t.Fatalf("the peer could not send on: %v", err)
	}
	got, err := io.ReadAll(peer)
	if err != nil || string(got) != "alert" {
		t.Fatalf("the peer read %q, %v; want our last bytes and our FIN", got, err)
	}
	peer.Close()
	awaitDrains(t)
}

// TestCloseOrderlyBounds: a peer that keeps the connection open, or keeps
// sending, holds the drain no longer than its bounds.
func TestCloseOrderlyBounds(t *testing.T) {
	checkNoLeaks(t)
	t.Run("time", func(t *testing.T) {
		ours, peer := drainPair(t)
		drainLimits{time: 50 * time.Millisecond, bytes: 1 << 20, max: 10}.closeOrderly(ours, true)
		awaitDrains(t) // the peer neither sends nor closes
		peer.Close()
	})
	t.Run("bytes", func(t *testing.T) {
		ours, peer := drainPair(t)
		drainLimits{time: time.Hour, bytes: 64 << 10, max: 10}.closeOrderly(ours, true)
		done := make(chan error, 1)
		go func() { // the peer sends until it learns the connection is gone
			buf := make([]byte, 16<<10)
			for {
				if _, err := peer.Write(buf); err != nil {
					done <- err
					return
				}
			}
		}()
		awaitDrains(t)
		peer.SetWriteDeadline(time.Now().Add(20 * time.Second))
		if err := <-done; isTimeout(err) {
			t.Fatalf("the peer could still send after the byte bound: %v", err)
		}
		peer.Close()
	})
	t.Run("count", func(t *testing.T) {
		awaitDrains(t) // the bound counts every drain of the process
		l := drainLimits{time: time.Hour, bytes: 1 << 20, max: 1}
		ours1, peer1 := drainPair(t)
		ours2, peer2 := drainPair(t)
		l.closeOrderly(ours1, true) // drains until peer1 closes
		peer2.Write(make([]byte, 1000))
		awaitUnread(ours2)
		l.closeOrderly(ours2, true) // beyond max: closed at once, unread input and all
		peer2.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.ReadAll(peer2); err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatal(err)
		}
		if _, err := peer2.Write([]byte("more")); err == nil {
			t.Fatal("beyond the count bound the connection is still read")
		}
		if n := drainsRunning.Load(); n != 1 {
			t.Fatalf("%d drains running, want 1", n)
		}
		peer1.Close()
		peer2.Close()
		awaitDrains(t)
	})
}

// TestCloseOrderlyFreesReaders: a read of the connection in flight when
// the drain starts returns at once (net.ErrClosed), as after a plain
// close: the drain reads a duplicate of the descriptor.
func TestCloseOrderlyFreesReaders(t *testing.T) {
	checkNoLeaks(t)
	ours, peer := drainPair(t)
	read := make(chan error, 1)
	go func() {
		_, err := ours.Read(make([]byte, 10))
		read <- err
	}()
	time.Sleep(10 * time.Millisecond) // let the read block (either order passes)
	drainLimits{time: time.Hour, bytes: 1 << 20, max: 10}.closeOrderly(ours, true)
	select {
	case err := <-read:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read in flight: %v, want net.ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a read in flight waits for the drain")
	}
	if drainsRunning.Load() != 1 {
		t.Fatal("no drain runs on the duplicate")
	}
	peer.Close()
	awaitDrains(t)
}

// TestAbortAfterAlertClosesInOrder: Abort, called at once after a failed
// handshake whose alert went out, returns at once and still lets the
// alert arrive, with a FIN; without an alert of ours Abort closes at once,
// as Qt's does (a reset when input is unread).
func TestAbortAfterAlertClosesInOrder(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		cli, srv := tcpPair(t)
		ss := NewSocketFromConn(srv)
		ss.SetSslConfiguration(p.serverConfig(p.server))
		failed := make(chan struct{})
		var once sync.Once
		ss.OnErrorOccurred(func(SocketError) {
			ss.Abort() // from the handler, before the library's own teardown
			once.Do(func() { close(failed) })
		})
		ss.StartServerEncryption()
		cli.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := cli.Write(largeClientHello(600<<10, 400)); err != nil {
			t.Fatalf("write: %v", err)
		}
		<-failed
		got, err := io.ReadAll(cli)
		if err != nil || len(got) < 7 || got[0] != 0x15 {
			t.Fatalf("after Abort: % x, %v; want the alert and a FIN", got[:min(len(got), 7)], err)
		}
		cli.Close()

		// No alert: Abort is immediate.
		cli, srv = tcpPair(t)
		ss = NewSocketFromConn(srv)
		cli.Write([]byte("unread"))
		awaitUnread(srv)
		ss.Abort()
		cli.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.ReadAll(cli); !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("plain Abort with unread input: %v, want a reset", err)
		}
		cli.Close()
	})
}

// awaitUnread waits until bytes wait unread on c (the kernel's count, on
// Linux; elsewhere it returns at once).
func awaitUnread(c net.Conn) {
	for {
		if n, ok := kernelUnread(c); n > 0 || !ok {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// TestClientAlertSurvivesFlood: the client side of the same fault. A
// hostile server answers the ClientHello with a handshake message of
// hundreds of KiB that no client accepts; the client socket refuses it by
// its header with a fatal alert. The server reads the alert and only then
// sends the rest: the client must take it all (within drainBytes) without
// a reset, then the server reads the client's FIN.
func TestClientAlertSurvivesFlood(t *testing.T) {
	checkNoLeaks(t)
	flood := largeClientHello(600<<10, 400) // a ClientHello, to a client
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		const rounds = 50
		var f failures
		for i := 0; i < rounds; i++ {
			dialed := make(chan error, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				s, err := Dial(ctx, l.Addr().String(), p.clientConfig())
				if err == nil {
					s.Close()
				}
				dialed <- err
			}()
			c, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			f.add(floodClient(c, flood))
			c.Close()
			if err := <-dialed; err == nil {
				t.Fatal("the client accepted the flood")
			}
		}
		f.check(t, rounds)
	})
}

// floodClient runs one connection of TestClientAlertSurvivesFlood.
func floodClient(c net.Conn, flood []byte) error {
	c.SetDeadline(time.Now().Add(20 * time.Second))
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(c, hdr); err != nil {
		return err
	}
	if _, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint16(hdr[3:5]))); err != nil {
		return err // the ClientHello, read whole
	}
	first := 5 + int(binary.BigEndian.Uint16(flood[3:5])) // the record with the message's header
	if _, err := c.Write(flood[:first]); err != nil {
		return &failure{"write reset", err}
	}
	alert := make([]byte, 7)
	if _, err := io.ReadFull(c, alert); err != nil || alert[0] != 0x15 || alert[5] != 2 {
		return &failure{"alert lost", fmt.Errorf("% x, %v", alert, err)}
	}
	for rest := flood[first:]; len(rest) > 0; { // as a peer that has not read yet
		n := min(len(rest), 16<<10)
		if _, err := c.Write(rest[:n]); err != nil {
			return &failure{"write reset", err}
		}
		rest = rest[n:]
	}
	if got, err := io.ReadAll(c); err != nil || len(got) > 0 {
		return &failure{"reset after the alert", fmt.Errorf("%d bytes, %v; want an orderly end", len(got), err)}
	}
	return nil
}

// TestWaitForOrderlyCloses: a short-lived program can wait for the drains
// in flight before it exits: the wait lasts while the peer still holds the
// connection (bounded by the caller's context) and ends when it closes.
func TestWaitForOrderlyCloses(t *testing.T) {
	checkNoLeaks(t)
	awaitDrains(t)
	if err := WaitForOrderlyCloses(context.Background()); err != nil {
		t.Fatalf("no drain running: %v", err)
	}
	ours, peer := drainPair(t)
	drainLimits{time: time.Hour, bytes: 1 << 20, max: 10}.closeOrderly(ours, true)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err := WaitForOrderlyCloses(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a drain waits for the peer, yet the wait returned %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- WaitForOrderlyCloses(context.Background()) }()
	peer.Close() // the drain reads the FIN and ends
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("WaitForOrderlyCloses did not return after the drain ended")
	}
	if n := drainsRunning.Load(); n != 0 {
		t.Fatalf("%d drains running after the wait", n)
	}
}
