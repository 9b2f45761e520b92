package ssl_test

import (
	"context"
	"fmt"
	"io"
	"log"

	"github.com/sslsocket/sslsocket/internal/pki"
	"github.com/sslsocket/sslsocket/ssl"
)

// Encrypted Client Hello: the server has a key, the client its
// configuration list; the name the client asks for travels encrypted, the
// public name in clear.
func ExampleConfiguration_SetEncryptedClientHelloConfigList() {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "Example CA", IsCA: true})
	leaf := root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost", "public.example"}})

	key, err := ssl.GenerateEncryptedClientHelloKey("public.example")
	if err != nil {
		log.Fatal(err)
	}
	var scfg ssl.Configuration
	scfg.SetLocalCertificate(ssl.NewCertificate(leaf.Cert))
	scfg.SetPrivateKey(ssl.NewKey(leaf.Key))
	scfg.SetEncryptedClientHelloKeys([]ssl.EncryptedClientHelloKey{key})
	srv, err := ssl.Listen("tcp", "127.0.0.1:0", scfg)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	go func() {
		for {
			c, err := srv.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()

	list, err := ssl.MarshalECHConfigList(key) // what the server publishes
	if err != nil {
		log.Fatal(err)
	}
	var ccfg ssl.Configuration
	ccfg.SetCaCertificates([]ssl.Certificate{ssl.NewCertificate(root.Cert)})
	if err := ccfg.SetEncryptedClientHelloConfigList(list); err != nil {
		log.Fatal(err)
	}
	d := ssl.Dialer{Config: ccfg, PeerVerifyName: "localhost"}
	conn, err := d.DialContext(context.Background(), "tcp", srv.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	sock := conn.(*ssl.Socket)
	fmt.Println("ECH accepted:", sock.SessionECHAccepted())
	fmt.Println("in clear:", sock.SessionOuterServerName())
	fmt.Println("encrypted:", sock.ConnectionState().ServerName)
	fmt.Println("key exchange:", ssl.GroupName(sock.SessionKeyExchangeGroup()))
	// Output:
	// ECH accepted: true
	// in clear: public.example
	// encrypted: localhost
	// key exchange: X25519MLKEM768
}
