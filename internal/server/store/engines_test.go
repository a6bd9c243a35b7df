package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// testEngine opens a fresh, empty store of one engine for a test.
type testEngine struct {
	name string
	open func(t testing.TB) *Store
}

var testEngines = []testEngine{
	{EngineSQLite, func(t testing.TB) *Store {
		t.Helper()
		s, err := OpenDSN(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "ward.db"), "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
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
