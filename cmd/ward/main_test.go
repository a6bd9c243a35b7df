package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// A run blocked where it cannot see the context (an open of a FIFO nobody
// writes to) must not make Ward ignore SIGTERM/SIGINT.
func TestRunInterruptible(t *testing.T) {
	t.Run("returns", func(t *testing.T) {
		var errb bytes.Buffer
		if got := runInterruptible(context.Background(), time.Second, &errb, func() int { return 3 }); got != 3 {
			t.Fatalf("got %d, want 3", got)
		}
	})
	t.Run("cancelled-returns-in-grace", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		var errb bytes.Buffer
		got := runInterruptible(ctx, 5*time.Second, &errb, func() int { <-ctx.Done(); return 1 })
		if got != 1 || errb.Len() != 0 {
			t.Fatalf("got %d %q, want 1 and no message", got, errb.String())
		}
	})
	t.Run("cancelled-blocked", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		block := make(chan struct{})
		defer close(block)
		time.AfterFunc(10*time.Millisecond, cancel)
		var errb bytes.Buffer
		start := time.Now()
		got := runInterruptible(ctx, 50*time.Millisecond, &errb, func() int { <-block; return 0 })
		if got != 130 || !strings.Contains(errb.String(), "interrupted") {
			t.Fatalf("got %d %q, want 130 and a message", got, errb.String())
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Fatalf("took %s", d)
		}
	})
}
