package ssl_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net"
	"strconv"

	"github.com/sslsocket/sslsocket/ssl"
)

// Two servers sharing session ticket keys resume each other's sessions: a
// client's first connection goes to one, the next to the other. In
// production the keys come from a file every server reads
// (ssl.OpenTicketKeyFile, reloaded when it changes); here from memory.
func ExampleConfiguration_SetSessionTicketKeys() {
	raw := make([]byte, ssl.TicketKeySize) // `openssl rand 80`
	if _, err := rand.Read(raw); err != nil {
		log.Fatal(err)
	}
	keys, err := ssl.NewTicketKeys(raw)
	if err != nil {
		log.Fatal(err)
	}
	serverCfg, roots := exampleIdentity("localhost")
	serverCfg.SetSessionTicketKeys(keys)
	var ports []string
	for range 2 {
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
		ports = append(ports, strconv.Itoa(srv.Addr().(*net.TCPAddr).Port))
	}

	var clientCfg ssl.Configuration
	clientCfg.SetCaCertificates(roots)
	clientCfg.SetSslOption(ssl.SslOptionDisableSessionPersistence, false) // keep tickets
	for _, port := range ports {
		conn, err := ssl.Dial(context.Background(), "localhost:"+port, clientCfg)
		if err != nil {
			log.Fatal(err)
		}
		// TLS 1.3 tickets come after the handshake, before the server's
		// first data: reading the echo takes the ticket in.
		fmt.Fprintln(conn, "hello")
		conn.Read(make([]byte, 6))
		fmt.Printf("resumed %v, under the shared key: %v\n", conn.IsSessionResumed(), conn.SessionTicketKeyID() == keys.ID(0))
		clientCfg.SetSessionTicket(conn.SslConfiguration().SessionTicket())
		conn.Close()
	}
	// Output:
	// resumed false, under the shared key: false
	// resumed true, under the shared key: true
}
