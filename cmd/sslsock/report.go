package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/sslsocket/sslsocket/ssl"
)

// connectReport is connect's report; --json prints it as one object.
type connectReport struct {
	OK                  bool        `json:"ok"`
	Verdict             string      `json:"verdict"`
	Encrypted           bool        `json:"encrypted"`
	Backend             string      `json:"backend"`
	Address             string      `json:"address"`
	VerifyName          string      `json:"verifyName"`
	ServerName          string      `json:"serverName"`
	Protocol            string      `json:"protocol"`
	ProtocolVersion     string      `json:"protocolVersion"`
	Cipher              jsonCipher  `json:"cipher"`
	KeyExchangeGroup    string      `json:"keyExchangeGroup"`
	ECH                 *jsonECH    `json:"ech"` // null without --ech-config (ech.go)
	ALPN                jsonALPN    `json:"alpn"`
	Resumed             bool        `json:"resumed"`
	TicketKey           string      `json:"ticketKey,omitempty"` // ticketkeys.go
	SessionOffered      bool        `json:"sessionOffered"`
	PeerChain           []jsonCert  `json:"peerChain"`
	SslErrors           []jsonError `json:"sslErrors"`
	PeerVerifyErrors    []jsonError `json:"peerVerifyErrors"`
	AlertsSent          []jsonAlert `json:"alertsSent"`
	AlertsReceived      []jsonAlert `json:"alertsReceived"`
	AlertAfterHandshake *jsonAlert  `json:"alertAfterHandshake"`
	Confirmation        string      `json:"confirmation"`
	OCSP                []jsonOCSP  `json:"ocsp"`
	SocketError         string      `json:"socketError"`
	ErrorString         string      `json:"errorString"`
	Received            string      `json:"received"`
}

type jsonCipher struct {
	Name           string `json:"name"`
	IANAName       string `json:"ianaName"`
	Protocol       string `json:"protocol"`
	KeyExchange    string `json:"keyExchange"`
	Authentication string `json:"authentication"`
	Encryption     string `json:"encryption"`
	UsedBits       int    `json:"usedBits"`
	SupportedBits  int    `json:"supportedBits"`
}

type jsonALPN struct {
	Protocol string `json:"protocol"`
	Status   string `json:"status"`
}

type jsonAlert struct {
	Level       string `json:"level"`
	Type        string `json:"type"`
	Code        int    `json:"code"`
	Description string `json:"description"`
}

// words describes the alert for people.
func (a jsonAlert) words() string {
	return fmt.Sprintf("%s (%s, alert %d)", a.Description, a.Type, a.Code)
}

type jsonOCSP struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

func newReport(p *connectPlan, o *connectOpts) *connectReport {
	r := &connectReport{Backend: o.tls.backendName(), Address: p.addr, VerifyName: p.verifyName, SslErrors: []jsonError{},
		PeerVerifyErrors: []jsonError{}, AlertsSent: []jsonAlert{}, AlertsReceived: []jsonAlert{}, OCSP: []jsonOCSP{}, PeerChain: []jsonCert{}}
	switch {
	case o.noServerName:
	case o.serverName != "":
		r.ServerName = o.serverName
	default:
		r.ServerName = sniFor(p.verifyName)
	}
	return r
}

// sniFor is the SNI a client sends for name: none for IP addresses.
func sniFor(name string) string {
	name = strings.TrimSuffix(name, ".")
	if strings.Trim(name, "0123456789.") == "" || strings.Contains(name, ":") {
		return ""
	}
	return name
}

// fill copies what the session learned into the report. ss.mu is held.
func (r *connectReport) fill(ss *session, cs tls.ConnectionState, cfg ssl.Configuration, ocsp []ssl.OcspResponse, resumed, pem bool) {
	r.SslErrors = toJSONErrors(ss.errs, r.VerifyName)
	r.PeerVerifyErrors = toJSONErrors(ss.sockErrs, r.VerifyName)
	r.AlertsSent = append([]jsonAlert{}, ss.alertsOut...)
	r.AlertsReceived = append([]jsonAlert{}, ss.alertsIn...)
	r.PeerChain = toJSONChain(cfg.PeerCertificateChain(), pem)
	if len(cfg.EncryptedClientHelloConfigList()) > 0 {
		r.ECH = &jsonECH{Accepted: cs.ECHAccepted, PublicName: cfg.EncryptedClientHelloPublicName(), InnerServerName: r.ServerName}
	}
	if !cs.HandshakeComplete {
		return
	}
	r.AlertAfterHandshake = ss.fatalIn
	r.Protocol = ssl.ProtocolFromVersion(cs.Version).String()
	r.ProtocolVersion = tls.VersionName(cs.Version)
	c := ssl.CipherFromID(cs.CipherSuite)
	r.Cipher = jsonCipher{c.Name(), c.IANAName(), c.ProtocolString(), c.KeyExchangeMethod(), c.AuthenticationMethod(),
		c.EncryptionMethod(), c.UsedBits(), c.SupportedBits()}
	r.KeyExchangeGroup = ssl.GroupName(cs.CurveID)
	r.ALPN = jsonALPN{cfg.NextNegotiatedProtocol(), cfg.NextProtocolNegotiationStatus().String()}
	r.Resumed = resumed
	for _, o := range ocsp {
		r.OCSP = append(r.OCSP, jsonOCSP{o.CertificateStatus.String(), o.RevocationReason.String()})
	}
}

// verdict is the one-line summary.
func (r *connectReport) verdict(p *connectPlan, o *connectOpts) string {
	problems := func() string {
		var codes []string
		for _, e := range r.SslErrors {
			codes = append(codes, e.Code)
		}
		return fmt.Sprintf("%d certificate problem(s): %s", len(codes), strings.Join(codes, ", "))
	}
	switch {
	case !r.Encrypted && len(r.SslErrors) > 0:
		return "FAILED: not encrypted, " + problems()
	case !r.Encrypted:
		return "FAILED: not encrypted: " + r.ErrorString
	case r.AlertAfterHandshake != nil:
		return fmt.Sprintf("FAILED: encrypted with %s, but the server then ended the connection with a fatal alert: %s",
			r.ProtocolVersion, r.AlertAfterHandshake.words())
	}
	unconfirmed := ""
	if r.Confirmation == notConfirmed {
		unconfirmed = fmt.Sprintf("; not confirmed: the server sent nothing within %s after the handshake (a TLS 1.3 server rejects a client certificate only then)", o.confirm)
	}
	switch {
	case o.pskKey != "" && len(r.PeerChain) == 0:
		return fmt.Sprintf("OK: encrypted with %s; authenticated by the pre-shared key (identity %q), no certificate%s", r.ProtocolVersion, o.pskIdentity, unconfirmed)
	case o.tls.verify == "none":
		return fmt.Sprintf("OK: encrypted with %s; the certificate was NOT verified (--verify none)%s", r.ProtocolVersion, unconfirmed)
	case len(r.SslErrors) > 0:
		return fmt.Sprintf("OK: encrypted with %s, accepting %s%s", r.ProtocolVersion, problems(), unconfirmed)
	}
	return fmt.Sprintf("OK: encrypted with %s; certificate verified for %q%s", r.ProtocolVersion, p.verifyName, unconfirmed)
}

// printReport prints the report: JSON, nothing (--quiet), the verdict
// (--brief) or the full text.
func (a *app) printReport(o *connectOpts, r *connectReport, chain []ssl.Certificate, ss *session) {
	switch {
	case o.asJSON:
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
		return
	case o.quiet:
		if r.Encrypted && !r.OK {
			fmt.Fprintf(a.stderr, "sslsock: %s\n", r.Verdict)
		}
		io.WriteString(a.stdout, r.Received) // --send's answer: the server's data
		return
	case o.brief:
		fmt.Fprintln(a.stderr, r.Verdict)
		io.WriteString(a.stdout, r.Received)
		return
	}
	w := a.stdout
	fmt.Fprintf(w, "connection to %s, backend %s\n", r.Address, r.Backend)
	sni := r.ServerName
	if sni == "" {
		sni = "none"
	}
	fmt.Fprintf(w, "server name sent (SNI): %s; certificate checked for: %s\n", sni, r.VerifyName)
	ss.mu.Lock()
	shown, errs := ss.chainShown, ss.errs
	ss.mu.Unlock()
	if !shown {
		printChain(w, chain, o.showCerts)
		printProblems(w, errs, chain, r.VerifyName)
	}
	if r.Encrypted {
		fmt.Fprintf(w, "protocol:      %s (%s)\n", r.ProtocolVersion, r.Protocol)
		fmt.Fprintf(w, "cipher:        %s (%s; %s encryption, %d bits)\n", r.Cipher.IANAName, r.Cipher.Name, r.Cipher.Encryption, r.Cipher.UsedBits)
		group := r.KeyExchangeGroup
		if group == "" {
			group = "unknown"
		}
		fmt.Fprintf(w, "key exchange:  %s\n", group)
		if r.ECH != nil {
			fmt.Fprintf(w, "ECH:           %s\n", echWords(r.ECH))
		}
		fmt.Fprintf(w, "ALPN:          %s\n", alpnWords(r.ALPN))
		fmt.Fprintf(w, "resumed:       %s\n", resumedWords(r))
		for _, oc := range r.OCSP {
			fmt.Fprintf(w, "OCSP:          %s (reason %s)\n", strings.ToLower(oc.Status), oc.Reason)
		}
	}
	for _, al := range r.AlertsReceived {
		fmt.Fprintf(w, "alert received: %s %s\n", strings.ToLower(strings.TrimPrefix(al.Level, "AlertLevel")), al.words())
	}
	if r.Received != "" {
		fmt.Fprintf(w, "received:      %q\n", r.Received)
	}
	if r.ECH != nil && r.ECH.RetryConfigList != "" {
		fmt.Fprintf(w, "ECH rejected; the server's retry configuration list (authenticated for %s):\n  --ech-config %s\n", r.ECH.PublicName, r.ECH.RetryConfigList)
	}
	if r.Encrypted { // not encrypted: the verdict goes to standard error (finishFailed)
		fmt.Fprintf(w, "verdict: %s\n", r.Verdict)
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// alpnWords says what ALPN came to, in words, with Qt's name beside.
func alpnWords(a jsonALPN) string {
	switch a.Status {
	case ssl.NextProtocolNegotiationNegotiated.String():
		return a.Protocol
	case ssl.NextProtocolNegotiationUnsupported.String():
		return fmt.Sprintf("no protocol in common (%s; Qt then assumes %s)", a.Status, a.Protocol)
	}
	return fmt.Sprintf("none (%s)", a.Status)
}

// jsonError is one verification problem in --json output.
type jsonError struct {
	Code        string  `json:"code"`
	Certificate *string `json:"certificate"`
	Message     string  `json:"message"`
}

// toJSONErrors describes errs; a HostNameMismatch names the host expected.
func toJSONErrors(errs []ssl.Error, host string) []jsonError {
	out := make([]jsonError, 0, len(errs))
	for _, e := range errs {
		je := jsonError{Code: e.Code.String(), Message: problemText(e, host)}
		if !e.Certificate.IsNull() {
			s := e.Certificate.SHA256()
			je.Certificate = &s
		}
		out = append(out, je)
	}
	return out
}

// problemText is Qt's message, with the expected host for a name mismatch.
func problemText(e ssl.Error, host string) string {
	if e.Code == ssl.HostNameMismatch && host != "" {
		return fmt.Sprintf("%s (expected %q)", e.Error(), host)
	}
	return e.Error()
}

// jsonCert is one certificate in --json output.
type jsonCert struct {
	Subject   string   `json:"subject"`
	Issuer    string   `json:"issuer"`
	Serial    string   `json:"serial"`
	SHA256    string   `json:"sha256"`
	NotBefore string   `json:"notBefore"`
	NotAfter  string   `json:"notAfter"`
	Names     []string `json:"names"`
	PEM       string   `json:"pem,omitempty"`
}

func toJSONChain(chain []ssl.Certificate, pem bool) []jsonCert {
	out := make([]jsonCert, 0, len(chain))
	for _, c := range chain {
		jc := jsonCert{c.Subject(), c.Issuer(), c.SerialNumber(), c.SHA256(),
			c.EffectiveDate().Format("2006-01-02T15:04:05Z"), c.ExpiryDate().Format("2006-01-02T15:04:05Z"), altNames(c), ""}
		if pem {
			jc.PEM = string(c.ToPem())
		}
		out = append(out, jc)
	}
	return out
}

// altNames lists the subject alternative names as DNS:…, IP:…, email:….
func altNames(c ssl.Certificate) []string {
	names := []string{}
	for _, n := range c.SubjectAlternativeNames() {
		prefix := map[ssl.AlternativeNameEntryType]string{ssl.DnsEntry: "DNS:", ssl.IpAddressEntry: "IP:", ssl.EmailEntry: "email:"}[n.Type]
		names = append(names, prefix+n.Value)
	}
	return names
}

// printChain prints a chain with full fingerprints (the form --ignore
// takes) and, with pem, each certificate as PEM.
func printChain(w io.Writer, chain []ssl.Certificate, pem bool) {
	if len(chain) == 0 {
		return
	}
	fmt.Fprintf(w, "certificate chain (%d):\n", len(chain))
	for i, c := range chain {
		fmt.Fprintf(w, "  [%d] subject %s\n      issuer  %s\n      valid   %s to %s\n", i, c.Subject(), c.Issuer(),
			c.EffectiveDate().UTC().Format("2006-01-02 15:04 MST"), c.ExpiryDate().UTC().Format("2006-01-02 15:04 MST"))
		if names := altNames(c); len(names) > 0 {
			fmt.Fprintf(w, "      names   %s\n", strings.Join(names, ", "))
		}
		fmt.Fprintf(w, "      sha256  %s\n", c.SHA256())
		if pem {
			fmt.Fprintf(w, "%s", c.ToPem())
		}
	}
}

// printProblems lists certificate problems, each with the certificate it
// concerns, and the --ignore flags that would accept exactly these.
func printProblems(w io.Writer, errs []ssl.Error, chain []ssl.Certificate, host string) {
	if len(errs) == 0 {
		return
	}
	fmt.Fprintf(w, "certificate problems (%d):\n", len(errs))
	var flags []string
	for _, e := range errs {
		fmt.Fprintf(w, "  %s: %s (%s)\n", e.Code.String(), problemText(e, host), whichCert(e.Certificate, chain))
		if e.Certificate.IsNull() {
			flags = append(flags, "--ignore "+e.Code.String())
		} else {
			flags = append(flags, "--ignore "+e.Code.String()+"@"+e.Certificate.SHA256())
		}
	}
	fmt.Fprintf(w, "to accept exactly these: %s\n", strings.Join(flags, " "))
}

// whichCert names a certificate by its place in the chain.
func whichCert(c ssl.Certificate, chain []ssl.Certificate) string {
	if c.IsNull() {
		return "no certificate"
	}
	for i, x := range chain {
		if x.Equal(c) {
			return fmt.Sprintf("certificate [%d] %s", i, c.SubjectDisplayName())
		}
	}
	return "certificate " + c.SubjectDisplayName() + " sha256 " + c.SHA256()
}
