package store

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/wardsec/ward/internal/testutil/pgtest"
)

// TestPostgresConcurrentOpen: servers starting together on one empty
// database migrate it once (advisory lock), and all of them work.
func TestPostgresConcurrentOpen(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			stores[i], errs[i] = OpenDSN(ctx, dsn, "")
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	s := stores[0]
	if s.Engine() != EnginePostgres {
		t.Fatalf("engine %s", s.Engine())
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_version`).Scan(&rows); err != nil || rows != len(migrations) {
		t.Fatalf("schema_version has %d rows (%v), want %d", rows, err, len(migrations))
	}
	// Concurrent uploads of one report with one key: stored once.
	var ids sync.Map
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := stores[i].IngestScan(ctx, "same-key", rep("a", "b", "c"), []byte("{}"))
			if err != nil {
				t.Errorf("ingest %d: %v", i, err)
				return
			}
			ids.Store(res.ScanID, true)
		}(i)
	}
	wg.Wait()
	nIDs := 0
	ids.Range(func(any, any) bool { nIDs++; return true })
	if nIDs != 1 {
		t.Errorf("%d scan ids for one key", nIDs)
	}
	c, err := s.Counts(ctx)
	if err != nil || c.Scans != 1 || c.Open != 3 {
		t.Errorf("counts %+v %v", c, err)
	}
	// A database from a newer ward is refused.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_version(version, applied_at) VALUES (99, 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDSN(ctx, dsn, ""); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("newer schema: %v", err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping accepts a schema version it does not know")
	}
}

// TestPostgresConnectError: an unreachable server is an error naming the
// DSN without its password.
func TestPostgresConnectError(t *testing.T) {
	_, err := OpenDSN(context.Background(), "postgres://ward:s3cret@127.0.0.1:1/ward?connect_timeout=2", "")
	if err == nil {
		t.Fatal("connected to port 1")
	}
	if strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "127.0.0.1:1") {
		t.Errorf("error %q", err)
	}
	if _, err := OpenDSN(context.Background(), "mysql://x", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown scheme: %v", err)
	}
}
