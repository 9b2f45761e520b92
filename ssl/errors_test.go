package ssl

import (
	"errors"
	"strings"
	"testing"

	"github.com/sslsocket/sslsocket/internal/pki"
)

func TestErrorCodes(t *testing.T) {
	codes := AllErrorCodes()
	if len(codes) != 38 {
		t.Fatalf("%d codes, want 38 (UnspecifiedError..OcspStatusUnknown)", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		msg := c.Message()
		if c != NoError && msg == "No error" {
			t.Errorf("%v: message must differ from \"No error\"", c)
		}
		if seen[msg] && c != CertificateStatusUnknown {
			t.Errorf("%v: duplicate message %q", c, msg)
		}
		seen[msg] = true
		back, err := ParseErrorCode(c.String())
		if err != nil || back != c {
			t.Errorf("ParseErrorCode(%q) = %v, %v", c.String(), back, err)
		}
	}
	if NoError.Message() != "No error" {
		t.Error("NoError message")
	}
	if OcspSigRequred.String() != "OcspSigRequred" || int(OcspSigRequred) != 31 || int(HostNameMismatch) != 22 {
		t.Error("Qt's names and values must be kept")
	}
}

func TestErrorEquality(t *testing.T) {
	a := certOf(pki.MustSelfSigned(pki.Spec{CommonName: "a"}))
	b := certOf(pki.MustSelfSigned(pki.Spec{CommonName: "b"}))
	tests := []struct {
		x, y Error
		want bool
	}{
		{Error{}, Error{}, true},
		{NewError(SelfSignedCertificate, Certificate{}), NewError(SelfSignedCertificate, a), false},
		{NewError(SelfSignedCertificate, a), NewError(SelfSignedCertificate, a), true},
		{NewError(SelfSignedCertificate, a), NewError(SelfSignedCertificate, b), false},
		{NewError(SelfSignedCertificate, a), NewError(CertificateExpired, a), false},
	}
	for i, tc := range tests {
		if got := tc.x.Equal(tc.y); got != tc.want {
			t.Errorf("%d: Equal = %v, want %v", i, got, tc.want)
		}
	}
	ve := &VerificationError{Errors: []Error{NewError(HostNameMismatch, a), NewError(CertificateExpired, a)}}
	if !errors.Is(ve, CertificateExpired) || !errors.Is(ve, NewError(HostNameMismatch, a)) || errors.Is(ve, SelfSignedCertificate) {
		t.Error("errors.Is over VerificationError")
	}
	if msg := ve.Error(); !strings.Contains(msg, HostNameMismatch.Message()) || !strings.Contains(msg, CertificateExpired.Message()) {
		t.Errorf("VerificationError.Error() = %q, want every error named", msg)
	}
	var target Error
	if !errors.As(ve, &target) || target.Code != HostNameMismatch {
		t.Error("errors.As should find the first Error")
	}
	if !ContainsError(ve.Errors, NewError(CertificateExpired, a)) || ContainsError(ve.Errors, NewError(CertificateExpired, b)) {
		t.Error("ContainsError")
	}
}
