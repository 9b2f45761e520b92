package ssl_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// Two engines wired in memory: the whole TLS conversation without a
// socket. The loop is the seed's: call, send what is pending, feed what
// arrives, call again on ErrWantRead.
func ExampleEngine() {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Example CA", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})

	var serverCfg ssl.Configuration
	serverCfg.SetLocalCertificate(ssl.NewCertificate(leaf.Cert))
	serverCfg.SetPrivateKey(ssl.NewKey(leaf.Key))
	var clientCfg ssl.Configuration
	clientCfg.SetCaCertificates([]ssl.Certificate{ssl.NewCertificate(root.Cert)})

	client, err := ssl.NewClientEngine(clientCfg, "localhost")
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	server, err := ssl.NewServerEngine(serverCfg)
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()

	// move carries one side's pending output to the other side.
	wire := make([]byte, ssl.MaxPendingOutput) // always large enough
	move := func(from, to *ssl.Engine) {
		n := from.TakeOutput(wire)
		to.Feed(wire[:n])
	}
	for {
		cerr, serr := client.Handshake(), server.Handshake()
		move(client, server)
		move(server, client)
		if cerr == nil && serr == nil {
			break
		}
		if !errors.Is(cerr, ssl.ErrWantRead) && cerr != nil {
			log.Fatal(cerr)
		}
		if !errors.Is(serr, ssl.ErrWantRead) && serr != nil {
			log.Fatal(serr)
		}
	}
	fmt.Println("client:", client.SessionProtocol(), client.PeerCertificate().SubjectDisplayName())

	client.Write([]byte("hello, engine"))
	move(client, server)
	buf := make([]byte, 100)
	n, _ := server.Read(buf)
	fmt.Printf("server read %q\n", buf[:n])

	client.Shutdown() // close_notify
	move(client, server)
	_, err = server.Read(buf)
	fmt.Println("then:", err)
	// Output:
	// client: TlsV1_3 localhost
	// server read "hello, engine"
	// then: EOF
}

// An engine over a transport of your own, driven by a non-blocking loop:
// here a TCP connection polled with short deadlines, as an event loop
// would poll any byte stream (a serial link, a WebSocket, a pipe).
func ExampleEngine_customTransport() {
	port, ca, _, stop := exampleServer(func(s *ssl.Socket) {
		buf := make([]byte, 64)
		n, _ := s.Read(buf)
		s.Write(append([]byte("echo: "), buf[:n]...))
	})
	defer stop()

	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	var cfg ssl.Configuration
	cfg.SetCaCertificates([]ssl.Certificate{ca})
	e, err := ssl.NewClientEngine(cfg, "localhost")
	if err != nil {
		log.Fatal(err)
	}
	defer e.Close()

	// poll is one turn of the event loop: flush output, then take whatever
	// input is there without blocking for long.
	in := make([]byte, 16<<10)
	poll := func() error {
		if _, err := e.WriteOutputTo(conn); err != nil {
			return err
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		n, err := conn.Read(in)
		e.Feed(in[:n])
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil // nothing yet: the loop would do other work here
		}
		if err == io.EOF {
			e.FeedEOF()
			return nil
		}
		return err
	}

	for err := e.Handshake(); err != nil; err = e.Handshake() {
		if !errors.Is(err, ssl.ErrWantRead) {
			log.Fatal(err)
		}
		if err := poll(); err != nil {
			log.Fatal(err)
		}
	}
	e.Write([]byte("ping"))
	for {
		n, err := e.Read(in)
		if n > 0 {
			fmt.Printf("%s\n", in[:n])
			break
		}
		if !errors.Is(err, ssl.ErrWantRead) {
			log.Fatal(err)
		}
		if err := poll(); err != nil {
			log.Fatal(err)
		}
	}
	// Output: echo: ping
}
