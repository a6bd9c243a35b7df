package retry

import (
	"context"
	"testing"
	"time"
)

func TestBackoffBoundsAndCap(t *testing.T) {
	b := NewBackoff(100*time.Millisecond, 350*time.Millisecond)
	bases := []time.Duration{100, 200, 350, 350}
	for i, base := range bases {
		base *= time.Millisecond
		w := b.Next()
		if w < base/2 || w > base {
			t.Fatalf("wait %d = %v, want in [%v, %v]", i, w, base/2, base)
		}
	}
}

func TestSleepCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}
