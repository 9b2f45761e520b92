package ssl

import (
	"crypto"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// ocspFor makes a DER OCSP response about cert, signed by signer (as issuer).
func ocspFor(t *testing.T, issuer, signer *pki.Cert, cert *pki.Cert, mod func(*ocsp.Response)) []byte {
	t.Helper()
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: cert.Cert.SerialNumber,
		ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour), IssuerHash: crypto.SHA1}
	if mod != nil {
		mod(&tmpl)
	}
	der, err := ocsp.CreateResponse(issuer.Cert, signer.Cert, tmpl, signer.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestOcspStapling(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		other := p.root.MustIssue(pki.Spec{CommonName: "other"})
		rogue := pki.MustSelfSigned(pki.Spec{CommonName: "Test Root"}) // same name, wrong key
		tryLater := []byte{0x30, 0x03, 0x0a, 0x01, 0x03}
		tests := []struct {
			name   string
			staple []byte
			want   []ErrorCode
			status OcspCertificateStatus
			reason OcspRevocationReason
			fatal  bool
			// checkResp: the decoded response must say status/reason, from the root.
			checkResp bool
		}{
			{"good", ocspFor(t, p.root, p.root, p.server, nil), nil, OcspGood, OcspReasonNone, false, true},
			{"revoked", ocspFor(t, p.root, p.root, p.server, func(r *ocsp.Response) {
				r.Status, r.RevokedAt, r.RevocationReason = ocsp.Revoked, time.Now().Add(-time.Minute), ocsp.KeyCompromise
			}), []ErrorCode{CertificateRevoked}, OcspRevoked, OcspReasonKeyCompromise, false, true},
			{"unknown", ocspFor(t, p.root, p.root, p.server, func(r *ocsp.Response) { r.Status = ocsp.Unknown }),
				[]ErrorCode{OcspStatusUnknown}, OcspUnknown, OcspReasonNone, false, true},
			{"no staple", nil, []ErrorCode{OcspNoResponseFound}, 0, 0, false, false},
			{"tryLater", tryLater, []ErrorCode{OcspTryLater}, 0, 0, false, false},
			{"expired", ocspFor(t, p.root, p.root, p.server, func(r *ocsp.Response) {
				r.ThisUpdate, r.NextUpdate = time.Now().Add(-3*time.Hour), time.Now().Add(-2*time.Hour)
			}), []ErrorCode{OcspResponseExpired}, OcspGood, OcspReasonNone, false, true},
			{"about another certificate", ocspFor(t, p.root, p.root, other, nil), []ErrorCode{OcspResponseCertIdUnknown}, 0, 0, false, false},
			{"signed by a stranger", ocspFor(t, rogue, rogue, p.server, nil),
				[]ErrorCode{OcspResponseCannotBeTrusted, OcspResponseCertIdUnknown}, 0, 0, false, false},
			{"garbage", []byte{0x30, 0x03, 0x01, 0x02, 0x03}, nil, 0, 0, true, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				scfg := p.serverConfig(p.server)
				scfg.SetOcspStaple(tc.staple)
				ccfg := p.clientConfig()
				ccfg.SetOcspStaplingEnabled(true)
				var got []ErrorCode
				client, _, cOK, _ := handshakePair(t, ccfg, scfg, func(c, _ *Socket) {
					c.OnSslErrors(func(errs []Error) {
						for _, e := range errs {
							got = append(got, e.Code)
						}
					})
				})
				if tc.fatal {
					if cOK || client.ErrorString() != "Failed to decode OCSP response" || len(got) != 0 {
						t.Errorf("fatal: encrypted %v, %q, errors %v", cOK, client.ErrorString(), got)
					}
					return
				}
				if !slices.Equal(got, tc.want) || cOK != (len(tc.want) == 0) {
					t.Errorf("errors %v (want %v), encrypted %v", got, tc.want, cOK)
				}
				resps := client.OcspResponses()
				if tc.checkResp {
					if len(resps) != 1 || resps[0].CertificateStatus != tc.status || resps[0].RevocationReason != tc.reason ||
						!resps[0].Subject.Equal(certOf(p.server)) || !resps[0].Responder.Equal(certOf(p.root)) {
						t.Errorf("ocspResponses %+v", resps)
					}
				}
			})
		}
		// Without stapling enabled nothing is checked; a server may not enable it.
		scfg := p.serverConfig(p.server)
		client, _, cOK, _ := handshakePair(t, p.clientConfig(), scfg, nil)
		if !cOK || len(client.OcspResponses()) != 0 {
			t.Error("stapling disabled: the staple must be ignored")
		}
		scfg.SetOcspStaplingEnabled(true)
		_, srv := tcpPair(t)
		s := NewSocketFromConn(srv)
		s.SetSslConfiguration(scfg)
		if err := s.StartServerEncryption(); err == nil || s.SocketError() != SslInvalidUserDataError {
			t.Errorf("server with stapling enabled: %v", err)
		}
		s.Close()
	})
}

// TestOcspInterop: openssl s_server staples a response (-status_file) and
// our client checks it.
func TestOcspInterop(t *testing.T) {
	checkNoLeaks(t)
	runModes(t, func(t *testing.T, m backendMode) {
		p := newTestPKI(t).with(m)
		dir := pkiFiles(t, p)
		revoked := ocspFor(t, p.root, p.root, p.server, func(r *ocsp.Response) {
			r.Status, r.RevokedAt, r.RevocationReason, r.SerialNumber = ocsp.Revoked, time.Now().Add(-time.Minute), ocsp.Superseded, new(big.Int).Set(p.server.Cert.SerialNumber)
		})
		if err := os.WriteFile(filepath.Join(dir, "ocsp.der"), revoked, 0o644); err != nil {
			t.Fatal(err)
		}
		port := opensslServer(t, dir, "-cert", "server.pem", "-key", "server.key", "-rev", "-status_file", "ocsp.der")
		s := NewSocket()
		defer s.Abort()
		cfg := p.clientConfig()
		cfg.SetOcspStaplingEnabled(true)
		s.SetSslConfiguration(cfg)
		var got []Error
		s.OnSslErrors(func(errs []Error) { got = errs })
		s.ConnectToHostEncrypted("localhost", port)
		if s.WaitForEncrypted(10 * time.Second) {
			t.Fatal("a revoked certificate was accepted")
		}
		if len(got) != 1 || !got[0].Equal(NewError(CertificateRevoked, certOf(p.server))) {
			t.Errorf("sslErrors %v", got)
		}
		if r := s.OcspResponses(); len(r) != 1 || r[0].RevocationReason != OcspReasonSuperseded {
			t.Errorf("ocspResponses %+v", r)
		}
	})
}
