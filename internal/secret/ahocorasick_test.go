package secret

import (
	"bytes"
	"math/rand"
	"testing"
)

// naiveHits finds every (pattern, end) pair by brute force.
func naiveHits(patterns []string, data []byte) map[[2]int]bool {
	low := bytes.ToLower(data)
	out := map[[2]int]bool{}
	for id, p := range patterns {
		if p == "" {
			continue
		}
		pl := []byte(lowerString(p))
		for i := 0; i+len(pl) <= len(low); i++ {
			if bytes.Equal(low[i:i+len(pl)], pl) {
				out[[2]int{id, i + len(pl)}] = true
			}
		}
	}
	return out
}

func acHitsSet(m *acMatcher, data []byte) (map[[2]int]bool, bool) {
	hits := m.scan(data, nil)
	out := map[[2]int]bool{}
	sorted := true
	for i, h := range hits {
		if i > 0 && hits[i-1].end > h.end {
			sorted = false
		}
		for _, p := range m.out[h.state] {
			out[[2]int{int(p), int(h.end)}] = true
		}
	}
	return out, sorted
}

func TestAhoCorasickMatchesNaive(t *testing.T) {
	patterns := []string{"he", "she", "his", "hers", "AKIA", "ghp_", "-----BEGIN", "a", "aa", "Token", "://"}
	m := newACMatcher(patterns)
	rng := rand.New(rand.NewSource(1))
	alphabet := []byte("heisrAKIAkiaghp_-BEGINbegin:/Tt oken\n")
	for _, n := range []int{0, 1, 5, 100, 1 << 14, 1<<14 + 3, 100003} {
		data := make([]byte, n)
		for i := range data {
			data[i] = alphabet[rng.Intn(len(alphabet))]
		}
		want := naiveHits(patterns, data)
		got, sorted := acHitsSet(m, data)
		if !sorted {
			t.Errorf("n=%d: hits not in increasing order", n)
		}
		if len(got) != len(want) {
			t.Errorf("n=%d: %d hits, want %d", n, len(got), len(want))
		}
		for k := range want {
			if !got[k] {
				t.Errorf("n=%d: missing hit %v (%q)", n, k, patterns[k[0]])
				break
			}
		}
	}
}

func TestAhoCorasickBuiltinOnSource(t *testing.T) {
	data := goSrcSample(t, 256<<10)
	e := builtinEngine(t)
	want := naiveHits(e.ac.patterns, data)
	got, _ := acHitsSet(e.ac.clone(), data)
	if len(got) != len(want) {
		t.Fatalf("%d hits, want %d", len(got), len(want))
	}
}
