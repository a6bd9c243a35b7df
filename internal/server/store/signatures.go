package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Signature states of an image digest (ImageSignature.State).
const (
	// SignatureVerified: a signature verified against a key or identity
	// the server trusts (Signer names it).
	SignatureVerified = "verified"
	// SignatureUnverified: the registry holds signatures but the server
	// has no trusted key or identity to check them against.
	SignatureUnverified = "signed"
	// SignatureInvalid: signatures exist and none verified against the
	// server's trust (wrong key, tampered payload, other digest).
	SignatureInvalid = "invalid"
	// SignatureUnsigned: the registry holds no signature for the digest.
	SignatureUnsigned = "unsigned"
	// SignatureError: the check could not run (registry unreachable, the
	// digest not in the registry, not a registry image); Detail says why.
	SignatureError = "error"
)

var signatureStates = []string{SignatureVerified, SignatureUnverified, SignatureInvalid, SignatureUnsigned, SignatureError}

// Bounds of the stored text of a signature check.
const (
	maxSignatureText = 1024
	// MaxSignatureChecks bounds one SignaturesDue answer.
	MaxSignatureChecks = 500
)

// ImageSignature is the cosign signature state of one image digest, as
// the server last checked it. An image never checked has none (the
// dashboard shows "not checked").
type ImageSignature struct {
	Digest string `json:"digest"`
	State  string `json:"state"`
	// Signer is who signed the verified signature: "key sha256:…" or a
	// certificate identity and issuer.
	Signer string `json:"signer,omitempty"`
	// Detail is why a check failed or a signature was refused, or how
	// many signatures were found unverified.
	Detail string `json:"detail,omitempty"`
	// Ref is the reference checked (repository@digest).
	Ref       string    `json:"ref"`
	CheckedAt time.Time `json:"checked_at"`
}

// clip makes s valid UTF-8 and bounds it to n bytes on a rune boundary.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// SetImageSignature records the result of checking one digest's
// signatures, replacing the previous one. CheckedAt zero means now.
func (s *Store) SetImageSignature(ctx context.Context, sig ImageSignature) error {
	if !validDigest(sig.Digest) {
		return invalidf("signature: digest %q: want ALGORITHM:HEX", sig.Digest)
	}
	if !slices.Contains(signatureStates, sig.State) {
		return invalidf("signature: state %q: want one of %s", sig.State, strings.Join(signatureStates, ", "))
	}
	at := sig.CheckedAt
	if at.IsZero() {
		at = s.now()
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO image_signatures(digest, state, signer, detail, ref, checked_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT(digest) DO UPDATE SET state = excluded.state, signer = excluded.signer, detail = excluded.detail,
		ref = excluded.ref, checked_at = excluded.checked_at`),
		sig.Digest, sig.State, clip(sig.Signer, maxSignatureText), clip(sig.Detail, maxSignatureText), clip(sig.Ref, maxSignatureText), ms(at))
	if err != nil {
		return fmt.Errorf("store: signature %s: %w", sig.Digest, err)
	}
	return nil
}

// ImageSignatureOf returns the recorded signature state of digest
// (ErrNotFound when it was never checked).
func (s *Store) ImageSignatureOf(ctx context.Context, digest string) (ImageSignature, error) {
	if !validDigest(digest) {
		return ImageSignature{}, invalidf("signature: digest %q: want ALGORITHM:HEX", digest)
	}
	sig, err := scanSignature(s.db.QueryRowContext(ctx, s.q(`SELECT `+signatureCols+` FROM image_signatures WHERE digest = ?`), digest))
	if errors.Is(err, sql.ErrNoRows) {
		return ImageSignature{}, fmt.Errorf("store: signature %s: %w", digest, ErrNotFound)
	}
	if err != nil {
		return ImageSignature{}, fmt.Errorf("store: signature %s: %w", digest, err)
	}
	return sig, nil
}

const signatureCols = `digest, state, signer, detail, ref, checked_at`

// scanSignature reads the signatureCols of one row.
func scanSignature(row interface{ Scan(...any) error }) (ImageSignature, error) {
	var sig ImageSignature
	var at int64
	if err := row.Scan(&sig.Digest, &sig.State, &sig.Signer, &sig.Detail, &sig.Ref, &at); err != nil {
		return ImageSignature{}, err
	}
	sig.CheckedAt = fromMS(at)
	return sig, nil
}

// SignatureCheck is an image the server should check the signatures of:
// a container image target's name (the reference it was scanned as) and
// its last scan's digest.
type SignatureCheck struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
}

// SignaturesDue returns up to limit (at most MaxSignatureChecks)
// container image targets whose digest was never checked or was last
// checked before staleBefore, oldest target first.
func (s *Store) SignaturesDue(ctx context.Context, staleBefore time.Time, limit int) ([]SignatureCheck, error) {
	if limit <= 0 || limit > MaxSignatureChecks {
		return nil, invalidf("signatures due: limit %d: want 1 to %d", limit, MaxSignatureChecks)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT t.name, t.digest FROM targets t LEFT JOIN image_signatures g ON g.digest = t.digest
		WHERE t.type = 'container_image' AND t.digest <> '' AND (g.digest IS NULL OR g.checked_at < ?)
		ORDER BY t.id LIMIT ?`), ms(staleBefore), limit)
	if err != nil {
		return nil, fmt.Errorf("store: signatures due: %w", err)
	}
	defer rows.Close()
	var out []SignatureCheck
	for rows.Next() {
		var c SignatureCheck
		if err := rows.Scan(&c.Name, &c.Digest); err != nil {
			return nil, fmt.Errorf("store: signatures due: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: signatures due: %w", err)
	}
	return out, nil
}

// addSignatures sets the signature state of the targets of out (at most
// a page) whose digest was checked.
func (s *Store) addSignatures(ctx context.Context, out []TargetSummary) error {
	var digests []string
	seen := map[string]bool{}
	for i := range out {
		if d := out[i].Digest; d != "" && !seen[d] {
			seen[d] = true
			digests = append(digests, d)
		}
	}
	if len(digests) == 0 {
		return nil
	}
	cond, args := inList("digest", digests, nil)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+signatureCols+` FROM image_signatures WHERE `+cond), args...)
	if err != nil {
		return fmt.Errorf("store: targets: signatures: %w", err)
	}
	defer rows.Close()
	byDigest := map[string]*ImageSignature{}
	for rows.Next() {
		sig, err := scanSignature(rows)
		if err != nil {
			return fmt.Errorf("store: targets: signatures: %w", err)
		}
		byDigest[sig.Digest] = &sig
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: targets: signatures: %w", err)
	}
	for i := range out {
		if sig, ok := byDigest[out[i].Digest]; ok {
			c := *sig
			out[i].Signature = &c
		}
	}
	return nil
}

// addDetails fills the open counts and signature states of out.
func (s *Store) addDetails(ctx context.Context, out []TargetSummary) error {
	if err := s.addOpenCounts(ctx, out); err != nil {
		return err
	}
	return s.addSignatures(ctx, out)
}
