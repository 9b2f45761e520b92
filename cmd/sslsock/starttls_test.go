package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
)

// fakeServer plays the server side of a STARTTLS prelude, then TLS, then
// answers "ping" with "pong".
type fakeServer func(r *bufio.Reader, w io.Writer) error

func expectLine(r *bufio.Reader, prefix string) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, prefix) || !strings.HasSuffix(line, "\r\n") {
		return fmt.Errorf("got %q, want a CRLF line starting with %q", line, prefix)
	}
	return nil
}

func say(w io.Writer, lines ...string) error {
	for _, l := range lines {
		if _, err := io.WriteString(w, l); err != nil {
			return err
		}
	}
	return nil
}

func readUntil(r *bufio.Reader, marker string) (string, error) {
	var b strings.Builder
	for !strings.HasSuffix(b.String(), marker) {
		c, err := r.ReadByte()
		if err != nil {
			return b.String(), err
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

func xmppServer(ns string) fakeServer {
	return func(r *bufio.Reader, w io.Writer) error {
		header, err := readUntil(r, "'>")
		if err != nil {
			return err
		}
		if !strings.Contains(header, "xmlns='"+ns+"'") || !strings.Contains(header, "to='localhost'") {
			return fmt.Errorf("stream header %q", header)
		}
		if err := say(w, "<?xml version='1.0'?><stream:stream xmlns='"+ns+"' xmlns:stream='http://etherx.jabber.org/streams' id='1' version='1.0'>",
			"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls></stream:features>"); err != nil {
			return err
		}
		if s, err := readUntil(r, "/>"); err != nil || !strings.Contains(s, "<starttls") {
			return fmt.Errorf("starttls element %q: %v", s, err)
		}
		return say(w, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
	}
}

func smtpServer(hello string, offer bool) fakeServer {
	return func(r *bufio.Reader, w io.Writer) error {
		if err := say(w, "220 fake ESMTP\r\n"); err != nil {
			return err
		}
		if err := expectLine(r, hello+" "); err != nil {
			return err
		}
		ext := "250 STARTTLS\r\n"
		if !offer {
			ext = "250 8BITMIME\r\n"
		}
		if err := say(w, "250-fake greets you\r\n250-SIZE 1000000\r\n", ext); err != nil {
			return err
		}
		if !offer {
			return nil
		}
		if err := expectLine(r, "STARTTLS"); err != nil {
			return err
		}
		return say(w, "220 go ahead\r\n")
	}
}

var fakeServers = map[string]fakeServer{
	"smtp": smtpServer("EHLO", true),
	"lmtp": smtpServer("LHLO", true),
	"pop3": func(r *bufio.Reader, w io.Writer) error {
		say(w, "+OK fake POP3\r\n")
		if err := expectLine(r, "STLS"); err != nil {
			return err
		}
		return say(w, "+OK begin TLS\r\n")
	},
	"imap": func(r *bufio.Reader, w io.Writer) error {
		say(w, "* OK fake IMAP\r\n")
		if err := expectLine(r, "a001 CAPABILITY"); err != nil {
			return err
		}
		say(w, "* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\na001 OK done\r\n")
		if err := expectLine(r, "a002 STARTTLS"); err != nil {
			return err
		}
		return say(w, "a002 OK begin TLS\r\n")
	},
	"ftp": func(r *bufio.Reader, w io.Writer) error {
		say(w, "220-fake FTP\r\n220-second line\r\n220 ready\r\n")
		if err := expectLine(r, "AUTH TLS"); err != nil {
			return err
		}
		return say(w, "234 AUTH TLS OK\r\n")
	},
	"nntp": func(r *bufio.Reader, w io.Writer) error {
		say(w, "200 fake NNTP\r\n")
		if err := expectLine(r, "STARTTLS"); err != nil {
			return err
		}
		return say(w, "382 continue with TLS\r\n")
	},
	"sieve": func(r *bufio.Reader, w io.Writer) error {
		say(w, "\"IMPLEMENTATION\" \"fake\"\r\n\"SIEVE\" \"fileinto\"\r\n\"STARTTLS\"\r\nOK \"ready\"\r\n")
		if err := expectLine(r, "STARTTLS"); err != nil {
			return err
		}
		return say(w, "OK \"begin TLS\"\r\n")
	},
	"irc": func(r *bufio.Reader, w io.Writer) error {
		if err := expectLine(r, "STARTTLS"); err != nil {
			return err
		}
		return say(w, ":fake NOTICE * :*** Looking up your hostname\r\n:fake 670 * :STARTTLS successful, go ahead\r\n")
	},
	"xmpp":        xmppServer("jabber:client"),
	"xmpp-server": xmppServer("jabber:server"),
	"postgres": func(r *bufio.Reader, w io.Writer) error {
		var req [8]byte
		if _, err := io.ReadFull(r, req[:]); err != nil {
			return err
		}
		if binary.BigEndian.Uint32(req[:4]) != 8 || binary.BigEndian.Uint32(req[4:]) != 80877103 {
			return fmt.Errorf("not an SSLRequest: %x", req)
		}
		return say(w, "S")
	},
	"mysql": func(r *bufio.Reader, w io.Writer) error {
		var body bytes.Buffer
		body.WriteByte(10)
		body.WriteString("8.0.0-fake\x00")
		body.Write([]byte{1, 0, 0, 0})               // connection id
		body.WriteString("abcdefgh\x00")             // auth data part 1, filler
		body.Write([]byte{0xff, 0xff})               // capabilities, CLIENT_SSL included
		body.Write([]byte{45, 2, 0, 0xff, 0x01, 21}) // charset, status, upper capabilities, auth length
		body.Write(make([]byte, 10))
		body.WriteString("ijklmnopqrst\x00mysql_native_password\x00")
		hdr := []byte{byte(body.Len()), byte(body.Len() >> 8), byte(body.Len() >> 16), 0}
		if _, err := w.Write(append(hdr, body.Bytes()...)); err != nil {
			return err
		}
		var req [36]byte
		if _, err := io.ReadFull(r, req[:]); err != nil {
			return err
		}
		if req[0] != 32 || req[3] != 1 || binary.LittleEndian.Uint32(req[4:])&0x800 == 0 {
			return fmt.Errorf("not an SSL request packet: %x", req)
		}
		return nil
	},
	"ldap": func(r *bufio.Reader, w io.Writer) error {
		msg, err := readBER(r)
		if err != nil {
			return err
		}
		if !bytes.Contains(msg, []byte("1.3.6.1.4.1.1466.20037")) || msg[5] != 0x77 {
			return fmt.Errorf("not a StartTLS ExtendedRequest: %x", msg)
		}
		_, err = w.Write([]byte{0x30, 0x0c, 0x02, 0x01, 0x01, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00})
		return err
	},
}

// startFake serves one connection: the prelude, then TLS, then pong.
func startFake(t *testing.T, dir string, prelude fakeServer) (string, chan error) {
	t.Helper()
	var cfg ssl.Configuration
	if err := cfg.LoadKeyPair(filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf.key"), nil); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		s := ssl.NewSocketFromConn(c)
		defer s.Close()
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		s.SetSslConfiguration(cfg)
		if err := prelude(bufio.NewReader(oneByte{s}), s); err != nil {
			done <- err
			return
		}
		if err := s.StartServerEncryption(); err != nil {
			done <- err
			return
		}
		if !s.WaitForEncrypted(20 * time.Second) {
			done <- fmt.Errorf("server handshake: %s", s.ErrorString())
			return
		}
		line, err := bufio.NewReader(s).ReadString('\n')
		if err == nil {
			_, err = io.WriteString(s, "pong "+line)
		}
		s.WaitForBytesWritten(5 * time.Second)
		done <- err
	}()
	return l.Addr().String(), done
}

// TestStartTLSEveryProtocol runs connect --starttls against a small fake
// server for every protocol.
func TestStartTLSEveryProtocol(t *testing.T) {
	dir, _ := cliPKI(t)
	for _, proto := range starttlsProtocols {
		t.Run(proto, func(t *testing.T) {
			server, ok := fakeServers[proto]
			if !ok {
				t.Fatalf("no fake server for %s", proto)
			}
			addr, done := startFake(t, dir, server)
			r := runIn("", "connect", "--starttls", proto, "--ca", filepath.Join(dir, "root.pem"), "--verify-name", "localhost",
				"--json", "--send", `ping\n`, addr)
			if err := <-done; err != nil {
				t.Fatalf("fake %s server: %v\n%s%s", proto, err, r.stdout, r.stderr)
			}
			if r.code != 0 || !strings.Contains(r.stdout, `"received": "pong ping\n"`) {
				t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
	// SMTP: a server that does not advertise STARTTLS is not asked for it.
	addr, done := startFake(t, dir, smtpServer("EHLO", false))
	r := runIn("", "connect", "--starttls", "smtp", "--ca", filepath.Join(dir, "root.pem"), addr)
	<-done
	if r.code != 1 || !strings.Contains(r.stderr, "does not offer STARTTLS") {
		t.Errorf("SMTP without STARTTLS: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
