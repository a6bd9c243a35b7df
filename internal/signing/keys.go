package signing

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
	"golang.org/x/crypto/scrypt"
)

// PEM block types of cosign's key files.
const (
	// SigstorePrivateKeyType is what cosign (and Ward) write today.
	SigstorePrivateKeyType = "ENCRYPTED SIGSTORE PRIVATE KEY"
	// CosignPrivateKeyType is what older cosign releases wrote; still read.
	CosignPrivateKeyType = "ENCRYPTED COSIGN PRIVATE KEY"
	publicKeyType        = "PUBLIC KEY"
)

// MaxKeyFileSize bounds a key file read.
const MaxKeyFileSize = 64 << 10

// ErrWrongPassword is returned when a private key does not decrypt.
var ErrWrongPassword = errors.New("decryption failed: wrong password or corrupt key")

// scrypt parameters cosign's key format accepts (go-securesystemslib's
// encrypted package: legacy, standard, OWASP). Ward writes standard, as
// cosign does.
var scryptParamSets = []scryptParams{{N: 1 << 15, R: 8, P: 1}, {N: 1 << 16, R: 8, P: 1}, {N: 1 << 17, R: 8, P: 1}}

type scryptParams struct {
	N int `json:"N"`
	R int `json:"r"`
	P int `json:"p"`
}

// encryptedKey is the JSON inside an encrypted PEM block.
type encryptedKey struct {
	KDF struct {
		Name   string       `json:"name"`
		Params scryptParams `json:"params"`
		Salt   []byte       `json:"salt"`
	} `json:"kdf"`
	Cipher struct {
		Name  string `json:"name"`
		Nonce []byte `json:"nonce"`
	} `json:"cipher"`
	Ciphertext []byte `json:"ciphertext"`
}

// KeyPair is a generated key pair in cosign's file formats.
type KeyPair struct {
	// PrivatePEM is the encrypted private key (cosign.key).
	PrivatePEM []byte
	// PublicPEM is the PKIX public key (cosign.pub).
	PublicPEM []byte
}

// GenerateKeyPair makes an ECDSA P-256 key pair, the private key encrypted
// with password (scrypt N=2^16 + nacl/secretbox over PKCS#8), readable by
// cosign.
func GenerateKeyPair(password []byte) (*KeyPair, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	privPEM, err := EncryptPrivateKey(priv, password)
	if err != nil {
		return nil, err
	}
	pubPEM, err := MarshalPublicKey(priv.Public())
	if err != nil {
		return nil, err
	}
	return &KeyPair{PrivatePEM: privPEM, PublicPEM: pubPEM}, nil
}

// EncryptPrivateKey encodes a private key in cosign's encrypted PEM format.
func EncryptPrivateKey(priv crypto.Signer, password []byte) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	var ek encryptedKey
	ek.KDF.Name = "scrypt"
	ek.KDF.Params = scryptParamSets[1]
	ek.KDF.Salt = make([]byte, 32)
	ek.Cipher.Name = "nacl/secretbox"
	ek.Cipher.Nonce = make([]byte, 24)
	if _, err := rand.Read(ek.KDF.Salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(ek.Cipher.Nonce); err != nil {
		return nil, err
	}
	key, err := scrypt.Key(password, ek.KDF.Salt, ek.KDF.Params.N, ek.KDF.Params.R, ek.KDF.Params.P, 32)
	if err != nil {
		return nil, fmt.Errorf("derive key: %w", err)
	}
	var k [32]byte
	var n [24]byte
	copy(k[:], key)
	copy(n[:], ek.Cipher.Nonce)
	ek.Ciphertext = secretbox.Seal(nil, der, &n, &k)
	body, err := json.Marshal(ek)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: SigstorePrivateKeyType, Bytes: body}), nil
}

// DecryptPrivateKey reads a cosign encrypted private key (either PEM type).
func DecryptPrivateKey(data, password []byte) (crypto.Signer, error) {
	if len(data) > MaxKeyFileSize {
		return nil, fmt.Errorf("private key: larger than %d bytes", MaxKeyFileSize)
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, errors.New("private key: no PEM block")
	}
	if blk.Type != SigstorePrivateKeyType && blk.Type != CosignPrivateKeyType {
		return nil, fmt.Errorf("private key: PEM type %q, want %q or %q", blk.Type, SigstorePrivateKeyType, CosignPrivateKeyType)
	}
	var ek encryptedKey
	if err := json.Unmarshal(blk.Bytes, &ek); err != nil {
		return nil, fmt.Errorf("private key: encrypted envelope: %w", err)
	}
	if ek.KDF.Name != "scrypt" {
		return nil, fmt.Errorf("private key: unsupported KDF %q", ek.KDF.Name)
	}
	if ek.Cipher.Name != "nacl/secretbox" {
		return nil, fmt.Errorf("private key: unsupported cipher %q", ek.Cipher.Name)
	}
	known := false
	for _, p := range scryptParamSets {
		known = known || p == ek.KDF.Params
	}
	if !known {
		// Bounded work and memory: only the three parameter sets cosign writes.
		return nil, fmt.Errorf("private key: unsupported scrypt parameters N=%d r=%d p=%d", ek.KDF.Params.N, ek.KDF.Params.R, ek.KDF.Params.P)
	}
	if len(ek.Cipher.Nonce) != 24 {
		return nil, fmt.Errorf("private key: nonce is %d bytes, want 24", len(ek.Cipher.Nonce))
	}
	key, err := scrypt.Key(password, ek.KDF.Salt, ek.KDF.Params.N, ek.KDF.Params.R, ek.KDF.Params.P, 32)
	if err != nil {
		return nil, fmt.Errorf("private key: derive key: %w", err)
	}
	var k [32]byte
	var n [24]byte
	copy(k[:], key)
	copy(n[:], ek.Cipher.Nonce)
	der, ok := secretbox.Open(nil, ek.Ciphertext, &n, &k)
	if !ok {
		return nil, fmt.Errorf("private key: %w", ErrWrongPassword)
	}
	pk, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("private key: PKCS#8: %w", err)
	}
	s, ok := pk.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private key: %T cannot sign", pk)
	}
	switch s.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
	default:
		return nil, fmt.Errorf("private key: unsupported key type %T", s)
	}
	return s, nil
}

// MarshalPublicKey encodes a public key as a PKIX "PUBLIC KEY" PEM block.
func MarshalPublicKey(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: publicKeyType, Bytes: der}), nil
}

// ParsePublicKey reads a PKIX "PUBLIC KEY" PEM block (cosign.pub) or, as
// cosign accepts, a certificate whose key is used.
func ParsePublicKey(data []byte) (crypto.PublicKey, error) {
	if len(data) > MaxKeyFileSize {
		return nil, fmt.Errorf("public key: larger than %d bytes", MaxKeyFileSize)
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, errors.New("public key: no PEM block")
	}
	var pub crypto.PublicKey
	switch blk.Type {
	case publicKeyType:
		p, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: %w", err)
		}
		pub = p
	case "CERTIFICATE":
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key: certificate: %w", err)
		}
		pub = c.PublicKey
	default:
		return nil, fmt.Errorf("public key: PEM type %q, want %q", blk.Type, publicKeyType)
	}
	switch pub.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
		return pub, nil
	}
	return nil, fmt.Errorf("public key: unsupported key type %T", pub)
}

// KeyID is a short stable name of a public key: "sha256:" + the first 16
// hex digits of the SHA-256 of its PKIX DER encoding.
func KeyID(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "unknown"
	}
	sum := sha256.Sum256(der)
	return fmt.Sprintf("sha256:%x", sum[:8])
}

// keyHint is the bundle's publicKey hint: base64 of the SHA-256 of the PKIX
// DER, as sigstore clients write it.
func keyHint(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:])
}
