// Package retry holds the backoff Ward's network clients share (the alert
// sinks and the server uplink): exponential, with jitter, capped.
package retry

import (
	"context"
	"math/rand/v2"
	"time"
)

// Backoff yields the waits between attempts: each is drawn from
// [d/2, d], then d doubles up to Max.
type Backoff struct {
	d   time.Duration
	max time.Duration
}

// NewBackoff starts at first (which must be > 0) and never exceeds max.
func NewBackoff(first, max time.Duration) *Backoff {
	return &Backoff{d: first, max: max}
}

// Next returns the wait before the next attempt and doubles the base.
func (b *Backoff) Next() time.Duration {
	wait := b.d/2 + time.Duration(rand.Int64N(int64(b.d/2)+1))
	b.d = min(b.d*2, b.max)
	return wait
}

// Sleep waits for d or until ctx is done, returning ctx's error then.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
