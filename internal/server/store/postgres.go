package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Advisory lock keys (pg_advisory_xact_lock): one for migrations, one for
// the global trend row of the day.
const (
	lockMigrate int64 = 0x77617264_0001 // "ward" 1
	lockTrend   int64 = 0x77617264_0002
)

// openPostgres connects to a PostgreSQL server through pgx's database/sql
// driver and applies pending migrations.
func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", redactDSN(dsn), err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", redactDSN(dsn), err)
	}
	s := &Store{db: db, engine: EnginePostgres, now: time.Now}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: migrate %s: %w", redactDSN(dsn), err)
	}
	return s, nil
}

// migratePostgres applies pending migrations in one transaction under an
// advisory lock, so servers starting together migrate once, in turn. The
// applied versions are rows of schema_version.
func (s *Store) migratePostgres(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockMigrate); err != nil {
		return fmt.Errorf("migration lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY,
		applied_at BIGINT NOT NULL
	)`); err != nil {
		return err
	}
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this ward (%d)", v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i].sql(EnginePostgres)); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		if migrations[i].after != nil {
			if err := migrations[i].after(ctx, s, tx); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(version, applied_at) VALUES ($1, $2)`, i+1, ms(s.now())); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return tx.Commit()
}

// lockTrendRow serialises the update of the day's trend point on
// PostgreSQL: the counts it sums are read after the previous writer
// committed (READ COMMITTED takes a new snapshot per statement). SQLite
// writers are serialised already.
func (s *Store) lockTrendRow(ctx context.Context, tx *sql.Tx) error {
	if s.engine != EnginePostgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockTrend); err != nil {
		return fmt.Errorf("store: trend lock: %w", err)
	}
	return nil
}
