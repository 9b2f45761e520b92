package ssl

import (
	"encoding/json"
	"testing"
)

// TestEnumValues pins Qt 6's numeric values and names.
func TestEnumValues(t *testing.T) {
	tests := []struct {
		got  int
		name string
		want int
		str  string
	}{
		{int(SecureProtocols), SecureProtocols.String(), 4, "SecureProtocols"},
		{int(TlsV1_3OrLater), TlsV1_3OrLater.String(), 13, "TlsV1_3OrLater"},
		{int(UnknownProtocol), UnknownProtocol.String(), -1, "UnknownProtocol"},
		{int(AutoVerifyPeer), AutoVerifyPeer.String(), 3, "AutoVerifyPeer"},
		{int(SslServerMode), SslServerMode.String(), 2, "SslServerMode"},
		{int(ClosingState), ClosingState.String(), 6, "ClosingState"},
		{int(SslInvalidUserDataError), SslInvalidUserDataError.String(), 21, "SslInvalidUserDataError"},
		{int(AlertBadRecordMac), AlertBadRecordMac.String(), 20, "BadRecordMac"},
		{int(AlertLevelFatal), AlertLevelFatal.String(), 1, "Fatal"},
		{int(FeatureAlerts), FeatureAlerts.String(), 6, "Alerts"},
		{int(ClassDtlsCookie), ClassDtlsCookie.String(), 6, "DtlsCookie"},
		{int(Dh), Dh.String(), 4, "Dh"},
		{int(IpAddressEntry), IpAddressEntry.String(), 2, "IpAddressEntry"},
		{int(OcspReasonNone), OcspReasonNone.String(), -1, "None"},
		{int(OcspUnknown), OcspUnknown.String(), 2, "Unknown"},
		{int(DefaultSslOptions), DefaultSslOptions.String(), 0x55, "SslOptionDisableEmptyFragments|SslOptionDisableCompression|SslOptionDisableLegacyRenegotiation|SslOptionDisableSessionPersistence"},
		{int(PauseOnSslErrors), PauseOnSslErrors.String(), 1, "PauseOnSslErrors"},
		{int(EmailAddress), EmailAddress.String(), 8, "EmailAddress"},
		{int(FixedString), FixedString.String(), 2, "FixedString"},
	}
	for _, tc := range tests {
		if tc.got != tc.want || tc.name != tc.str {
			t.Errorf("%s = %d, want %s = %d", tc.name, tc.got, tc.str, tc.want)
		}
	}
	if Protocol(99).String() != "Protocol(99)" {
		t.Errorf("unknown value: %q", Protocol(99).String())
	}
}

func TestEnumParse(t *testing.T) {
	for p := UnknownProtocol; p <= TlsV1_3OrLater; p++ {
		back, err := ParseProtocol(p.String())
		if err != nil || back != p {
			t.Errorf("ParseProtocol(%q) = %v, %v", p, back, err)
		}
	}
	if _, err := ParseProtocol("TlsV9"); err == nil {
		t.Error("unknown name accepted")
	}
	if p, err := ParseProtocol("12"); err != nil || p != TlsV1_3 {
		t.Errorf("numeric parse: %v %v", p, err)
	}
	if _, err := ParseProtocol("77"); err == nil {
		t.Error("undefined numeric value accepted")
	}
	opts, err := ParseSslOption("SslOptionDisableSessionTickets | SslOptionDisableCompression")
	if err != nil || opts != SslOptionDisableSessionTickets|SslOptionDisableCompression {
		t.Errorf("flags: %v %v", opts, err)
	}
	if PauseNever.String() != "PauseNever" || SslOption(0).String() != "0" {
		t.Error("zero flags")
	}
	// JSON uses the names.
	b, _ := json.Marshal(struct {
		P Protocol
		E ErrorCode
	}{TlsV1_2, HostNameMismatch})
	if string(b) != `{"P":"TlsV1_2","E":"HostNameMismatch"}` {
		t.Errorf("json: %s", b)
	}
	var back struct{ P Protocol }
	if err := json.Unmarshal([]byte(`{"P":"TlsV1_3"}`), &back); err != nil || back.P != TlsV1_3 {
		t.Errorf("json decode: %v %v", back, err)
	}
}

func TestProtocolVersionRange(t *testing.T) {
	for _, p := range []Protocol{DtlsV1_0, DtlsV1_2OrLater, UnknownProtocol} {
		if _, _, ok := p.VersionRange(); ok {
			t.Errorf("%v must not map to TLS versions", p)
		}
		if p != UnknownProtocol && !p.IsDtls() {
			t.Errorf("%v.IsDtls", p)
		}
	}
	if lo, hi, ok := SecureProtocols.VersionRange(); !ok || lo != 0x0303 || hi != 0 {
		t.Error("SecureProtocols is TLS 1.2 and later")
	}
	if ProtocolFromVersion(0x0304) != TlsV1_3 || ProtocolFromVersion(0x0300) != UnknownProtocol {
		t.Error("ProtocolFromVersion")
	}
}
