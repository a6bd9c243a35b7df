package signing

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// In-toto and cosign type URIs.
const (
	// InTotoPayloadType is the DSSE payload type of in-toto statements.
	InTotoPayloadType = "application/vnd.in-toto+json"
	// StatementV01 is the statement type cosign attest writes.
	StatementV01 = "https://in-toto.io/Statement/v0.1"
	// StatementV1 is the current statement type (cosign v3 sign bundles).
	StatementV1 = "https://in-toto.io/Statement/v1"
	// SignPredicateType is the predicate of cosign v3 signature bundles.
	SignPredicateType = "https://sigstore.dev/cosign/sign/v1"
)

// predicateTypes maps cosign's --type short names to predicate type URIs.
var predicateTypes = map[string]string{
	"custom":           "https://cosign.sigstore.dev/attestation/v1",
	"slsaprovenance":   "https://slsa.dev/provenance/v0.2",
	"slsaprovenance02": "https://slsa.dev/provenance/v0.2",
	"slsaprovenance1":  "https://slsa.dev/provenance/v1",
	"link":             "https://in-toto.io/Link/v1",
	"spdx":             "https://spdx.dev/Document",
	"spdxjson":         "https://spdx.dev/Document",
	"cyclonedx":        "https://cyclonedx.org/bom",
	"vuln":             "https://cosign.sigstore.dev/attestation/vuln/v1",
	"openvex":          "https://openvex.dev/ns",
}

// PredicateType maps a cosign --type value (cyclonedx, spdx, slsaprovenance,
// vuln, openvex, ...) or a URI to the predicate type URI.
func PredicateType(t string) (string, error) {
	if u, ok := predicateTypes[strings.ToLower(t)]; ok {
		return u, nil
	}
	if strings.Contains(t, "://") {
		return t, nil
	}
	return "", fmt.Errorf("predicate type %q: not a known type (cyclonedx, spdx, spdxjson, slsaprovenance, slsaprovenance1, link, vuln, openvex, custom) nor a URI", t)
}

// Subject is an in-toto statement subject.
type Subject struct {
	Name        string            `json:"name,omitempty"`
	Digest      map[string]string `json:"digest"`
	Annotations map[string]any    `json:"annotations,omitempty"`
}

// Statement is an in-toto statement (v0.1 or v1).
type Statement struct {
	Type          string          `json:"_type"`
	Subject       []Subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

// ParseStatement decodes and checks an in-toto statement.
func ParseStatement(b []byte) (*Statement, error) {
	var s Statement
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("in-toto statement: %w", err)
	}
	if s.Type != StatementV01 && s.Type != StatementV1 {
		return nil, fmt.Errorf("in-toto statement: _type %q is not an in-toto statement", s.Type)
	}
	if s.PredicateType == "" {
		return nil, errors.New("in-toto statement: no predicateType")
	}
	if len(s.Subject) == 0 {
		return nil, errors.New("in-toto statement: no subject")
	}
	return &s, nil
}

// coversDigest reports whether a subject names digest ("sha256:hex").
func (s *Statement) coversDigest(digest string) bool {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok {
		return false
	}
	for _, sub := range s.Subject {
		if sub.Digest[alg] == hex {
			return true
		}
	}
	return false
}

// newStatement builds the statement cosign writes for an image digest.
func newStatement(typ string, d name.Digest, predicateType string, predicate []byte, annotations map[string]string) ([]byte, error) {
	alg, hex, _ := strings.Cut(d.DigestStr(), ":")
	sub := Subject{Digest: map[string]string{alg: hex}}
	if typ == StatementV01 {
		sub.Name = d.Context().Name()
	}
	if len(annotations) > 0 {
		sub.Annotations = map[string]any{}
		for k, v := range annotations {
			sub.Annotations[k] = v
		}
	}
	if !json.Valid(predicate) {
		return nil, errors.New("predicate is not valid JSON")
	}
	return json.Marshal(Statement{Type: typ, Subject: []Subject{sub}, PredicateType: predicateType, Predicate: predicate})
}
