// Package store keeps the ward server's state: targets, scans, findings with
// their lifecycle (open/fixed/suppressed), API tokens and an audit log.
//
// The schema is versioned; Open applies pending migrations inside one
// transaction (SQLite allows a single writer, so concurrent starters
// serialise on the database lock). Query functions are exported methods so
// that the API and a dashboard share them.
package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	_ "modernc.org/sqlite" // SQLite driver (pure Go)
)

// Store is an open database.
type Store struct {
	db *sql.DB
}

// migrations are applied in order; index+1 is the schema version.
var migrations = []string{
	`CREATE TABLE targets (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		type TEXT NOT NULL,
		digest TEXT NOT NULL DEFAULT ''
	);
	CREATE TABLE scans (
		id TEXT PRIMARY KEY,
		target_id INTEGER NOT NULL REFERENCES targets(id),
		idempotency_key TEXT NOT NULL UNIQUE,
		tool_version TEXT NOT NULL,
		db_version TEXT NOT NULL DEFAULT '',
		created_at INTEGER NOT NULL,
		findings INTEGER NOT NULL,
		new_findings INTEGER NOT NULL,
		fixed_findings INTEGER NOT NULL,
		report BLOB NOT NULL
	);
	CREATE TABLE findings (
		id INTEGER PRIMARY KEY,
		target_id INTEGER NOT NULL REFERENCES targets(id),
		fingerprint TEXT NOT NULL,
		kind TEXT NOT NULL,
		severity TEXT NOT NULL,
		rule_id TEXT NOT NULL,
		namespace TEXT NOT NULL DEFAULT '',
		fixable INTEGER NOT NULL DEFAULT 0,
		status TEXT NOT NULL,
		first_seen INTEGER NOT NULL,
		last_seen INTEGER NOT NULL,
		fixed_at INTEGER,
		first_scan TEXT NOT NULL,
		last_scan TEXT NOT NULL,
		suppress_reason TEXT NOT NULL DEFAULT '',
		suppress_by TEXT NOT NULL DEFAULT '',
		suppress_until INTEGER,
		body BLOB NOT NULL,
		UNIQUE (target_id, fingerprint)
	);
	CREATE INDEX findings_status ON findings(status, id);
	CREATE TABLE tokens (
		hash TEXT PRIMARY KEY,
		role TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE TABLE audit (
		id INTEGER PRIMARY KEY,
		at INTEGER NOT NULL,
		actor TEXT NOT NULL,
		action TEXT NOT NULL,
		detail TEXT NOT NULL
	);`,
}

// Open opens (creating if needed) the SQLite database at path and applies
// pending migrations. WAL mode and a busy timeout let a second process (for
// example `ward server token create`) write while the server runs.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping reports whether the store is reachable and migrated to the latest version.
func (s *Store) Ping(ctx context.Context) error {
	v, err := s.Version(ctx)
	if err != nil {
		return err
	}
	if v != len(migrations) {
		return fmt.Errorf("store: schema version %d, want %d", v, len(migrations))
	}
	return nil
}

// Version returns the applied schema version.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	if err := s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil) // _txlock=immediate: takes the write lock
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this ward (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return err
	}
	return tx.Commit()
}

// Roles a token may have.
const (
	RoleAdmin  = "admin"
	RoleIngest = "ingest"
	RoleRead   = "read"
)

// ErrUnknownToken is returned by TokenRole for a token not in the store.
var ErrUnknownToken = errors.New("store: unknown token")

func hashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// CreateToken makes a new random token with role, stores its sha256 and
// returns the token itself (shown once).
func (s *Store) CreateToken(ctx context.Context, role, actor string) (string, error) {
	switch role {
	case RoleAdmin, RoleIngest, RoleRead:
	default:
		return "", fmt.Errorf("store: role %q: want admin, ingest or read", role)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("store: token: %w", err)
	}
	tok := "ward_" + hex.EncodeToString(b[:])
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("store: token: %w", err)
	}
	defer tx.Rollback()
	now := time.Now().Unix()
	if _, err := tx.ExecContext(ctx, `INSERT INTO tokens(hash, role, created_at) VALUES (?, ?, ?)`, hashToken(tok), role, now); err != nil {
		return "", fmt.Errorf("store: token: %w", err)
	}
	if err := audit(ctx, tx, now, actor, "token.create", "role="+role+" hash="+hashToken(tok)[:12]); err != nil {
		return "", err
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("store: token: %w", err)
	}
	return tok, nil
}

// TokenRole returns the role of tok, or ErrUnknownToken.
func (s *Store) TokenRole(ctx context.Context, tok string) (string, error) {
	var role string
	err := s.db.QueryRowContext(ctx, `SELECT role FROM tokens WHERE hash = ?`, hashToken(tok)).Scan(&role)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrUnknownToken
	}
	if err != nil {
		return "", fmt.Errorf("store: token lookup: %w", err)
	}
	return role, nil
}

func audit(ctx context.Context, tx *sql.Tx, at int64, actor, action, detail string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit(at, actor, action, detail) VALUES (?, ?, ?, ?)`, at, actor, action, detail); err != nil {
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

// Audit returns the newest limit audit entries, newest first.
func (s *Store) Audit(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?`, limit)
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
