package ssl

// AlertLevel is QSsl::AlertLevel: the level of a TLS alert sent or received.
type AlertLevel int

// AlertLevel values.
const (
	AlertLevelWarning AlertLevel = 0
	AlertLevelFatal   AlertLevel = 1
	AlertLevelUnknown AlertLevel = 2
)

var alertLevelNames = newEnumTable("AlertLevel", map[AlertLevel]string{
	AlertLevelWarning: "Warning", AlertLevelFatal: "Fatal", AlertLevelUnknown: "Unknown",
})

// AlertType is QSsl::AlertType: the alert description code of RFC 8446 §6.
// Codes outside the enumeration are reported as they arrive (code & 0xff), as in Qt.
type AlertType int

// AlertType values (the wire codes).
const (
	AlertCloseNotify                  AlertType = 0
	AlertUnexpectedMessage            AlertType = 10
	AlertBadRecordMac                 AlertType = 20
	AlertRecordOverflow               AlertType = 22
	AlertDecompressionFailure         AlertType = 30
	AlertHandshakeFailure             AlertType = 40
	AlertNoCertificate                AlertType = 41
	AlertBadCertificate               AlertType = 42
	AlertUnsupportedCertificate       AlertType = 43
	AlertCertificateRevoked           AlertType = 44
	AlertCertificateExpired           AlertType = 45
	AlertCertificateUnknown           AlertType = 46
	AlertIllegalParameter             AlertType = 47
	AlertUnknownCa                    AlertType = 48
	AlertAccessDenied                 AlertType = 49
	AlertDecodeError                  AlertType = 50
	AlertDecryptError                 AlertType = 51
	AlertExportRestriction            AlertType = 60
	AlertProtocolVersion              AlertType = 70
	AlertInsufficientSecurity         AlertType = 71
	AlertInternalError                AlertType = 80
	AlertInappropriateFallback        AlertType = 86
	AlertUserCancelled                AlertType = 90
	AlertNoRenegotiation              AlertType = 100
	AlertMissingExtension             AlertType = 109
	AlertUnsupportedExtension         AlertType = 110
	AlertCertificateUnobtainable      AlertType = 111
	AlertUnrecognizedName             AlertType = 112
	AlertBadCertificateStatusResponse AlertType = 113
	AlertBadCertificateHashValue      AlertType = 114
	AlertUnknownPskIdentity           AlertType = 115
	AlertCertificateRequired          AlertType = 116
	AlertNoApplicationProtocol        AlertType = 120
	AlertEchRequired                  AlertType = 121 // beyond Qt 6.4: RFC 9849's ech_required
	AlertUnknownAlertMessage          AlertType = 255
)

var alertTypeNames = newEnumTable("AlertType", map[AlertType]string{
	AlertCloseNotify: "CloseNotify", AlertUnexpectedMessage: "UnexpectedMessage", AlertBadRecordMac: "BadRecordMac",
	AlertRecordOverflow: "RecordOverflow", AlertDecompressionFailure: "DecompressionFailure",
	AlertHandshakeFailure: "HandshakeFailure", AlertNoCertificate: "NoCertificate", AlertBadCertificate: "BadCertificate",
	AlertUnsupportedCertificate: "UnsupportedCertificate", AlertCertificateRevoked: "CertificateRevoked",
	AlertCertificateExpired: "CertificateExpired", AlertCertificateUnknown: "CertificateUnknown",
	AlertIllegalParameter: "IllegalParameter", AlertUnknownCa: "UnknownCa", AlertAccessDenied: "AccessDenied",
	AlertDecodeError: "DecodeError", AlertDecryptError: "DecryptError", AlertExportRestriction: "ExportRestriction",
	AlertProtocolVersion: "ProtocolVersion", AlertInsufficientSecurity: "InsufficientSecurity",
	AlertInternalError: "InternalError", AlertInappropriateFallback: "InappropriateFallback",
	AlertUserCancelled: "UserCancelled", AlertNoRenegotiation: "NoRenegotiation",
	AlertMissingExtension: "MissingExtension", AlertUnsupportedExtension: "UnsupportedExtension",
	AlertCertificateUnobtainable: "CertificateUnobtainable", AlertUnrecognizedName: "UnrecognizedName",
	AlertBadCertificateStatusResponse: "BadCertificateStatusResponse",
	AlertBadCertificateHashValue:      "BadCertificateHashValue", AlertUnknownPskIdentity: "UnknownPskIdentity",
	AlertCertificateRequired: "CertificateRequired", AlertNoApplicationProtocol: "NoApplicationProtocol",
	AlertEchRequired:         "EchRequired",
	AlertUnknownAlertMessage: "UnknownAlertMessage",
})
