package secret

import (
	"bytes"
	"math/rand"
	"reflect"
	"regexp"
	"testing"
)

func TestRunStartClass(t *testing.T) {
	for _, tc := range []struct {
		pat string
		ok  bool
	}{
		{`(?i)[\w.-]*(?:secret|token|api[_.-]?key)[\w.-]*\s*=\s*([a-z0-9]{16,})`, true},
		{`[\w.-]*(?:pass|pwd)\s*=\s*(\S+)`, true},
		{`(?i)[\w.-]*\bsecret\s*=\s*(\S+)`, false}, // \b at a try position
		{`^[\w.-]*secret=(\S+)`, false},            // ^
		{`[\w.-]*(?:secret|=)=(\S+)`, false},       // '=' can start a match and is not in the class
		{`[\w.-]*(?:secret)?=(\S+)`, false},        // next part can be empty
		{`(?i)(?:[\w.-]*secret)=(\S+)`, true},      // the group is flattened into the concatenation
		{`\b(ghp_[0-9a-zA-Z]{36})\b`, false},       // not a prefix rule
		{`[a-z]*(?:token|key)\s*:\s*"([^"]+)"`, true},
	} {
		if got := runStartClass(tc.pat) != nil; got != tc.ok {
			t.Errorf("%s: applies %v, want %v", tc.pat, got, tc.ok)
		}
	}
}

// TestRunStartSameMatches: for every built-in rule the run-start search
// applies to, it returns exactly what the plain regex search returns, on
// lines of Go source, the rule's own samples and random mutations of them.
func TestRunStartSameMatches(t *testing.T) {
	e := builtinEngine(t)
	src := goSrcSample(t, 4<<20)
	lines := bytes.Split(src, []byte("\n"))
	rng := rand.New(rand.NewSource(7))
	alphabet := []byte("aZ09_.-=:\"' \t\\;,)}]secrtokenpasswd/+~?>")
	applied := 0
	for _, r := range e.rules {
		if r.pattern == "" || r.regex() == nil || r.runStart == nil {
			continue
		}
		applied++
		var inputs [][]byte
		for _, s := range append(append([]string{}, r.Tests.TP...), r.Tests.FP...) {
			inputs = append(inputs, []byte(s))
			for k := 0; k < 60; k++ {
				b := []byte(s)
				for n := rng.Intn(4); n >= 0 && len(b) > 0; n-- {
					b[rng.Intn(len(b))] = alphabet[rng.Intn(len(alphabet))]
				}
				// Two samples on one line, or a sample after a prefix.
				switch rng.Intn(3) {
				case 0:
					b = append(append(b, ' '), s...)
				case 1:
					b = append([]byte("x.y_z-"), b...)
				}
				inputs = append(inputs, b)
			}
		}
		for _, l := range lines {
			if r.re.Match(l) || rng.Intn(50) == 0 {
				inputs = append(inputs, l)
			}
		}
		for _, in := range inputs {
			if !isASCIIBytes(in) {
				continue
			}
			want := r.re.FindAllSubmatchIndex(in, -1)
			got := findAllAt(r.anchored, r.runStart, in)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("rule %s on %q: run-start %v, regex %v", r.ID, in, got, want)
			}
		}
	}
	if applied == 0 {
		t.Fatal("run-start search applies to no built-in rule")
	}
	t.Logf("run-start search on %d rules", applied)
}

func TestRunStartNonASCIIFallsBack(t *testing.T) {
	// (?i)[\w.-] matches U+017F (long s): a window holding it must use the
	// plain search, which finds the match starting there.
	pat := `(?i)[\w.-]*(?:secret)[\w.-]*\s*=\s*([a-z0-9]{16,})`
	re := regexp.MustCompile(pat)
	in := []byte("ſx_secret = abcdefghijklmnop0123")
	m := re.FindSubmatchIndex(in)
	if m == nil || m[0] != 0 {
		t.Fatalf("bad test: %v", m)
	}
	if isASCIIBytes(in) {
		t.Fatal("input should not be ASCII")
	}
}

func BenchmarkRunStartGeneric(b *testing.B) {
	e := builtinEngine(b)
	var r *compiledRule
	for _, x := range e.rules {
		if x.ID == "generic-api-key" {
			r = x
		}
	}
	if r == nil || r.regex() == nil || r.runStart == nil {
		b.Skip("generic-api-key has no run-start search")
	}
	line := []byte(`	tokenString, err := parser.ParseWithClaimsAndValidateTheSignature(tokenString, claims)`)
	b.Run("regex", func(b *testing.B) {
		for b.Loop() {
			r.re.FindAllSubmatchIndex(line, -1)
		}
	})
	b.Run("runstart", func(b *testing.B) {
		for b.Loop() {
			findAllAt(r.anchored, r.runStart, line)
		}
	})
}

func TestRunStartLiterals(t *testing.T) {
	rs := runStartClass(`(?i)[\w.-]*(?:secret|token|api[_.-]?key)[\w.-]*\s*=\s*([a-z0-9]{16,})`)
	if rs == nil || rs.lits == nil {
		t.Fatalf("no literals: %+v", rs)
	}
	// The part after the prefix may consume '=': no literal check.
	if rs := runStartClass(`[\w.-]*(?:pass=|key=)(\S+)`); rs == nil || rs.lits != nil {
		t.Fatalf("literals where the part leaves the class: %+v", rs)
	}
}
