// Package store keeps the ward server's state: targets, scans, findings with
// their lifecycle (open/fixed/suppressed), runtime alerts, sensors, users,
// sessions, API tokens, leases and an audit log.
//
// One schema runs on two engines: embedded SQLite (pure Go, the default)
// and PostgreSQL (pgx). The schema is versioned; opening a store applies
// pending migrations inside one transaction (SQLite serialises concurrent
// starters on its write lock, PostgreSQL on an advisory lock). Queries are
// written with ? placeholders and rebound to $N for PostgreSQL.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // SQLite driver (pure Go)
)

// Engine names.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// Store is an open database.
type Store struct {
	db     *sql.DB
	engine string
	// now is the clock (tests move it).
	now func() time.Time
	// pgLeases are the sessions holding PostgreSQL advisory locks for
	// TryLease, by lease name and holder (lease_pg.go).
	pgLeases pgLeases
	// optimized is when SQLite's statistics were last refreshed (Unix ns).
	optimized atomic.Int64
}

// optimizeEvery is how often, at most, ingestion refreshes SQLite's
// planner statistics.
const optimizeEvery = 5 * time.Minute

// optimize refreshes SQLite's planner statistics where they are stale
// (PRAGMA optimize: ANALYZE of the tables whose size changed 25-fold since): the
// dashboard's plans depend on them (without, SQLite may read every
// suppressed finding to find an expired one, or every open finding to
// find one target's). PostgreSQL's autovacuum does this itself.
func (s *Store) optimize(ctx context.Context) error {
	if s.engine != EngineSQLite {
		return nil
	}
	s.optimized.Store(time.Now().UnixNano())
	if _, err := s.db.ExecContext(ctx, `PRAGMA optimize=0x10002`); err != nil {
		return fmt.Errorf("store: optimize: %w", err)
	}
	return nil
}

// maybeOptimize runs optimize when the last run is older than optimizeEvery.
func (s *Store) maybeOptimize(ctx context.Context) error {
	if s.engine != EngineSQLite || time.Since(time.Unix(0, s.optimized.Load())) < optimizeEvery {
		return nil
	}
	return s.optimize(ctx)
}

// ErrInvalid marks a caller error (bad filter, cursor, role, argument):
// an API answers 400 for it.
var ErrInvalid = errors.New("invalid argument")

// ErrNotFound is returned for an object id that does not exist.
var ErrNotFound = errors.New("store: not found")

func invalidf(format string, args ...any) error {
	return fmt.Errorf("store: %w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// OpenDSN opens the store named by dsn: "" means sqlite:<dataDir>/ward.db,
// "sqlite:PATH" an SQLite file, "postgres://…" or "postgresql://…" a
// PostgreSQL server (pgx).
func OpenDSN(ctx context.Context, dsn, dataDir string) (*Store, error) {
	switch {
	case dsn == "":
		if dataDir == "" {
			return nil, errors.New("store: no --db and no data directory")
		}
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("store: data directory: %w", err)
		}
		return Open(ctx, filepath.Join(dataDir, "ward.db"))
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return nil, fmt.Errorf("store: %w: DSN %q has no path", ErrInvalid, dsn)
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("store: %w", err)
			}
		}
		return Open(ctx, path)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn)
	}
	return nil, fmt.Errorf("store: %w: DSN %q: want sqlite:PATH or postgres://…", ErrInvalid, redactDSN(dsn))
}

// redactDSN hides a password in a DSN for error messages.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if c := strings.Index(rest[:at], ":"); c >= 0 {
				return dsn[:i+3] + rest[:c] + ":xxx" + rest[at:]
			}
		}
	}
	return dsn
}

// Open opens (creating if needed) the SQLite database at path and applies
// pending migrations. WAL mode and a busy timeout let a second process (for
// example `ward server token create`) write while the server runs.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-65536)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: db, engine: EngineSQLite, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", path, err)
	}
	if err := s.optimize(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", path, err)
	}
	return s, nil
}

// Engine returns "sqlite" or "postgres".
func (s *Store) Engine() string { return s.engine }

// Close closes the database.
func (s *Store) Close() error {
	s.pgLeases.releaseAll()
	return s.db.Close()
}

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
	var err error
	if s.engine == EnginePostgres {
		err = s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v)
	} else {
		err = s.db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v)
	}
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

func (s *Store) migrate(ctx context.Context) error {
	if s.engine == EnginePostgres {
		return s.migratePostgres(ctx)
	}
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
		if _, err := tx.ExecContext(ctx, migrations[i].sql(EngineSQLite)); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if migrations[i].after != nil {
			if err := migrations[i].after(ctx, s, tx); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return err
	}
	return tx.Commit()
}

// q rebinds ? placeholders to $1, $2, … for PostgreSQL. Queries never
// hold a literal '?'.
func (s *Store) q(query string) string {
	if s.engine != EnginePostgres {
		return query
	}
	return rebind(query)
}

func rebind(query string) string {
	n := strings.Count(query, "?")
	if n == 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + n*3)
	i := 0
	for _, r := range query {
		if r == '?' {
			i++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(i))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ms converts a time to the stored Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts stored Unix milliseconds to UTC time.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromMSPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
