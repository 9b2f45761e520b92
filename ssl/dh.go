package ssl

import (
	"bytes"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
)

// DHError is QSslDiffieHellmanParameters::Error.
type DHError int

// DHError values.
const (
	DHNoError               DHError = 0
	DHInvalidInputDataError DHError = 1
	DHUnsafeParametersError DHError = 2
)

var dhErrorNames = newEnumTable("DHError", map[DHError]string{
	DHNoError: "NoError", DHInvalidInputDataError: "InvalidInputDataError", DHUnsafeParametersError: "UnsafeParametersError",
})

// DiffieHellmanParameters is QSslDiffieHellmanParameters: finite-field DH
// group parameters for servers offering DHE suites. They are parsed and
// checked here; only the openssl backend can use them (crypto/tls has no DHE).
// The zero value is empty.
type DiffieHellmanParameters struct {
	der []byte
	err DHError
}

// dhParams is PKCS#3 DHParameter.
type dhParams struct {
	P, G               *big.Int
	PrivateValueLength int `asn1:"optional"`
}

// rfc3526Group14 is the 2048-bit MODP group of RFC 3526 §3, generator 2.
const rfc3526Group14 = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF"

// DefaultDiffieHellmanParameters returns the RFC 3526 2048-bit MODP group,
// Qt's default.
func DefaultDiffieHellmanParameters() DiffieHellmanParameters {
	p, _ := new(big.Int).SetString(rfc3526Group14, 16)
	der, _ := asn1.Marshal(dhParams{P: p, G: big.NewInt(2)})
	return DiffieHellmanParameters{der: der}
}

// maxDHBits bounds the modulus a parser will run primality tests on.
const maxDHBits = 10000

// ParseDiffieHellmanParameters decodes PKCS#3 parameters ("DH PARAMETERS"
// PEM, or DER) and checks them, as QSslDiffieHellmanParameters::fromEncoded
// does: the result always comes back; IsValid and Error say whether it can be
// used. Undecodable input gives InvalidInputDataError; a modulus that is not a
// safe prime of 512 to 10,000 bits, or a generator outside [2, p-2], gives
// UnsafeParametersError.
func ParseDiffieHellmanParameters(data []byte, format EncodingFormat) DiffieHellmanParameters {
	der := data
	if format == Pem {
		der = nil
		rest := data
		for {
			var block *pem.Block
			block, rest = pem.Decode(rest)
			if block == nil {
				break
			}
			if block.Type == "DH PARAMETERS" {
				der = block.Bytes
				break
			}
		}
	}
	var params dhParams
	rest, err := asn1.Unmarshal(der, &params)
	if der == nil || err != nil || len(rest) > 0 || params.P == nil || params.G == nil {
		return DiffieHellmanParameters{err: DHInvalidInputDataError}
	}
	out := DiffieHellmanParameters{der: bytes.Clone(der)}
	if !safeDHGroup(params.P, params.G) {
		out.err = DHUnsafeParametersError
	}
	return out
}

func safeDHGroup(p, g *big.Int) bool {
	bits := p.BitLen()
	if p.Sign() <= 0 || bits < 512 || bits > maxDHBits {
		return false
	}
	pm2 := new(big.Int).Sub(p, big.NewInt(2))
	if g.Cmp(big.NewInt(2)) < 0 || g.Cmp(pm2) > 0 {
		return false
	}
	if !p.ProbablyPrime(20) {
		return false
	}
	q := new(big.Int).Rsh(p, 1)
	return q.ProbablyPrime(20)
}

// IsEmpty reports whether the parameters hold no data (the zero value, or
// undecodable input).
func (d DiffieHellmanParameters) IsEmpty() bool { return len(d.der) == 0 && d.err == DHNoError }

// IsValid reports whether the parameters decoded and passed the safety checks.
func (d DiffieHellmanParameters) IsValid() bool { return d.err == DHNoError }

// Error returns why the parameters are unusable (DHNoError when they are fine).
func (d DiffieHellmanParameters) Error() DHError { return d.err }

// ErrorString returns Qt's text for Error().
func (d DiffieHellmanParameters) ErrorString() string {
	switch d.err {
	case DHInvalidInputDataError:
		return "Invalid input data"
	case DHUnsafeParametersError:
		return "The given Diffie-Hellman parameters are deemed unsafe"
	}
	return "No error"
}

// ToDer returns the PKCS#3 DER encoding.
func (d DiffieHellmanParameters) ToDer() []byte { return bytes.Clone(d.der) }

// ToPem returns the "DH PARAMETERS" PEM encoding.
func (d DiffieHellmanParameters) ToPem() []byte {
	if len(d.der) == 0 {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "DH PARAMETERS", Bytes: d.der})
}

// Equal compares the encoded parameters, as Qt does.
func (d DiffieHellmanParameters) Equal(o DiffieHellmanParameters) bool {
	return bytes.Equal(d.der, o.der) && d.err == o.err
}
