package store

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestCursor(t *testing.T) {
	for _, id := range []int64{1, 127, 128, 1 << 40, math.MaxInt64} {
		c := encodeCursor(id)
		got, err := decodeCursor(c)
		if err != nil || got != id {
			t.Errorf("%d: cursor %q decodes to %d, %v", id, c, got, err)
		}
	}
	for _, bad := range []string{"", "!", "AQ", "AgE", "AQA", "AYAA", strings.Repeat("A", 33), encodeCursor(5) + "A", "AY__________________8B"} {
		if _, err := decodeCursor(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("cursor %q: %v, want ErrInvalid", bad, err)
		}
	}
}

// FuzzDecodeCursor: any string either decodes to a positive id whose
// encoding is that very string, or is an ErrInvalid error; never a panic.
func FuzzDecodeCursor(f *testing.F) {
	for _, seed := range []string{encodeCursor(1), encodeCursor(1 << 40), encodeCursor(math.MaxInt64), "", "AQ", "AQA", "not a cursor", "AY__________________8B"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, c string) {
		id, err := decodeCursor(c)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("%q: error %v is not ErrInvalid", c, err)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("%q decodes to %d", c, id)
		}
		if again := encodeCursor(id); again != c {
			t.Fatalf("%q decodes to %d, which encodes as %q", c, id, again)
		}
	})
}
