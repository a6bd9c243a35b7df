package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Roles a token, user or session may have.
const (
	RoleAdmin  = "admin"
	RoleIngest = "ingest"
	RoleRead   = "read"
)

// ErrUnknownToken is returned for a token or session not in the store
// (or expired).
var ErrUnknownToken = errors.New("store: unknown token")

// ErrBadCredentials is returned by CheckUser for an unknown user or a
// wrong password (the two are not told apart).
var ErrBadCredentials = errors.New("store: bad credentials")

func validRole(role string) error {
	switch role {
	case RoleAdmin, RoleIngest, RoleRead:
		return nil
	}
	return invalidf("role %q: want admin, ingest or read", role)
}

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// CreateToken makes a new random token with role, stores its sha256 and
// returns the token itself (shown once).
func (s *Store) CreateToken(ctx context.Context, role, actor string) (string, error) {
	if err := validRole(role); err != nil {
		return "", err
	}
	r, err := randomHex(32)
	if err != nil {
		return "", fmt.Errorf("store: token: %w", err)
	}
	tok := "ward_" + r
	err = s.inTx(ctx, "token", func(tx *sql.Tx) error {
		now := s.now().Unix()
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO tokens(hash, role, created_at) VALUES (?, ?, ?)`), hashToken(tok), role, now); err != nil {
			return err
		}
		return audit(ctx, s, tx, now, actor, "token.create", "role="+role+" hash="+hashToken(tok)[:12])
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// TokenRole returns the role of tok, or ErrUnknownToken.
func (s *Store) TokenRole(ctx context.Context, tok string) (string, error) {
	var role string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT role FROM tokens WHERE hash = ?`), hashToken(tok)).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrUnknownToken
	}
	if err != nil {
		return "", fmt.Errorf("store: token lookup: %w", err)
	}
	return role, nil
}

// bcryptCost is the work factor of stored password hashes.
const bcryptCost = 11

// dummyHash is compared against for unknown users, so that both paths
// take as long. It is computed on first use: a bcrypt hash costs ~0.1 s of
// CPU, which every ward command would otherwise pay at process start.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("ward-no-such-user"), bcryptCost)
	return h
})

// CreateUser adds (or replaces the password and role of) a dashboard user;
// the password is stored as a bcrypt hash. Audited.
func (s *Store) CreateUser(ctx context.Context, name, password, role, actor string) error {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 128 {
		return invalidf("user name must be 1-128 characters")
	}
	if err := validRole(role); err != nil {
		return err
	}
	if len(password) < 8 {
		return invalidf("password of user %q is shorter than 8 bytes", name)
	}
	if len(password) > 72 {
		return invalidf("password of user %q is longer than 72 bytes (bcrypt limit)", name)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return fmt.Errorf("store: user %q: %w", name, err)
	}
	return s.inTx(ctx, "user", func(tx *sql.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO users(name, hash, role, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT(name) DO UPDATE SET hash = excluded.hash, role = excluded.role`), name, string(h), role, ms(now)); err != nil {
			return err
		}
		return audit(ctx, s, tx, now.Unix(), actor, "user.create", "name="+name+" role="+role)
	})
}

// CheckUser returns the role of user name when password is right, else
// ErrBadCredentials.
func (s *Store) CheckUser(ctx context.Context, name, password string) (string, error) {
	var hash, role string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT hash, role FROM users WHERE name = ?`), name).Scan(&hash, &role)
	if errors.Is(err, sql.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return "", ErrBadCredentials
	}
	if err != nil {
		return "", fmt.Errorf("store: user lookup: %w", err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return "", ErrBadCredentials
	}
	return role, nil
}

// CreateSession starts a session for subject with role lasting ttl and
// returns its id (only its sha256 is stored). Expired sessions are purged.
func (s *Store) CreateSession(ctx context.Context, subject, role string, ttl time.Duration) (string, error) {
	if err := validRole(role); err != nil {
		return "", err
	}
	if ttl <= 0 {
		return "", invalidf("session ttl %s is not positive", ttl)
	}
	id, err := randomHex(32)
	if err != nil {
		return "", fmt.Errorf("store: session: %w", err)
	}
	now := s.now()
	err = s.inTx(ctx, "session", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE expires_at <= ?`), ms(now)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO sessions(hash, subject, role, expires_at) VALUES (?, ?, ?, ?)`),
			hashToken(id), subject, role, ms(now.Add(ttl)))
		return err
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// Session returns the subject and role of a live session, or
// ErrUnknownToken when it is absent or expired.
func (s *Store) Session(ctx context.Context, id string) (string, string, error) {
	var subject, role string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT subject, role FROM sessions WHERE hash = ? AND expires_at > ?`), hashToken(id), ms(s.now())).Scan(&subject, &role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrUnknownToken
	}
	if err != nil {
		return "", "", fmt.Errorf("store: session: %w", err)
	}
	return subject, role, nil
}

// DeleteSession ends a session (logout); an unknown id is not an error.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE hash = ?`), hashToken(id)); err != nil {
		return fmt.Errorf("store: session: %w", err)
	}
	return nil
}

// TryLease takes or renews the lease name for holder for ttl and reports
// whether holder has it: leader election for scheduled jobs across servers
// sharing one database.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if name == "" || holder == "" {
		return false, invalidf("lease needs a name and a holder")
	}
	if ttl <= 0 {
		return false, invalidf("lease %q ttl %s is not positive", name, ttl)
	}
	if s.engine == EnginePostgres {
		return s.tryAdvisoryLease(ctx, name, holder, ttl)
	}
	now := s.now()
	r, err := s.db.ExecContext(ctx, s.q(`INSERT INTO leases(name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at <= ?`), name, holder, ms(now.Add(ttl)), ms(now))
	if err != nil {
		return false, fmt.Errorf("store: lease %q: %w", name, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: lease %q: %w", name, err)
	}
	return n == 1, nil
}

func (s *Store) inTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		if errors.Is(err, ErrInvalid) {
			return err
		}
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

func audit(ctx context.Context, s *Store, tx *sql.Tx, at int64, actor, action, detail string) error {
	if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO audit(at, actor, action, detail) VALUES (?, ?, ?, ?)`), at, actor, action, detail); err != nil {
		return fmt.Errorf("store: audit: %w", err)
	}
	return nil
}

// AuditEntry is one audit log line.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Detail string    `json:"detail"`
}

// Audit returns the newest limit audit entries, newest first (limit
// default 100, at most 1000).
func (s *Store) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: audit: %w", err)
		}
		e.At = time.Unix(at, 0).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
