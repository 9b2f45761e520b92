package ssl

// OcspCertificateStatus is QOcspCertificateStatus: the status an OCSP response gives a certificate.
type OcspCertificateStatus int

// OcspCertificateStatus values.
const (
	OcspGood    OcspCertificateStatus = 0
	OcspRevoked OcspCertificateStatus = 1
	OcspUnknown OcspCertificateStatus = 2
)

var ocspCertificateStatusNames = newEnumTable("OcspCertificateStatus", map[OcspCertificateStatus]string{
	OcspGood: "Good", OcspRevoked: "Revoked", OcspUnknown: "Unknown",
})

// OcspRevocationReason is QOcspRevocationReason: why a certificate was revoked (RFC 5280 CRLReason).
type OcspRevocationReason int

// OcspRevocationReason values.
const (
	OcspReasonNone                 OcspRevocationReason = -1
	OcspReasonUnspecified          OcspRevocationReason = 0
	OcspReasonKeyCompromise        OcspRevocationReason = 1
	OcspReasonCACompromise         OcspRevocationReason = 2
	OcspReasonAffiliationChanged   OcspRevocationReason = 3
	OcspReasonSuperseded           OcspRevocationReason = 4
	OcspReasonCessationOfOperation OcspRevocationReason = 5
	OcspReasonCertificateHold      OcspRevocationReason = 6
	OcspReasonRemoveFromCRL        OcspRevocationReason = 7
)

var ocspRevocationReasonNames = newEnumTable("OcspRevocationReason", map[OcspRevocationReason]string{
	OcspReasonNone: "None", OcspReasonUnspecified: "Unspecified", OcspReasonKeyCompromise: "KeyCompromise",
	OcspReasonCACompromise: "CACompromise", OcspReasonAffiliationChanged: "AffiliationChanged",
	OcspReasonSuperseded: "Superseded", OcspReasonCessationOfOperation: "CessationOfOperation",
	OcspReasonCertificateHold: "CertificateHold", OcspReasonRemoveFromCRL: "RemoveFromCRL",
})
