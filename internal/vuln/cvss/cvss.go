// Package cvss parses CVSS v2, v3.0, v3.1 and v4.0 vectors and computes
// their base scores following FIRST's specifications:
//
//   - v2: https://www.first.org/cvss/v2/guide (section 3.2.1)
//   - v3.0 / v3.1: https://www.first.org/cvss/v3-1/specification-document
//     (section 7, with the v3.1 Roundup of Appendix A)
//   - v4.0: https://www.first.org/cvss/v4-0/specification-document
//     (MacroVector lookup with severity-distance interpolation, as in
//     FIRST's reference calculator)
//
// Only the base score is computed (temporal/threat and environmental
// metrics are validated; v4 threat and environmental metrics are applied
// as the v4 specification defines, since they change the MacroVector).
package cvss

import (
	"fmt"
	"math"
	"strings"
)

// Score is a parsed and scored vector.
type Score struct {
	// Version is "2.0", "3.0", "3.1" or "4.0".
	Version string
	Vector  string
	Base    float64
}

// Severity returns the qualitative rating of the base score: v3/v4 bands
// (None, Low, Medium, High, Critical) or, for v2, Low/Medium/High.
func (s Score) Severity() string {
	b := s.Base
	if s.Version == "2.0" {
		switch {
		case b >= 7.0:
			return "HIGH"
		case b >= 4.0:
			return "MEDIUM"
		}
		return "LOW"
	}
	switch {
	case b >= 9.0:
		return "CRITICAL"
	case b >= 7.0:
		return "HIGH"
	case b >= 4.0:
		return "MEDIUM"
	case b > 0:
		return "LOW"
	}
	return "NONE"
}

// Error is an invalid vector.
type Error struct {
	Vector string
	Msg    string
}

func (e *Error) Error() string { return fmt.Sprintf("cvss vector %q: %s", e.Vector, e.Msg) }

// MaxVectorLen bounds the input; real vectors are under 200 characters.
const MaxVectorLen = 512

// Parse reads a vector of any supported version and scores it. v2 vectors
// may come with or without a "(...)" wrapper or "CVSS:2.0/" prefix.
func Parse(vector string) (Score, error) {
	v := strings.TrimSpace(vector)
	if len(v) > MaxVectorLen {
		return Score{}, &Error{Vector: v[:32] + "...", Msg: "too long"}
	}
	v = strings.TrimSuffix(strings.TrimPrefix(v, "("), ")")
	switch {
	case strings.HasPrefix(v, "CVSS:3.0/"):
		return parseV3(v, "3.0")
	case strings.HasPrefix(v, "CVSS:3.1/"):
		return parseV3(v, "3.1")
	case strings.HasPrefix(v, "CVSS:4.0/"):
		return parseV4(v)
	case strings.HasPrefix(v, "CVSS:2.0/"):
		return parseV2(strings.TrimPrefix(v, "CVSS:2.0/"), v)
	case strings.HasPrefix(v, "AV:"):
		return parseV2(v, v)
	}
	return Score{}, &Error{Vector: v, Msg: "unknown CVSS version prefix"}
}

// metrics splits "K:V/K:V" into a map, rejecting duplicates and unknown
// keys or values per the allowed table.
func metrics(vector, body string, allowed map[string]string) (map[string]string, error) {
	m := make(map[string]string, 16)
	if body == "" {
		return nil, &Error{Vector: vector, Msg: "no metrics"}
	}
	for _, part := range strings.Split(body, "/") {
		k, val, ok := strings.Cut(part, ":")
		if !ok || k == "" || val == "" {
			return nil, &Error{Vector: vector, Msg: fmt.Sprintf("malformed metric %q", part)}
		}
		vals, known := allowed[k]
		if !known {
			return nil, &Error{Vector: vector, Msg: fmt.Sprintf("unknown metric %q", k)}
		}
		if !containsValue(vals, val) {
			return nil, &Error{Vector: vector, Msg: fmt.Sprintf("metric %s: invalid value %q (want one of %s)", k, val, vals)}
		}
		if _, dup := m[k]; dup {
			return nil, &Error{Vector: vector, Msg: fmt.Sprintf("metric %s given twice", k)}
		}
		m[k] = val
	}
	return m, nil
}

func containsValue(list, v string) bool {
	for _, s := range strings.Split(list, ",") {
		if s == v {
			return true
		}
	}
	return false
}

func require(vector string, m map[string]string, keys ...string) error {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			return &Error{Vector: vector, Msg: fmt.Sprintf("mandatory metric %s missing", k)}
		}
	}
	return nil
}

// ---- v2 ----

var v2Allowed = map[string]string{
	"AV": "L,A,N", "AC": "H,M,L", "Au": "M,S,N", "C": "N,P,C", "I": "N,P,C", "A": "N,P,C",
	"E": "U,POC,F,H,ND", "RL": "OF,TF,W,U,ND", "RC": "UC,UR,C,ND",
	"CDP": "N,L,LM,MH,H,ND", "TD": "N,L,M,H,ND", "CR": "L,M,H,ND", "IR": "L,M,H,ND", "AR": "L,M,H,ND",
}

func parseV2(body, vector string) (Score, error) {
	m, err := metrics(vector, body, v2Allowed)
	if err != nil {
		return Score{}, err
	}
	if err := require(vector, m, "AV", "AC", "Au", "C", "I", "A"); err != nil {
		return Score{}, err
	}
	av := map[string]float64{"L": 0.395, "A": 0.646, "N": 1.0}[m["AV"]]
	ac := map[string]float64{"H": 0.35, "M": 0.61, "L": 0.71}[m["AC"]]
	au := map[string]float64{"M": 0.45, "S": 0.56, "N": 0.704}[m["Au"]]
	imp := map[string]float64{"N": 0, "P": 0.275, "C": 0.660}
	c, i, a := imp[m["C"]], imp[m["I"]], imp[m["A"]]
	impact := 10.41 * (1 - (1-c)*(1-i)*(1-a))
	expl := 20 * av * ac * au
	f := 0.0
	if impact != 0 {
		f = 1.176
	}
	base := round1(((0.6 * impact) + (0.4 * expl) - 1.5) * f)
	if base < 0 {
		base = 0
	}
	return Score{Version: "2.0", Vector: vector, Base: base}, nil
}

// round1 rounds half away from zero to one decimal, as the v2 guide's
// round_to_1_decimal; a tiny epsilon absorbs binary representation error.
func round1(x float64) float64 { return math.Floor(x*10+0.5+1e-9) / 10 }

// ---- v3 ----

var v3Allowed = map[string]string{
	"AV": "N,A,L,P", "AC": "L,H", "PR": "N,L,H", "UI": "N,R", "S": "U,C", "C": "H,L,N", "I": "H,L,N", "A": "H,L,N",
	"E": "X,H,F,P,U", "RL": "X,U,W,T,O", "RC": "X,C,R,U",
	"CR": "X,H,M,L", "IR": "X,H,M,L", "AR": "X,H,M,L",
	"MAV": "X,N,A,L,P", "MAC": "X,L,H", "MPR": "X,N,L,H", "MUI": "X,N,R", "MS": "X,U,C",
	"MC": "X,H,L,N", "MI": "X,H,L,N", "MA": "X,H,L,N",
}

func parseV3(vector, version string) (Score, error) {
	body := vector[len("CVSS:3.x/"):]
	m, err := metrics(vector, body, v3Allowed)
	if err != nil {
		return Score{}, err
	}
	if err := require(vector, m, "AV", "AC", "PR", "UI", "S", "C", "I", "A"); err != nil {
		return Score{}, err
	}
	changed := m["S"] == "C"
	av := map[string]float64{"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}[m["AV"]]
	ac := map[string]float64{"L": 0.77, "H": 0.44}[m["AC"]]
	var pr float64
	switch m["PR"] {
	case "N":
		pr = 0.85
	case "L":
		pr = 0.62
		if changed {
			pr = 0.68
		}
	case "H":
		pr = 0.27
		if changed {
			pr = 0.5
		}
	}
	ui := map[string]float64{"N": 0.85, "R": 0.62}[m["UI"]]
	cia := map[string]float64{"H": 0.56, "L": 0.22, "N": 0}
	iss := 1 - (1-cia[m["C"]])*(1-cia[m["I"]])*(1-cia[m["A"]])
	var impact float64
	if changed {
		impact = 7.52*(iss-0.029) - 3.25*math.Pow(iss-0.02, 15)
	} else {
		impact = 6.42 * iss
	}
	expl := 8.22 * av * ac * pr * ui
	roundup := roundup31
	if version == "3.0" {
		roundup = roundup30
	}
	var base float64
	switch {
	case impact <= 0:
		base = 0
	case changed:
		base = roundup(math.Min(1.08*(impact+expl), 10))
	default:
		base = roundup(math.Min(impact+expl, 10))
	}
	return Score{Version: version, Vector: vector, Base: base}, nil
}

// roundup31 is Roundup from CVSS v3.1 Appendix A, which avoids floating
// point artefacts by working in integers.
func roundup31(x float64) float64 {
	i := int64(math.Round(x * 100000))
	if i%10000 == 0 {
		return float64(i) / 100000.0
	}
	return float64(i/10000+1) / 10.0
}

// roundup30 is v3.0's "smallest number, to one decimal, >= x".
func roundup30(x float64) float64 { return math.Ceil(x*10) / 10 }
