package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"sync"
	"time"
)

// On PostgreSQL a lease is a session-level advisory lock held by one
// dedicated connection per (lease, holder). The lock goes when the session
// does: at once when the holder's process dies (its socket closes), and
// after ttl when the holder stops renewing, because the session runs with
// idle_session_timeout = ttl and a renewal is a query on it. Several
// servers (or several holders in one process) are thus exclusive without
// trusting each other's clocks. The leases table still records the holder
// and expiry for operators (`SELECT * FROM leases`).

// pgLeases are the lock-holding sessions of one store.
type pgLeases struct {
	mu    sync.Mutex
	conns map[string]*sql.Conn // name + "\x00" + holder
}

// leaseKey is the advisory lock key of a lease name.
func leaseKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("ward-lease:" + name))
	return int64(h.Sum64())
}

func (s *Store) tryAdvisoryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	// idle_session_timeout has millisecond resolution; a lease shorter
	// than that cannot be kept.
	ms := ttl.Milliseconds()
	if ms < 1 {
		return false, invalidf("lease %q ttl %s is shorter than 1ms", name, ttl)
	}
	l := &s.pgLeases
	l.mu.Lock()
	defer l.mu.Unlock()
	id := name + "\x00" + holder
	if c := l.conns[id]; c != nil {
		// Renew: a query on the session resets its idle timer. An error
		// means the session is gone (timed out, server restarted): the
		// lock went with it, so try to take it again below.
		if _, err := c.ExecContext(ctx, `SELECT 1`); err == nil {
			return true, s.noteLease(ctx, name, holder, ttl)
		} else if ctx.Err() != nil {
			return false, fmt.Errorf("store: lease %q: %w", name, ctx.Err())
		}
		discard(c)
		delete(l.conns, id)
	}
	c, err := s.db.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("store: lease %q: %w", name, err)
	}
	// SET does not take bind parameters; ms is an integer.
	if _, err := c.ExecContext(ctx, fmt.Sprintf(`SET idle_session_timeout = %d`, ms)); err != nil {
		discard(c)
		return false, fmt.Errorf("store: lease %q: %w", name, err)
	}
	var got bool
	if err := c.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, leaseKey(name)).Scan(&got); err != nil {
		discard(c)
		return false, fmt.Errorf("store: lease %q: %w", name, err)
	}
	if !got {
		// Do not keep an idle session around for a lock held elsewhere.
		discard(c)
		return false, nil
	}
	if l.conns == nil {
		l.conns = map[string]*sql.Conn{}
	}
	l.conns[id] = c
	return true, s.noteLease(ctx, name, holder, ttl)
}

// noteLease records the holder of a lease it holds (information only: the
// advisory lock decides).
func (s *Store) noteLease(ctx context.Context, name, holder string, ttl time.Duration) error {
	now := s.now()
	if _, err := s.db.ExecContext(ctx, s.q(`INSERT INTO leases(name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at`), name, holder, ms(now.Add(ttl))); err != nil {
		return fmt.Errorf("store: lease %q: %w", name, err)
	}
	return nil
}

// releaseAll closes the lock-holding sessions (their locks go with them).
func (l *pgLeases) releaseAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, c := range l.conns {
		discard(c)
		delete(l.conns, id)
	}
}

// discard closes c's session instead of returning it to the pool: a
// session with idle_session_timeout set, or one holding a lock, must not
// serve other queries. (database/sql drops a connection whose Raw callback
// answers driver.ErrBadConn.)
func discard(c *sql.Conn) {
	_ = c.Raw(func(any) error { return driver.ErrBadConn })
	_ = c.Close()
}
