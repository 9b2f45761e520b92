//go:build cgo && linux

package openssl_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"
	"time"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
	"github.com/sslsocket/sslsocket/ssl/openssl"
)

// Importing the package registers the "openssl" backend; a Configuration
// chooses it with SetBackend, per socket or server, and everything else —
// Listen, Dial, Socket's events, Qt's verification — stays the same.
func Example() {
	if !openssl.Available() {
		log.Fatal(openssl.LoadError()) // no libssl 3 on this machine
	}
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Example CA", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}})

	var serverCfg ssl.Configuration
	serverCfg.SetBackend("openssl")
	serverCfg.SetLocalCertificate(ssl.NewCertificate(leaf.Cert))
	serverCfg.SetPrivateKey(ssl.NewKey(leaf.Key))
	srv, err := ssl.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	go func() {
		for {
			conn, err := srv.Accept()
			if err != nil {
				return
			}
			go func() { defer conn.Close(); io.Copy(conn, conn) }()
		}
	}()

	var clientCfg ssl.Configuration
	clientCfg.SetBackend("openssl")
	clientCfg.SetCaCertificates([]ssl.Certificate{ssl.NewCertificate(root.Cert)})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	port := strconv.Itoa(srv.Addr().(*net.TCPAddr).Port)
	conn, err := ssl.Dial(ctx, "localhost:"+port, clientCfg)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "ping")
	reply := make([]byte, 4)
	io.ReadFull(conn, reply)
	fmt.Println(string(reply), conn.SslConfiguration().Backend())
	// Output:
	// ping openssl
}

// Pre-shared keys (Qt's preSharedKeyAuthenticationRequired) on both sides:
// the server has no certificate at all, so the client does not ask for one
// (SetPeerVerifyMode(VerifyNone), Qt's rule for PSK too — without it the
// handshake fails with "The peer did not present any certificate").
func Example_preSharedKey() {
	key := bytes.Repeat([]byte{0x42}, 32) // share it out of band

	var serverCfg ssl.Configuration
	serverCfg.SetBackend("openssl")
	serverCfg.SetPreSharedKeyIdentityHint([]byte("example hint"))
	srv, err := ssl.Listen("tcp", "127.0.0.1:0", serverCfg)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	srv.OnPreSharedKeyAuthenticationRequired(func(_ *ssl.Socket, a *ssl.PreSharedKeyAuthenticator) {
		if string(a.Identity()) == "client1" {
			a.SetPreSharedKey(key)
		}
	})
	go func() {
		conn, err := srv.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprint(conn, "hello, client1")
	}()

	var clientCfg ssl.Configuration
	clientCfg.SetBackend("openssl")
	clientCfg.SetPeerVerifyMode(ssl.VerifyNone) // a PSK server presents no certificate
	client := ssl.NewSocket()
	client.SetSslConfiguration(clientCfg)
	client.OnPreSharedKeyAuthenticationRequired(func(a *ssl.PreSharedKeyAuthenticator) {
		a.SetIdentity([]byte("client1"))
		a.SetPreSharedKey(key)
	})
	client.ConnectToHostEncrypted("127.0.0.1", uint16(srv.Addr().(*net.TCPAddr).Port))
	if !client.WaitForEncrypted(10 * time.Second) {
		log.Fatal(client.ErrorString())
	}
	defer client.Close()
	greeting := make([]byte, 14)
	io.ReadFull(client, greeting)
	fmt.Println(string(greeting))
	fmt.Println("server certificate:", !client.PeerCertificate().IsNull())
	// Output:
	// hello, client1
	// server certificate: false
}
