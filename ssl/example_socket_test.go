package ssl_test

import (
	"bufio"
	ctx "context"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// exampleServer serves handle over TLS on loopback with a throwaway
// identity for "localhost"; it returns the port and the CA to trust.
func exampleServer(handle func(*ssl.Socket)) (port uint16, ca ssl.Certificate, leaf *pki.Cert, stop func()) {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Example CA", IsCA: true})
	leaf = root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	var cfg ssl.Configuration
	cfg.SetLocalCertificate(ssl.NewCertificate(leaf.Cert))
	cfg.SetPrivateKey(ssl.NewKey(leaf.Key))
	srv, err := ssl.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			c, err := srv.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); handle(c.(*ssl.Socket)) }()
		}
	}()
	return uint16(srv.Addr().(*net.TCPAddr).Port), ssl.NewCertificate(root.Cert), leaf, func() { srv.Close() }
}

// The seed's IMAP client: data written right after ConnectToHostEncrypted,
// before encrypted, is queued and sent once the handshake is done.
func ExampleSocket_ConnectToHostEncrypted() {
	port, ca, _, stop := exampleServer(func(s *ssl.Socket) {
		line, _ := bufio.NewReader(s).ReadString('\n')
		s.Write([]byte("* CAPABILITY IMAP4rev1 (you said " + strings.TrimSpace(line) + ")\r\n"))
	})
	defer stop()

	socket := ssl.NewSocket()
	socket.AddCaCertificate(ca) // a real client would trust the system's roots
	socket.OnEncrypted(func() { fmt.Println("encrypted") })
	socket.ConnectToHostEncrypted("localhost", port)
	socket.Write([]byte("1 CAPABILITY\r\n")) // queued until encrypted

	reply, err := bufio.NewReader(socket).ReadString('\n')
	fmt.Println(strings.TrimSpace(reply))
	fmt.Println(err)
	socket.Close()
	// Output:
	// encrypted
	// * CAPABILITY IMAP4rev1 (you said 1 CAPABILITY)
	// <nil>
}

// The seed's blocking client: WaitForEncrypted, write a request, read until
// the server is done.
func ExampleSocket_WaitForEncrypted() {
	port, ca, _, stop := exampleServer(func(s *ssl.Socket) {
		bufio.NewReader(s).ReadString('\n')
		s.Write([]byte("HTTP/1.0 200 OK\r\n\r\nhello"))
	})
	defer stop()

	socket := ssl.NewSocket()
	socket.AddCaCertificate(ca)
	socket.ConnectToHostEncrypted("localhost", port)
	if !socket.WaitForEncrypted(5 * time.Second) {
		fmt.Println(socket.ErrorString())
		return
	}
	socket.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	body, _ := io.ReadAll(socket)
	fmt.Printf("%q\n", body)
	// Output:
	// "HTTP/1.0 200 OK\r\n\r\nhello"
}

// The seed's server: each accepted connection becomes a server socket that
// starts its handshake (QTcpServer::incomingConnection + setSocketDescriptor).
// ssl.Server does this for you; this is the manual form.
func ExampleSocket_StartServerEncryption() {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Example CA", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		serverSocket := ssl.NewSocketFromConn(conn)
		serverSocket.SetLocalCertificate(ssl.NewCertificate(leaf.Cert))
		serverSocket.SetPrivateKey(ssl.NewKey(leaf.Key))
		serverSocket.OnEncrypted(func() { serverSocket.Write([]byte("ready\n")); serverSocket.DisconnectFromHost() })
		serverSocket.StartServerEncryption()
	}()

	cfg := ssl.Configuration{}
	cfg.SetCaCertificates([]ssl.Certificate{ssl.NewCertificate(root.Cert)})
	client, err := ssl.Dial(ctx.Background(), strings.Replace(l.Addr().String(), "127.0.0.1", "localhost", 1), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	line, _ := bufio.NewReader(client).ReadString('\n')
	fmt.Print(line)
	client.Close()
	// Output:
	// ready
}

// The seed's ignoreSslErrors(list): trust exactly one self-signed
// certificate, loaded from a file, and nothing else.
func ExampleSocket_IgnoreSslErrorList() {
	self := pki.MustSelfSigned(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	certFile, keyFile, _ := self.WriteFiles(dir, "server-certificate")

	var cfg ssl.Configuration
	serverCert, _ := ssl.CertificatesFromFile(certFile, ssl.Pem)
	keyPEM, _ := os.ReadFile(keyFile)
	key, _ := ssl.ParseKey(keyPEM, ssl.Opaque, ssl.Pem, ssl.PrivateKey, nil)
	cfg.SetLocalCertificate(serverCert[0])
	cfg.SetPrivateKey(key)
	srv, _ := ssl.Listen("tcp", "127.0.0.1:0", cfg)
	defer srv.Close()
	go func() {
		if c, err := srv.Accept(); err == nil {
			c.Write([]byte("hi\n"))
			c.Close()
		}
	}()

	cert, _ := ssl.CertificatesFromPath(filepath.Join(dir, "server-certificate.pem"), ssl.Pem, ssl.FixedString)
	expected := []ssl.Error{ssl.NewError(ssl.SelfSignedCertificate, cert[0])}
	socket := ssl.NewSocket()
	socket.IgnoreSslErrorList(expected)
	socket.ConnectToHostEncrypted("localhost", uint16(srv.Addr().(*net.TCPAddr).Port))
	fmt.Println(socket.WaitForEncrypted(5*time.Second), socket.SslHandshakeErrors()[0].Code.String())
	socket.Close()
	// Output:
	// true SelfSignedCertificate
}

// The seed's STARTTLS: a plain connection upgraded in place.
func ExampleSocket_StartClientEncryption() {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Example CA", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		s := ssl.NewSocketFromConn(conn)
		defer s.Close()
		s.SetLocalCertificate(ssl.NewCertificate(leaf.Cert))
		s.SetPrivateKey(ssl.NewKey(leaf.Key))
		s.Write([]byte("220 ready, send STARTTLS\r\n"))
		line, _ := bufio.NewReader(&oneByteAtATime{s}).ReadString('\n')
		if strings.TrimSpace(line) == "STARTTLS" {
			s.Write([]byte("220 go ahead\r\n"))
			s.StartServerEncryption()
			s.WaitForEncrypted(5 * time.Second)
			s.Write([]byte("secret stuff\n"))
		}
	}()

	socket := ssl.NewSocket()
	socket.AddCaCertificate(ssl.NewCertificate(root.Cert))
	socket.ConnectToHost("localhost", uint16(l.Addr().(*net.TCPAddr).Port))
	r := bufio.NewReader(&oneByteAtATime{socket})
	greeting, _ := r.ReadString('\n')
	socket.Write([]byte("STARTTLS\r\n"))
	goAhead, _ := r.ReadString('\n')
	socket.StartClientEncryption()
	socket.WaitForEncrypted(5 * time.Second)
	secret, _ := bufio.NewReader(socket).ReadString('\n')
	fmt.Println(strings.TrimSpace(greeting))
	fmt.Println(strings.TrimSpace(goAhead))
	fmt.Print(socket.IsEncrypted(), " ", secret)
	socket.Close()
	// Output:
	// 220 ready, send STARTTLS
	// 220 go ahead
	// true secret stuff
}

// oneByteAtATime keeps a bufio.Reader from reading past the plain-text part.
type oneByteAtATime struct{ r io.Reader }

func (o *oneByteAtATime) Read(p []byte) (int, error) { return o.r.Read(p[:1]) }

// The seed's "extend the default CA list": every socket made afterwards
// trusts the extra certificates.
func ExampleSetDefaultConfiguration() {
	port, ca, _, stop := exampleServer(func(s *ssl.Socket) {})
	defer stop()
	old := ssl.DefaultConfiguration()
	defer ssl.SetDefaultConfiguration(old)

	configuration := ssl.DefaultConfiguration()
	configuration.AddCaCertificates(append(ssl.SystemCaCertificates(), ca)...)
	ssl.SetDefaultConfiguration(configuration)

	socket := ssl.NewSocket()
	socket.ConnectToHostEncrypted("localhost", port)
	fmt.Println(socket.WaitForEncrypted(5 * time.Second))
	socket.Close()
	// Output:
	// true
}
