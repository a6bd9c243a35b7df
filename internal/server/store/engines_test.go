package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/testutil/pgtest"
)

// TestMain removes the benchmark fixtures and stops the shared
// PostgreSQL cluster after the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	closeFixtures()
	if err := pgtest.StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = max(code, 1)
	}
	os.Exit(code)
}

// testEngine makes DSNs of fresh, empty databases of one engine.
type testEngine struct {
	name string
	// dsn returns a new database's DSN (skipping t when the engine
	// cannot run here).
	dsn func(t testing.TB) string
}

var testEngines = []testEngine{
	{EngineSQLite, func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "ward.db") }},
	{EnginePostgres, pgtest.DSN},
}

// open opens a fresh store of e, closed at t's cleanup.
func (e testEngine) open(t testing.TB) *Store {
	t.Helper()
	return openDSNTest(t, e.dsn(t))
}

func openDSNTest(t testing.TB, dsn string) *Store {
	t.Helper()
	s, err := OpenDSN(context.Background(), dsn, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// forEachEngine runs fn as a subtest per engine, each on a fresh store.
func forEachEngine(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Helper()
	for _, e := range testEngines {
		t.Run(e.name, func(t *testing.T) { fn(t, e.open(t)) })
	}
}

// setClock makes s read the time from *at (tests move it).
func setClock(s *Store, at *time.Time) { s.now = func() time.Time { return *at } }
