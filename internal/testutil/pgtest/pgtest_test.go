package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestDSN: each DSN is a fresh database on one shared server, reachable
// with the password only from 127.0.0.1, dropped at cleanup.
func TestDSN(t *testing.T) {
	ctx := context.Background()
	var names []string
	for i := 0; i < 2; i++ {
		t.Run("db", func(t *testing.T) {
			dsn := DSN(t)
			if !strings.Contains(dsn, "@127.0.0.1:") && os.Getenv(EnvDSN) == "" {
				t.Errorf("DSN %s is not on 127.0.0.1", dsn)
			}
			db, err := sql.Open("pgx", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var name string
			var tables int
			if err := db.QueryRowContext(ctx, `SELECT current_database(), (SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&name, &tables); err != nil {
				t.Fatal(err)
			}
			if tables != 0 {
				t.Errorf("database %s has %d tables, want a fresh one", name, tables)
			}
			if _, err := db.ExecContext(ctx, `CREATE TABLE x (a int)`); err != nil {
				t.Fatal(err)
			}
			names = append(names, name)
		})
	}
	if len(names) != 2 || names[0] == names[1] {
		t.Fatalf("databases %v", names)
	}
	srv := Shared(t)
	db, err := sql.Open("pgx", srv.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_database WHERE datname = $1 OR datname = $2`, names[0], names[1]).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d test databases left after cleanup", n)
	}
	if os.Getenv(EnvDSN) != "" {
		return
	}
	bad := strings.Replace(srv.DSN("postgres"), srv.Password, "wrong", 1)
	wrong, _ := sql.Open("pgx", bad)
	defer wrong.Close()
	if err := wrong.PingContext(ctx); err == nil {
		t.Error("wrong password accepted")
	}
}

// TestStartStop: a cluster of its own stops and is removed.
func TestStartStop(t *testing.T) {
	s, err := Start()
	if u := (*Unavailable)(nil); err != nil && asUnavailable(err, &u) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	dir := s.Dir
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s left behind: %v", dir, err)
	}
	db, _ := sql.Open("pgx", s.DSN("postgres"))
	defer db.Close()
	if err := db.PingContext(context.Background()); err == nil {
		t.Error("server still answers after Stop")
	}
}

func asUnavailable(err error, u **Unavailable) bool { return errors.As(err, u) }

// TestCPUTime: the server's CPU time grows with work.
func TestCPUTime(t *testing.T) {
	if os.Getenv(EnvDSN) != "" {
		t.Skip("external server: CPU time unknown")
	}
	srv := Shared(t)
	before := srv.CPUTime()
	db, err := sql.Open("pgx", srv.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM generate_series(1, 3000000) a JOIN generate_series(1, 2) b ON a.a % 2 = b.b % 2`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if after := srv.CPUTime(); after <= before {
		t.Errorf("server CPU time %v then %v after a 3M-row join", before, after)
	}
}
