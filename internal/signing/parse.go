package signing

import (
	"encoding/json"
	"errors"
	"fmt"

	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
)

// Envelope is a DSSE envelope as cosign stores it in a .att layer.
type Envelope struct {
	PayloadType string `json:"payloadType"`
	Payload     []byte `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   []byte `json:"sig"`
	} `json:"signatures"`
}

// ParseEnvelope decodes and checks a DSSE envelope (no signature check).
func ParseEnvelope(b []byte) (*Envelope, error) {
	if len(b) > MaxBlobSize {
		return nil, fmt.Errorf("DSSE envelope: larger than %d bytes", MaxBlobSize)
	}
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("DSSE envelope: %w", err)
	}
	if e.PayloadType == "" {
		return nil, errors.New("DSSE envelope: no payloadType")
	}
	if len(e.Signatures) == 0 {
		return nil, errors.New("DSSE envelope: no signatures")
	}
	if len(e.Signatures) > MaxSignatures {
		return nil, fmt.Errorf("DSSE envelope: %d signatures, more than %d", len(e.Signatures), MaxSignatures)
	}
	return &e, nil
}

// ParseBundle decodes and validates a Sigstore bundle (v0.1 to v0.3 JSON).
func ParseBundle(b []byte) (*sgbundle.Bundle, error) {
	if len(b) > MaxBlobSize {
		return nil, fmt.Errorf("bundle: larger than %d bytes", MaxBlobSize)
	}
	var bun sgbundle.Bundle
	if err := bun.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return &bun, nil
}
