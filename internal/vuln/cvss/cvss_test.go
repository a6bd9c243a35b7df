package cvss

import (
	"strings"
	"testing"
)

func TestParseScores(t *testing.T) {
	tests := []struct {
		vector  string
		version string
		want    float64
	}{
		// v2 (NVD-published scores).
		{"AV:N/AC:L/Au:N/C:P/I:P/A:P", "2.0", 7.5},
		{"AV:N/AC:M/Au:N/C:N/I:P/A:N", "2.0", 4.3},
		{"AV:N/AC:L/Au:N/C:C/I:C/A:C", "2.0", 10.0},
		{"AV:L/AC:L/Au:N/C:C/I:C/A:C", "2.0", 7.2},
		{"(AV:N/AC:L/Au:N/C:N/I:N/A:P)", "2.0", 5.0},
		{"AV:N/AC:L/Au:N/C:N/I:N/A:N", "2.0", 0},
		{"AV:N/AC:H/Au:S/C:P/I:N/A:N/E:POC/RL:OF/RC:C", "2.0", 2.1},
		// v3.x (FIRST / NVD).
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1", 9.8},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", "3.1", 10.0},
		{"CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N", "3.1", 5.4},
		{"CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "3.0", 7.8},
		{"CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", "3.1", 3.1},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "3.1", 6.1},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "3.1", 7.5},
		{"CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "3.1", 1.6},
		{"CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H", "3.1", 9.1},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "3.1", 0},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", "3.1", 9.8},
		// v4.0 (FIRST calculator results).
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H", "4.0", 10.0},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N", "4.0", 0},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 9.3},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:H/SI:H/SA:H", "4.0", 7.9},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/E:U", "4.0", 9.1},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/MVI:L/MSA:S", "4.0", 9.8},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N", "4.0", 5.3},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N/E:X", "4.0", 5.3},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N", "4.0", 6.9},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N", "4.0", 8.7},
		{"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "4.0", 8.5},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:A/VC:N/VI:N/VA:N/SC:L/SI:L/SA:N", "4.0", 5.1},
	}
	for _, tt := range tests {
		t.Run(tt.vector, func(t *testing.T) {
			s, err := Parse(tt.vector)
			if err != nil {
				t.Fatal(err)
			}
			if s.Version != tt.version || s.Base != tt.want {
				t.Errorf("Parse(%q) = %s %.1f, want %s %.1f", tt.vector, s.Version, s.Base, tt.version, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	bad := []struct{ vector, msg string }{
		{"", "unknown CVSS version"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", "mandatory metric A missing"},
		{"CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "invalid value"},
		{"CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "given twice"},
		{"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1", "unknown metric"},
		{"CVSS:3.1/AV:N//AC:L", "malformed metric"},
		{"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:S/SA:H", "invalid value"},
		{"CVSS:4.0/", "no metrics"},
		{"AV:N/AC:L/Au:N/C:P/I:P", "mandatory metric A missing"},
		{"CVSS:9.9/AV:N", "unknown CVSS version"},
		{"CVSS:3.1/" + strings.Repeat("AV:N/", 200), "too long"},
	}
	for _, tt := range bad {
		_, err := Parse(tt.vector)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Parse(%q) error = %v, want %q", tt.vector, err, tt.msg)
		}
	}
}

func TestSeverity(t *testing.T) {
	tests := []struct {
		s    Score
		want string
	}{
		{Score{Version: "3.1", Base: 9.8}, "CRITICAL"},
		{Score{Version: "3.1", Base: 7.0}, "HIGH"},
		{Score{Version: "4.0", Base: 6.9}, "MEDIUM"},
		{Score{Version: "3.1", Base: 0.1}, "LOW"},
		{Score{Version: "3.1", Base: 0}, "NONE"},
		{Score{Version: "2.0", Base: 10}, "HIGH"},
		{Score{Version: "2.0", Base: 4.3}, "MEDIUM"},
		{Score{Version: "2.0", Base: 2.1}, "LOW"},
	}
	for _, tt := range tests {
		if got := tt.s.Severity(); got != tt.want {
			t.Errorf("%v.Severity() = %s, want %s", tt.s, got, tt.want)
		}
	}
}

// TestV4AllMacroVectorsScore checks every base vector (3^? combinations of
// the 11 base metrics: 4*2*2*3*3*3^6 = 104,976) scores within [0, 10] and
// that the highest vector of each MacroVector scores exactly its table value.
func TestV4AllBaseVectors(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	vals := [][]string{{"N", "A", "L", "P"}, {"L", "H"}, {"N", "P"}, {"N", "L", "H"}, {"N", "P", "A"},
		{"H", "L", "N"}, {"H", "L", "N"}, {"H", "L", "N"}, {"H", "L", "N"}, {"H", "L", "N"}, {"H", "L", "N"}}
	names := []string{"AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"}
	idx := make([]int, len(vals))
	n := 0
	for {
		c := v4vec{}
		for i, k := range names {
			c[k] = vals[i][idx[i]]
		}
		s := v4Score(c)
		if s < 0 || s > 10 {
			t.Fatalf("%v scored %v", c, s)
		}
		n++
		i := len(idx) - 1
		for i >= 0 {
			idx[i]++
			if idx[i] < len(vals[i]) {
				break
			}
			idx[i] = 0
			i--
		}
		if i < 0 {
			break
		}
	}
	if n != 104976 {
		t.Fatalf("enumerated %d vectors", n)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H/MVI:L/MSA:S/E:P/CR:L",
		"AV:N/AC:L/Au:N/C:P/I:P/A:P",
		"CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H/MAV:N",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, err := Parse(v)
		if err != nil {
			return
		}
		if s.Base < 0 || s.Base > 10 {
			t.Fatalf("Parse(%q) base %v out of range", v, s.Base)
		}
	})
}
