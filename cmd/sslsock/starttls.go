package main

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sslsocket/sslsocket/ssl"
)

// starttlsProtocols are the plain-text preludes --starttls speaks (those of
// openssl s_client -starttls).
var starttlsProtocols = []string{"smtp", "lmtp", "pop3", "imap", "ftp", "xmpp", "xmpp-server", "irc", "postgres", "mysql", "nntp", "sieve", "ldap"}

// startTLS speaks a protocol's plain-text prelude up to its STARTTLS
// command, then starts the client handshake on the same connection.
func startTLS(sock *ssl.Socket, proto, host string) error {
	_ = sock.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer sock.SetReadDeadline(time.Time{})
	// Read a byte at a time: nothing after the server's last plain-text
	// reply may be taken from the socket, it belongs to TLS.
	p := &prelude{proto: proto, sock: sock, r: bufio.NewReaderSize(oneByte{sock}, 16)}
	var err error
	switch proto {
	case "smtp", "lmtp":
		err = p.smtp(map[string]string{"smtp": "EHLO", "lmtp": "LHLO"}[proto])
	case "pop3":
		err = p.steps(step{expect: "+OK"}, step{send: "STLS", expect: "+OK"})
	case "imap":
		err = p.imap()
	case "ftp":
		err = p.steps(step{expect: "220"}, step{send: "AUTH TLS", expect: "234"})
	case "nntp":
		err = p.nntp()
	case "sieve":
		err = p.sieve()
	case "irc":
		err = p.irc()
	case "xmpp", "xmpp-server":
		err = p.xmpp(map[string]string{"xmpp": "jabber:client", "xmpp-server": "jabber:server"}[proto], host)
	case "postgres":
		err = p.postgres()
	case "mysql":
		err = p.mysql()
	case "ldap":
		err = p.ldap()
	default:
		return usagef("--starttls must be one of %s, not %q", strings.Join(starttlsProtocols, ", "), proto)
	}
	if err != nil {
		return err
	}
	return sock.StartClientEncryption()
}

// prelude is one STARTTLS exchange.
type prelude struct {
	proto string
	sock  *ssl.Socket
	r     *bufio.Reader
}

func (p *prelude) errorf(format string, args ...any) error {
	return fmt.Errorf("starttls %s: "+format, append([]any{p.proto}, args...)...)
}

func (p *prelude) line() (string, error) {
	s, err := p.r.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			return "", p.errorf("the server closed the connection")
		}
		return "", p.errorf("%v", err)
	}
	return strings.TrimRight(s, "\r\n"), nil
}

func (p *prelude) send(s string) error {
	_, err := p.sock.Write([]byte(s + "\r\n"))
	return err
}

// reply reads a reply starting with prefix; SMTP and FTP multi-line
// replies ("NNN-") are read to their last line. It returns every line.
func (p *prelude) reply(prefix string) ([]string, error) {
	var lines []string
	for {
		l, err := p.line()
		if err != nil {
			return lines, err
		}
		lines = append(lines, l)
		if !strings.HasPrefix(l, prefix) {
			return lines, p.errorf("unexpected reply %q (expected %s)", l, prefix)
		}
		if len(prefix) == 3 && len(l) > 3 && l[3] == '-' {
			continue
		}
		return lines, nil
	}
}

// step sends a line (if any) and expects a reply prefix.
type step struct{ send, expect string }

func (p *prelude) steps(steps ...step) error {
	for _, s := range steps {
		if s.send != "" {
			if err := p.send(s.send); err != nil {
				return err
			}
		}
		if _, err := p.reply(s.expect); err != nil {
			return err
		}
	}
	return nil
}

// smtp greets with EHLO (LHLO for LMTP) and checks that the server offers
// STARTTLS before asking for it.
func (p *prelude) smtp(hello string) error {
	if _, err := p.reply("220"); err != nil {
		return err
	}
	if err := p.send(hello + " sslsock"); err != nil {
		return err
	}
	lines, err := p.reply("250")
	if err != nil {
		return err
	}
	offered := false
	for _, l := range lines {
		if len(l) > 4 && strings.EqualFold(strings.Fields(l[4:] + " x")[0], "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		return p.errorf("the server does not offer STARTTLS (its %s reply lists no STARTTLS)", hello)
	}
	return p.steps(step{send: "STARTTLS", expect: "220"})
}

// imap checks the capability list, then asks for STARTTLS.
func (p *prelude) imap() error {
	if _, err := p.reply("* OK"); err != nil {
		return err
	}
	if err := p.send("a001 CAPABILITY"); err != nil {
		return err
	}
	offered := false
	for {
		l, err := p.line()
		if err != nil {
			return err
		}
		if strings.HasPrefix(l, "* CAPABILITY") && strings.Contains(strings.ToUpper(l), " STARTTLS") {
			offered = true
		}
		if strings.HasPrefix(l, "a001 ") {
			if !strings.HasPrefix(l, "a001 OK") {
				return p.errorf("CAPABILITY failed: %q", l)
			}
			break
		}
	}
	if !offered {
		return p.errorf("the server does not offer STARTTLS (not in its CAPABILITY)")
	}
	return p.steps(step{send: "a002 STARTTLS", expect: "a002 OK"})
}

// nntp: greeting 200 or 201, then STARTTLS answered by 382.
func (p *prelude) nntp() error {
	l, err := p.line()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(l, "200") && !strings.HasPrefix(l, "201") {
		return p.errorf("unexpected greeting %q", l)
	}
	return p.steps(step{send: "STARTTLS", expect: "382"})
}

// sieve (ManageSieve): capability lines up to OK, which must list
// "STARTTLS"; then STARTTLS answered by OK.
func (p *prelude) sieve() error {
	offered := false
	for {
		l, err := p.line()
		if err != nil {
			return err
		}
		if strings.EqualFold(strings.TrimSpace(l), `"STARTTLS"`) {
			offered = true
		}
		if strings.HasPrefix(strings.ToUpper(l), "OK") {
			break
		}
		if strings.HasPrefix(strings.ToUpper(l), "NO") || strings.HasPrefix(strings.ToUpper(l), "BYE") {
			return p.errorf("the server refused: %q", l)
		}
	}
	if !offered {
		return p.errorf("the server does not offer STARTTLS (not in its capabilities)")
	}
	return p.steps(step{send: "STARTTLS", expect: "OK"})
}

// irc sends STARTTLS and waits for numeric 670 (691: refused), skipping
// the notices servers send first.
func (p *prelude) irc() error {
	if err := p.send("STARTTLS"); err != nil {
		return err
	}
	for i := 0; i < 1000; i++ {
		l, err := p.line()
		if err != nil {
			return err
		}
		f := strings.Fields(l)
		if len(f) >= 2 && strings.HasPrefix(f[0], ":") {
			switch f[1] {
			case "670":
				return nil
			case "691", "421":
				return p.errorf("the server refused STARTTLS: %q", l)
			}
		}
	}
	return p.errorf("no reply to STARTTLS")
}

// xmpp opens a stream, checks that the features offer starttls, and asks.
func (p *prelude) xmpp(ns, host string) error {
	_, err := fmt.Fprintf(p.sock, "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='%s' to='%s' version='1.0'>", ns, host)
	if err != nil {
		return err
	}
	features, err := p.until("</stream:features>")
	if err != nil {
		return err
	}
	if !strings.Contains(features, "urn:ietf:params:xml:ns:xmpp-tls") {
		return p.errorf("the server does not offer starttls in its stream features")
	}
	if _, err := io.WriteString(p.sock, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"); err != nil {
		return err
	}
	answer, err := p.until("/>")
	if err != nil {
		return err
	}
	if !strings.Contains(answer, "<proceed") {
		return p.errorf("the server refused starttls: %q", strings.TrimSpace(answer))
	}
	return nil
}

// until reads up to and including marker.
func (p *prelude) until(marker string) (string, error) {
	var seen strings.Builder
	for !strings.HasSuffix(seen.String(), marker) {
		b, err := p.r.ReadByte()
		if err != nil {
			return seen.String(), p.errorf("%q not received: %v", marker, err)
		}
		seen.WriteByte(b)
		if seen.Len() > 64<<10 {
			return "", p.errorf("%q not received in 64 KiB", marker)
		}
	}
	return seen.String(), nil
}

// postgres sends SSLRequest; the server answers 'S' (yes) or 'N'.
func (p *prelude) postgres() error {
	var req [8]byte
	binary.BigEndian.PutUint32(req[0:], 8)
	binary.BigEndian.PutUint32(req[4:], 80877103) // SSLRequest
	if _, err := p.sock.Write(req[:]); err != nil {
		return err
	}
	b, err := p.r.ReadByte()
	if err != nil {
		return p.errorf("%v", err)
	}
	if b != 'S' {
		return p.errorf("the server refused TLS (answered %q)", b)
	}
	return nil
}

// MySQL capability flags.
const (
	mysqlClientSSL               = 0x00000800
	mysqlClientProtocol41        = 0x00000200
	mysqlClientSecureConnection  = 0x00008000
	mysqlMaxPacket               = 1 << 24
	mysqlCharsetUTF8MB4          = 45
	mysqlProtocolVersion         = 10
	mysqlInitialHandshakeMinSize = 1 + 1 + 4 + 8 + 1 + 2
)

// mysql reads the server's initial handshake, checks it offers SSL, and
// sends the SSL request packet.
func (p *prelude) mysql() error {
	var hdr [4]byte
	if _, err := io.ReadFull(p.r, hdr[:]); err != nil {
		return p.errorf("reading the server greeting: %v", err)
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n < mysqlInitialHandshakeMinSize || n > 1<<16 {
		return p.errorf("not a MySQL greeting (packet of %d bytes)", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(p.r, body); err != nil {
		return p.errorf("reading the server greeting: %v", err)
	}
	if body[0] != mysqlProtocolVersion {
		return p.errorf("not a MySQL protocol 10 greeting (version %d)", body[0])
	}
	i := 1
	for i < len(body) && body[i] != 0 { // server version, NUL-terminated
		i++
	}
	i += 1 + 4 + 8 + 1 // NUL, connection id, auth data part 1, filler
	if i+2 > len(body) {
		return p.errorf("truncated MySQL greeting")
	}
	if caps := binary.LittleEndian.Uint16(body[i:]); caps&mysqlClientSSL == 0 {
		return p.errorf("the server does not offer SSL (no CLIENT_SSL capability)")
	}
	var req [4 + 32]byte
	req[0], req[3] = 32, 1 // payload length, sequence id
	binary.LittleEndian.PutUint32(req[4:], mysqlClientSSL|mysqlClientProtocol41|mysqlClientSecureConnection)
	binary.LittleEndian.PutUint32(req[8:], mysqlMaxPacket)
	req[12] = mysqlCharsetUTF8MB4
	_, err := p.sock.Write(req[:])
	return err
}

// ldapStartTLS is an LDAPMessage (message ID 1) holding an
// ExtendedRequest for StartTLS, OID 1.3.6.1.4.1.1466.20037.
var ldapStartTLS = append([]byte{0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16}, "1.3.6.1.4.1.1466.20037"...)

// ldap sends the StartTLS extended request and checks the result code.
func (p *prelude) ldap() error {
	if _, err := p.sock.Write(ldapStartTLS); err != nil {
		return err
	}
	msg, err := readBER(p.r)
	if err != nil {
		return p.errorf("reading the ExtendedResponse: %v", err)
	}
	// LDAPMessage: SEQUENCE { INTEGER messageID, [APPLICATION 24] { ENUMERATED resultCode, … } }
	body, ok := berChild(msg, 0x30)
	if !ok {
		return p.errorf("not an LDAP message")
	}
	_, rest, ok := berNext(body) // message ID
	if !ok {
		return p.errorf("malformed LDAP message")
	}
	resp, ok := berChild(rest, 0x78)
	if !ok {
		return p.errorf("the answer is not an ExtendedResponse")
	}
	code, _, ok := berNext(resp)
	if !ok || len(code) < 3 || code[0] != 0x0a || code[1] != 1 {
		return p.errorf("malformed ExtendedResponse")
	}
	if code[2] != 0 {
		return p.errorf("the server refused StartTLS (LDAP result code %d)", code[2])
	}
	return nil
}

// readBER reads one BER element (definite length, at most 64 KiB).
func readBER(r *bufio.Reader) ([]byte, error) {
	tag, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	first, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	out := []byte{tag, first}
	length := int(first)
	if first&0x80 != 0 {
		k := int(first & 0x7f)
		if k == 0 || k > 2 {
			return nil, fmt.Errorf("unsupported BER length")
		}
		length = 0
		for i := 0; i < k; i++ {
			b, err := r.ReadByte()
			if err != nil {
				return nil, err
			}
			out = append(out, b)
			length = length<<8 | int(b)
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		return nil, err
	}
	return append(out, body...), nil
}

// berNext splits the first element (whole) from the rest.
func berNext(b []byte) (elem, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	hdr, length := 2, int(b[1])
	if b[1]&0x80 != 0 {
		k := int(b[1] & 0x7f)
		if k == 0 || k > 2 || len(b) < 2+k {
			return nil, nil, false
		}
		length = 0
		for _, x := range b[2 : 2+k] {
			length = length<<8 | int(x)
		}
		hdr += k
	}
	if len(b) < hdr+length {
		return nil, nil, false
	}
	return b[:hdr+length], b[hdr+length:], true
}

// berChild returns the contents of the first element if it has tag.
func berChild(b []byte, tag byte) ([]byte, bool) {
	elem, _, ok := berNext(b)
	if !ok || elem[0] != tag {
		return nil, false
	}
	hdr := 2
	if elem[1]&0x80 != 0 {
		hdr += int(elem[1] & 0x7f)
	}
	return elem[hdr:], true
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
