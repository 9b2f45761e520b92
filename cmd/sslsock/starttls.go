package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
)

// startTLS speaks a protocol's plain-text prelude up to its STARTTLS
// command, then starts the client handshake on the same connection.
func startTLS(sock *ssl.Socket, proto, host string) error {
	_ = sock.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer sock.SetReadDeadline(time.Time{})
	// Read a byte at a time: nothing after the server's last plain-text
	// reply may be taken from the socket, it belongs to TLS.
	r := bufio.NewReaderSize(oneByte{sock}, 16)
	line := func() (string, error) {
		s, err := r.ReadString('\n')
		return strings.TrimRight(s, "\r\n"), err
	}
	expect := func(prefix string) error {
		for {
			l, err := line()
			if err != nil {
				return fmt.Errorf("starttls %s: %w", proto, err)
			}
			if !strings.HasPrefix(l, prefix) {
				return fmt.Errorf("starttls %s: unexpected reply %q", proto, l)
			}
			// SMTP/FTP multi-line replies continue with "NNN-".
			if len(l) < 4 || l[3] != '-' {
				return nil
			}
		}
	}
	send := func(s string) error {
		_, err := sock.Write([]byte(s + "\r\n"))
		return err
	}
	var err error
	switch proto {
	case "smtp":
		if err = expect("220"); err == nil {
			if err = send("EHLO sslsock"); err == nil {
				if err = expect("250"); err == nil {
					if err = send("STARTTLS"); err == nil {
						err = expect("220")
					}
				}
			}
		}
	case "imap":
		if err = expect("* OK"); err == nil {
			if err = send("a001 STARTTLS"); err == nil {
				err = expect("a001 OK")
			}
		}
	case "pop3":
		if err = expect("+OK"); err == nil {
			if err = send("STLS"); err == nil {
				err = expect("+OK")
			}
		}
	case "ftp":
		if err = expect("220"); err == nil {
			if err = send("AUTH TLS"); err == nil {
				err = expect("234")
			}
		}
	case "xmpp":
		_, err = fmt.Fprintf(sock, "<?xml version='1.0'?><stream:stream to='%s' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>", host)
		if err == nil {
			err = readUntil(r, "</stream:features>")
		}
		if err == nil {
			if _, err = io.WriteString(sock, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"); err == nil {
				err = readUntil(r, "<proceed")
			}
			if err == nil {
				err = readUntil(r, ">")
			}
		}
	case "postgres":
		var req [8]byte
		binary.BigEndian.PutUint32(req[0:], 8)
		binary.BigEndian.PutUint32(req[4:], 80877103) // SSLRequest
		if _, err = sock.Write(req[:]); err == nil {
			var b byte
			if b, err = r.ReadByte(); err == nil && b != 'S' {
				err = fmt.Errorf("starttls postgres: server refused TLS (%q)", b)
			}
		}
	default:
		return usageError{fmt.Sprintf("--starttls must be smtp, imap, pop3, ftp, xmpp or postgres, not %q", proto)}
	}
	if err != nil {
		return err
	}
	return sock.StartClientEncryption()
}

func readUntil(r *bufio.Reader, marker string) error {
	var seen strings.Builder
	for !strings.Contains(seen.String(), marker) {
		b, err := r.ReadByte()
		if err != nil {
			return err
		}
		seen.WriteByte(b)
		if seen.Len() > 64<<10 {
			return fmt.Errorf("starttls: %q not found", marker)
		}
	}
	return nil
}

// oneByte reads at most one byte per call.
type oneByte struct{ r io.Reader }

// Read reads at most one byte.
func (o oneByte) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
