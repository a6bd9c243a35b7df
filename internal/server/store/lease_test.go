package store

import (
	"context"
	"testing"
	"time"
)

// Two stores on one database stand for two servers: a lease is held by
// one at a time, renewals keep it, and it moves to the other when the
// holder closes (process exit) or stops renewing for longer than the ttl.
func TestLeaseAcrossServers(t *testing.T) {
	for _, e := range testEngines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := e.dsn(t)
			a, b := openDSNTest(t, dsn), openDSNTest(t, dsn)
			// SQLite's leases expire by the store's clock: both stores
			// share a fake one, so a loaded machine cannot make a renewal
			// late. PostgreSQL's expire by the server's idle_session_timeout,
			// in real time: a ttl long enough that a renewal every third of
			// it survives a loaded machine.
			ttl := 1500 * time.Millisecond
			sleep := time.Sleep
			if e.name == EngineSQLite {
				ttl = 400 * time.Millisecond
				at := time.Now()
				setClock(a, &at)
				setClock(b, &at)
				sleep = func(d time.Duration) { at = at.Add(d) }
			}
			take := func(s *Store, holder string) bool {
				t.Helper()
				ok, err := s.TryLease(ctx, "job:posture", holder, ttl)
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			if !take(a, "a") {
				t.Fatal("a could not take a free lease")
			}
			if take(b, "b") {
				t.Fatal("b took the lease a holds")
			}
			// A second lease is independent.
			if ok, err := b.TryLease(ctx, "job:vulndb", "b", ttl); err != nil || !ok {
				t.Fatalf("b could not take another lease: %v %v", ok, err)
			}
			// Renewing within the ttl keeps it, past several ttls.
			for range 4 {
				sleep(ttl / 3)
				if !take(a, "a") {
					t.Fatal("a lost its lease while renewing")
				}
				if take(b, "b") {
					t.Fatal("b took a renewed lease")
				}
			}
			// a stops renewing: after the ttl the lease moves to b.
			sleep(ttl + ttl/2)
			if !take(b, "b") {
				t.Fatal("b could not take a lease a stopped renewing")
			}
			if take(a, "a") {
				t.Fatal("a took back the lease b now holds")
			}
			// b exits (its store closes): on PostgreSQL the lock goes with
			// b's session, so a takes it at once; SQLite's lease row
			// outlives the process until its ttl.
			b.Close()
			if e.name == EngineSQLite {
				if take(a, "a") {
					t.Fatal("sqlite: a took an unexpired lease")
				}
				sleep(ttl + ttl/2)
			}
			if !take(a, "a") {
				t.Fatal("a could not take the lease of a closed store")
			}
			// Bad arguments are refused.
			if _, err := a.TryLease(ctx, "", "a", ttl); err == nil {
				t.Error("empty lease name accepted")
			}
			if _, err := a.TryLease(ctx, "x", "a", 0); err == nil {
				t.Error("zero ttl accepted")
			}
		})
	}
}
