package ssl

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/sslsocket/sslsocket/internal/pki"
)

// ocspFor makes a DER OCSP response about cert, issued by issuer and signed
// by signer (responder ID by name); embed puts the signer's certificate in
// the response, as `openssl ocsp -rsigner` does by default.
func ocspFor(t *testing.T, issuer, signer *pki.Cert, cert *pki.Cert, embed bool, mod func(*ocsp.Response)) []byte {
	t.Helper()
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: cert.Cert.SerialNumber,
		ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour), IssuerHash: crypto.SHA1}
	if embed {
		tmpl.Certificate = signer.Cert
	}
	if mod != nil {
		mod(&tmpl)
	}
	der, err := ocsp.CreateResponse(issuer.Cert, signer.Cert, tmpl, signer.Key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func revoke(r *ocsp.Response) {
	r.Status, r.RevokedAt, r.RevocationReason = ocsp.Revoked, time.Now().Add(-time.Minute), ocsp.KeyCompromise
}

// ocspPKI is the measurement's PKI: root → intermediate → leaf (localhost),
// plus responders and strangers.
type ocspPKI struct {
	root, inter, leaf, other, deleg, nodeleg, rogue, rootLeaf *pki.Cert
}

func newOcspPKI() *ocspPKI {
	root := pki.MustSelfSigned(pki.Spec{CommonName: "OCSP Test Root", IsCA: true})
	inter := root.MustIssue(pki.Spec{CommonName: "OCSP Test Intermediate", IsCA: true})
	return &ocspPKI{
		root:  root,
		inter: inter,
		leaf:  inter.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}}),
		other: inter.MustIssue(pki.Spec{CommonName: "other", DNSNames: []string{"other"}}),
		deleg: inter.MustIssue(pki.Spec{CommonName: "Delegated Responder", ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}}),
		nodeleg: inter.MustIssue(pki.Spec{CommonName: "Not A Responder",
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}),
		rogue:    pki.MustSelfSigned(pki.Spec{CommonName: "OCSP Test Intermediate", IsCA: true}), // same name, other key
		rootLeaf: root.MustIssue(pki.Spec{CommonName: "localhost", DNSNames: []string{"localhost"}}),
	}
}

// TestOcspStapling encodes what Qt 6.4.2 reports for stapled responses
// (docs/qt-measured-verification.md §1): the whole sslErrors list, the
// response's status and reason, and its responder (Qt's signer certificate:
// the leaf's issuer, null when the response could not be tied to the leaf).
func TestOcspStapling(t *testing.T) {
	checkNoLeaks(t)
	p := newOcspPKI()
	tryLater := []byte{0x30, 0x03, 0x0a, 0x01, 0x03}
	leafOnly := []*pki.Cert{p.leaf}
	full := []*pki.Cert{p.leaf, p.inter}
	const chainErrs = ", UnableToGetLocalIssuerCertificate@localhost, UnableToVerifyFirstCertificate@localhost"
	tests := []struct {
		name      string
		chain     []*pki.Cert
		staple    []byte
		want      string // sslErrors, "Code@subject" ("null" for none)
		status    OcspCertificateStatus
		reason    OcspRevocationReason
		responder string // "" for none
		fatal     bool
		noResp    bool // no decoded response
	}{
		// Measured: `openssl ocsp -rsigner int` (certificate embedded) and -resp_no_certs.
		{name: "good, issuer signs, issuer embedded", chain: full, staple: ocspFor(t, p.inter, p.inter, p.leaf, true, nil),
			status: OcspGood, reason: OcspReasonNone, responder: "OCSP Test Intermediate"},
		{name: "good, issuer signs, nothing embedded", chain: full, staple: ocspFor(t, p.inter, p.inter, p.leaf, false, nil),
			status: OcspGood, reason: OcspReasonNone, responder: "OCSP Test Intermediate"},
		{name: "revoked, issuer embedded", chain: full, staple: ocspFor(t, p.inter, p.inter, p.leaf, true, revoke),
			want: "CertificateRevoked@localhost", status: OcspRevoked, reason: OcspReasonKeyCompromise, responder: "OCSP Test Intermediate"},
		{name: "revoked, nothing embedded", chain: full, staple: ocspFor(t, p.inter, p.inter, p.leaf, false, revoke),
			want: "CertificateRevoked@localhost", status: OcspRevoked, reason: OcspReasonKeyCompromise, responder: "OCSP Test Intermediate"},
		{name: "good, intermediate missing, issuer embedded", chain: leafOnly, staple: ocspFor(t, p.inter, p.inter, p.leaf, true, nil),
			want: "OcspResponseCertIdUnknown@localhost" + chainErrs, status: OcspGood, reason: OcspReasonNone},
		{name: "good, intermediate missing, nothing embedded", chain: leafOnly, staple: ocspFor(t, p.inter, p.inter, p.leaf, false, nil),
			want: "OcspResponseCannotBeTrusted@null, OcspResponseCertIdUnknown@localhost" + chainErrs, status: OcspGood, reason: OcspReasonNone},
		{name: "revoked, intermediate missing, issuer embedded", chain: leafOnly, staple: ocspFor(t, p.inter, p.inter, p.leaf, true, revoke),
			want:   "OcspResponseCertIdUnknown@localhost, CertificateRevoked@localhost" + chainErrs,
			status: OcspRevoked, reason: OcspReasonKeyCompromise},
		{name: "revoked, intermediate missing, nothing embedded", chain: leafOnly, staple: ocspFor(t, p.inter, p.inter, p.leaf, false, revoke),
			want:   "OcspResponseCannotBeTrusted@null, OcspResponseCertIdUnknown@localhost, CertificateRevoked@localhost" + chainErrs,
			status: OcspRevoked, reason: OcspReasonKeyCompromise},
		{name: "good, signed by the root (not the issuer)", chain: full, staple: ocspFor(t, p.inter, p.root, p.leaf, true, nil),
			want: "OcspResponseCannotBeTrusted@null", status: OcspGood, reason: OcspReasonNone, responder: "OCSP Test Intermediate"},
		{name: "revoked, signed by the root (not the issuer)", chain: full, staple: ocspFor(t, p.inter, p.root, p.leaf, false, revoke),
			want: "OcspResponseCannotBeTrusted@null, CertificateRevoked@localhost", status: OcspRevoked, reason: OcspReasonKeyCompromise,
			responder: "OCSP Test Intermediate"},
		{name: "delegated responder, embedded", chain: full, staple: ocspFor(t, p.inter, p.deleg, p.leaf, true, nil),
			status: OcspGood, reason: OcspReasonNone, responder: "OCSP Test Intermediate"},
		{name: "delegated responder, not embedded", chain: full, staple: ocspFor(t, p.inter, p.deleg, p.leaf, false, nil),
			want: "OcspResponseCannotBeTrusted@null", status: OcspGood, reason: OcspReasonNone, responder: "OCSP Test Intermediate"},
		{name: "responder without OCSPSigning, embedded", chain: full, staple: ocspFor(t, p.inter, p.nodeleg, p.leaf, true, nil),
			want: "OcspResponseCannotBeTrusted@null", status: OcspGood, reason: OcspReasonNone, responder: "OCSP Test Intermediate"},
		// Leaf issued by the trusted root, which the server does not send:
		// Qt finds neither issuer nor signer (the anchors are not searched).
		{name: "root-issued leaf, root not presented, root embedded", chain: []*pki.Cert{p.rootLeaf}, staple: ocspFor(t, p.root, p.root, p.rootLeaf, true, nil),
			want: "OcspResponseCertIdUnknown@localhost", status: OcspGood, reason: OcspReasonNone},
		{name: "root-issued leaf, root not presented, nothing embedded", chain: []*pki.Cert{p.rootLeaf}, staple: ocspFor(t, p.root, p.root, p.rootLeaf, false, nil),
			want: "OcspResponseCannotBeTrusted@null, OcspResponseCertIdUnknown@localhost", status: OcspGood, reason: OcspReasonNone},
		{name: "root-issued leaf, root presented", chain: []*pki.Cert{p.rootLeaf, p.root}, staple: ocspFor(t, p.root, p.root, p.rootLeaf, false, nil),
			status: OcspGood, reason: OcspReasonNone, responder: "OCSP Test Root"},
		// Qt's source (the other OCSP errors).
		{name: "unknown", chain: full, staple: ocspFor(t, p.inter, p.inter, p.leaf, true, func(r *ocsp.Response) { r.Status = ocsp.Unknown }),
			want: "OcspStatusUnknown@localhost", status: OcspUnknown, reason: OcspReasonNone, responder: "OCSP Test Intermediate"},
		{name: "no staple", chain: full, want: "OcspNoResponseFound@null", noResp: true},
		{name: "tryLater", chain: full, staple: tryLater, want: "OcspTryLater@null", noResp: true},
		{name: "expired", chain: full, staple: ocspFor(t, p.inter, p.inter, p.leaf, true, func(r *ocsp.Response) {
			r.ThisUpdate, r.NextUpdate = time.Now().Add(-3*time.Hour), time.Now().Add(-2*time.Hour)
		}), want: "OcspResponseExpired@localhost", status: OcspGood, reason: OcspReasonNone, responder: "OCSP Test Intermediate"},
		{name: "about another certificate", chain: full, staple: ocspFor(t, p.inter, p.inter, p.other, true, nil),
			want: "OcspResponseCertIdUnknown@localhost", status: OcspGood, reason: OcspReasonNone},
		{name: "revoked, about another certificate", chain: full, staple: ocspFor(t, p.inter, p.inter, p.other, true, revoke),
			want: "OcspResponseCertIdUnknown@localhost, CertificateRevoked@localhost", status: OcspRevoked, reason: OcspReasonKeyCompromise},
		{name: "signed by a stranger with the issuer's name", chain: full, staple: ocspFor(t, p.rogue, p.rogue, p.leaf, true, nil),
			want: "OcspResponseCannotBeTrusted@null, OcspResponseCertIdUnknown@localhost", status: OcspGood, reason: OcspReasonNone},
		{name: "garbage", chain: full, staple: []byte{0x30, 0x03, 0x01, 0x02, 0x03}, fatal: true},
	}
	runModes(t, func(t *testing.T, m backendMode) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				scfg := m.apply(Configuration{})
				scfg.SetLocalCertificateChain(certsOf(tc.chain))
				scfg.SetPrivateKey(NewKey(tc.chain[0].Key))
				scfg.SetOcspStaple(tc.staple)
				ccfg := m.apply(Configuration{})
				ccfg.SetCaCertificates([]Certificate{certOf(p.root)})
				ccfg.SetOcspStaplingEnabled(true)
				var got []string
				client, _, cOK, _ := handshakePair(t, ccfg, scfg, func(c, _ *Socket) {
					c.OnSslErrors(func(errs []Error) {
						for _, e := range errs {
							who := "null"
							if !e.Certificate.IsNull() {
								who = e.Certificate.SubjectDisplayName()
							}
							got = append(got, e.Code.String()+"@"+who)
						}
					})
				})
				if tc.fatal {
					if cOK || client.ErrorString() != "Failed to decode OCSP response" || len(got) != 0 {
						t.Errorf("fatal: encrypted %v, %q, errors %v", cOK, client.ErrorString(), got)
					}
					return
				}
				if s := strings.Join(got, ", "); s != tc.want || cOK != (tc.want == "") {
					t.Errorf("errors %s\nwant   %s\nencrypted %v", s, tc.want, cOK)
				}
				resps := client.OcspResponses()
				if tc.noResp {
					if len(resps) != 0 {
						t.Errorf("ocspResponses %+v, want none", resps)
					}
					return
				}
				if len(resps) != 1 {
					t.Fatalf("ocspResponses %+v", resps)
				}
				r := resps[0]
				responder := ""
				if !r.Responder.IsNull() {
					responder = r.Responder.SubjectDisplayName()
				}
				if r.CertificateStatus != tc.status || r.RevocationReason != tc.reason || responder != tc.responder ||
					!r.Subject.Equal(certOf(tc.chain[0])) {
					t.Errorf("ocspResponses: status %v reason %v responder %q subject %s; want %v %v %q",
						r.CertificateStatus, r.RevocationReason, responder, r.Subject.SubjectDisplayName(), tc.status, tc.reason, tc.responder)
				}
			})
		}
	})
	// Without stapling enabled nothing is checked; a server may not enable it.
	tp := newTestPKI(t)
	scfg := tp.serverConfig(tp.server)
	scfg.SetOcspStaple(ocspFor(t, tp.root, tp.root, tp.server, true, revoke))
	client, _, cOK, _ := handshakePair(t, tp.clientConfig(), scfg, nil)
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
}

// TestOcspInterop replays the Qt measurement with OpenSSL's own tools
// (docs/qt-measured-verification.md §1): `openssl ocsp -rsigner <issuer>`
// makes the responses (issuer certificate embedded by default,
// -resp_no_certs, -resp_key_id), `openssl s_server -status_file` staples
// them, and our client must report what Qt 6.4.2 reported.
func TestOcspInterop(t *testing.T) {
	checkNoLeaks(t)
	openssl := requireOpenSSL(t)
	p := newOcspPKI()
	dir := t.TempDir()
	for name, c := range map[string]*pki.Cert{"root": p.root, "int": p.inter, "leaf": p.leaf} {
		if _, _, err := c.WriteFiles(dir, name); err != nil {
			t.Fatal(err)
		}
	}
	// openssl ca's index: one line for the leaf, valid or revoked.
	serial := fmt.Sprintf("%X", p.leaf.Cert.SerialNumber)
	if len(serial)%2 == 1 {
		serial = "0" + serial
	}
	exp := p.leaf.Cert.NotAfter.UTC().Format("060102150405Z")
	revokedAt := time.Now().Add(-time.Hour).UTC().Format("060102150405Z")
	for name, line := range map[string]string{
		"index.good":    "V\t" + exp + "\t\t" + serial + "\tunknown\t/CN=localhost\n",
		"index.revoked": "R\t" + exp + "\t" + revokedAt + ",keyCompromise\t" + serial + "\tunknown\t/CN=localhost\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	respond := func(out, index string, extra ...string) {
		args := append([]string{"ocsp", "-index", index, "-rsigner", "int.pem", "-rkey", "int.key", "-CA", "int.pem",
			"-issuer", "int.pem", "-cert", "leaf.pem", "-respout", out, "-ndays", "7"}, extra...)
		cmd := exec.Command(openssl, args...)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, b)
		}
	}
	respond("good_emb.der", "index.good")
	respond("good_nocerts.der", "index.good", "-resp_no_certs")
	respond("rev_emb.der", "index.revoked")
	respond("rev_nocerts.der", "index.revoked", "-resp_no_certs")
	respond("rev_keyid.der", "index.revoked", "-resp_key_id")

	const chainErrs = ", UnableToGetLocalIssuerCertificate@localhost, UnableToVerifyFirstCertificate@localhost"
	tests := []struct {
		staple   string
		leafOnly bool
		want     string
		status   OcspCertificateStatus
	}{
		{"good_emb.der", false, "", OcspGood},
		{"good_nocerts.der", false, "", OcspGood},
		{"rev_emb.der", false, "CertificateRevoked@localhost", OcspRevoked},
		{"rev_nocerts.der", false, "CertificateRevoked@localhost", OcspRevoked},
		{"rev_keyid.der", false, "CertificateRevoked@localhost", OcspRevoked},
		{"good_emb.der", true, "OcspResponseCertIdUnknown@localhost" + chainErrs, OcspGood},
		{"good_nocerts.der", true, "OcspResponseCannotBeTrusted@null, OcspResponseCertIdUnknown@localhost" + chainErrs, OcspGood},
		{"rev_emb.der", true, "OcspResponseCertIdUnknown@localhost, CertificateRevoked@localhost" + chainErrs, OcspRevoked},
		{"rev_nocerts.der", true, "OcspResponseCannotBeTrusted@null, OcspResponseCertIdUnknown@localhost, CertificateRevoked@localhost" + chainErrs, OcspRevoked},
	}
	for _, tc := range tests {
		args := []string{"-cert", "leaf.pem", "-key", "leaf.key", "-status_file", tc.staple}
		name := tc.staple
		if !tc.leafOnly {
			args = append(args, "-cert_chain", "int.pem")
		} else {
			name += ", intermediate missing"
		}
		t.Run(name, func(t *testing.T) {
			port := opensslServer(t, dir, args...)
			runModes(t, func(t *testing.T, m backendMode) {
				s := NewSocket()
				defer s.Abort()
				cfg := m.apply(Configuration{})
				cfg.SetCaCertificates([]Certificate{certOf(p.root)})
				cfg.SetOcspStaplingEnabled(true)
				s.SetSslConfiguration(cfg)
				var got []string
				s.OnSslErrors(func(errs []Error) {
					for _, e := range errs {
						who := "null"
						if !e.Certificate.IsNull() {
							who = e.Certificate.SubjectDisplayName()
						}
						got = append(got, e.Code.String()+"@"+who)
					}
				})
				s.ConnectToHostEncrypted("localhost", port)
				ok := s.WaitForEncrypted(10 * time.Second)
				if g := strings.Join(got, ", "); g != tc.want || ok != (tc.want == "") {
					t.Errorf("errors %s\nwant   %s\nencrypted %v (%s)", g, tc.want, ok, s.ErrorString())
				}
				if r := s.OcspResponses(); len(r) != 1 || r[0].CertificateStatus != tc.status {
					t.Errorf("ocspResponses %+v", r)
				}
			})
		})
	}
}
