package cvss

import (
	"math"
	"strings"
)

var v4Allowed = map[string]string{
	"AV": "N,A,L,P", "AC": "L,H", "AT": "N,P", "PR": "N,L,H", "UI": "N,P,A",
	"VC": "H,L,N", "VI": "H,L,N", "VA": "H,L,N", "SC": "H,L,N", "SI": "H,L,N", "SA": "H,L,N",
	"E":  "X,A,P,U",
	"CR": "X,H,M,L", "IR": "X,H,M,L", "AR": "X,H,M,L",
	"MAV": "X,N,A,L,P", "MAC": "X,L,H", "MAT": "X,N,P", "MPR": "X,N,L,H", "MUI": "X,N,P,A",
	"MVC": "X,H,L,N", "MVI": "X,H,L,N", "MVA": "X,H,L,N", "MSC": "X,H,L,N", "MSI": "X,S,H,L,N", "MSA": "X,S,H,L,N",
	"S": "X,N,P", "AU": "X,N,Y", "R": "X,A,U,I", "V": "X,D,C", "RE": "X,L,M,H", "U": "X,Clear,Green,Amber,Red",
}

type v4vec map[string]string

// m returns the effective value of a metric: environmental overrides,
// and the worst-case defaults for E, CR, IR and AR (spec section 8).
func (c v4vec) m(metric string) string {
	sel, ok := c[metric]
	if !ok {
		sel = "X"
	}
	switch metric {
	case "E":
		if sel == "X" {
			return "A"
		}
	case "CR", "IR", "AR":
		if sel == "X" {
			return "H"
		}
	}
	if mod, ok := c["M"+metric]; ok && mod != "X" {
		return mod
	}
	return sel
}

func (c v4vec) macroVector() [6]int {
	av, pr, ui := c.m("AV"), c.m("PR"), c.m("UI")
	var eq [6]int
	switch {
	case av == "N" && pr == "N" && ui == "N":
		eq[0] = 0
	case (av == "N" || pr == "N" || ui == "N") && av != "P":
		eq[0] = 1
	default:
		eq[0] = 2
	}
	if c.m("AC") == "L" && c.m("AT") == "N" {
		eq[1] = 0
	} else {
		eq[1] = 1
	}
	vc, vi, va := c.m("VC"), c.m("VI"), c.m("VA")
	switch {
	case vc == "H" && vi == "H":
		eq[2] = 0
	case vc == "H" || vi == "H" || va == "H":
		eq[2] = 1
	default:
		eq[2] = 2
	}
	switch {
	case c.m("MSI") == "S" || c.m("MSA") == "S":
		eq[3] = 0
	case c.m("SC") == "H" || c.m("SI") == "H" || c.m("SA") == "H":
		eq[3] = 1
	default:
		eq[3] = 2
	}
	switch c.m("E") {
	case "A":
		eq[4] = 0
	case "P":
		eq[4] = 1
	default:
		eq[4] = 2
	}
	if (c.m("CR") == "H" && vc == "H") || (c.m("IR") == "H" && vi == "H") || (c.m("AR") == "H" && va == "H") {
		eq[5] = 0
	} else {
		eq[5] = 1
	}
	return eq
}

func macroKey(eq [6]int) string {
	b := make([]byte, 6)
	for i, v := range eq {
		b[i] = byte('0' + v)
	}
	return string(b)
}

var (
	v4AV = map[string]float64{"N": 0.0, "A": 0.1, "L": 0.2, "P": 0.3}
	v4PR = map[string]float64{"N": 0.0, "L": 0.1, "H": 0.2}
	v4UI = map[string]float64{"N": 0.0, "P": 0.1, "A": 0.2}
	v4AC = map[string]float64{"L": 0.0, "H": 0.1}
	v4AT = map[string]float64{"N": 0.0, "P": 0.1}
	v4VX = map[string]float64{"H": 0.0, "L": 0.1, "N": 0.2}
	v4SC = map[string]float64{"H": 0.1, "L": 0.2, "N": 0.3}
	v4SX = map[string]float64{"S": 0.0, "H": 0.1, "L": 0.2, "N": 0.3}
	v4RX = map[string]float64{"H": 0.0, "M": 0.1, "L": 0.2}
)

// maxComposed lists, per EQ level, the highest-severity vectors of the
// MacroVector (spec section 8.2; FIRST calculator's max_composed).
var maxComposed = struct {
	eq1, eq2, eq4, eq5 map[int][]string
	eq3                map[int]map[int][]string
}{
	eq1: map[int][]string{0: {"AV:N/PR:N/UI:N/"}, 1: {"AV:A/PR:N/UI:N/", "AV:N/PR:L/UI:N/", "AV:N/PR:N/UI:P/"}, 2: {"AV:P/PR:N/UI:N/", "AV:A/PR:L/UI:P/"}},
	eq2: map[int][]string{0: {"AC:L/AT:N/"}, 1: {"AC:H/AT:N/", "AC:L/AT:P/"}},
	eq3: map[int]map[int][]string{
		0: {0: {"VC:H/VI:H/VA:H/CR:H/IR:H/AR:H/"}, 1: {"VC:H/VI:H/VA:L/CR:M/IR:M/AR:H/", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M/"}},
		1: {0: {"VC:L/VI:H/VA:H/CR:H/IR:H/AR:H/", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H/"}, 1: {"VC:L/VI:H/VA:L/CR:H/IR:M/AR:H/", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M/", "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M/", "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H/", "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M/"}},
		2: {1: {"VC:L/VI:L/VA:L/CR:H/IR:H/AR:H/"}},
	},
	eq4: map[int][]string{0: {"SC:H/SI:S/SA:S/"}, 1: {"SC:H/SI:H/SA:H/"}, 2: {"SC:L/SI:L/SA:L/"}},
	eq5: map[int][]string{0: {"E:A/"}, 1: {"E:P/"}, 2: {"E:U/"}},
}

// maxSeverity is the depth of each EQ's MacroVectors (in 0.1 steps).
var (
	maxSevEQ1   = map[int]float64{0: 1, 1: 4, 2: 5}
	maxSevEQ2   = map[int]float64{0: 1, 1: 2}
	maxSevEQ3_6 = map[int]map[int]float64{0: {0: 7, 1: 6}, 1: {0: 8, 1: 8}, 2: {1: 10}}
	maxSevEQ4   = map[int]float64{0: 6, 1: 5, 2: 4}
)

func parseV4(vector string) (Score, error) {
	body := vector[len("CVSS:4.0/"):]
	mm, err := metrics(vector, body, v4Allowed)
	if err != nil {
		return Score{}, err
	}
	if err := require(vector, mm, "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"); err != nil {
		return Score{}, err
	}
	return Score{Version: "4.0", Vector: vector, Base: v4Score(v4vec(mm))}, nil
}

func extract(metric, maxVec string) string {
	i := strings.Index(maxVec, metric+":")
	if i < 0 {
		return ""
	}
	rest := maxVec[i+len(metric)+1:]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		return rest[:j]
	}
	return rest
}

func v4Score(c v4vec) float64 {
	for _, k := range []string{"VC", "VI", "VA", "SC", "SI", "SA"} {
		if c.m(k) != "N" {
			goto scored
		}
	}
	return 0
scored:
	eq := c.macroVector()
	value := v4Lookup[macroKey(eq)]

	lookup := func(e [6]int) (float64, bool) {
		v, ok := v4Lookup[macroKey(e)]
		return v, ok
	}
	next := func(i int) [6]int { e := eq; e[i]++; return e }
	scoreEQ1, okEQ1 := lookup(next(0))
	scoreEQ2, okEQ2 := lookup(next(1))
	var scoreEQ36 float64
	var okEQ36 bool
	switch {
	case eq[2] == 1 && eq[5] == 1, eq[2] == 0 && eq[5] == 1:
		scoreEQ36, okEQ36 = lookup(next(2))
	case eq[2] == 1 && eq[5] == 0:
		scoreEQ36, okEQ36 = lookup(next(5))
	case eq[2] == 0 && eq[5] == 0:
		l, okl := lookup(next(5))
		r, okr := lookup(next(2))
		// JavaScript: left > right ? left : right, where a missing score
		// is NaN and every comparison with NaN is false.
		if okl && okr && l > r {
			scoreEQ36, okEQ36 = l, true
		} else {
			scoreEQ36, okEQ36 = r, okr
		}
	default:
		e := eq
		e[2]++
		e[5]++
		scoreEQ36, okEQ36 = lookup(e)
	}
	scoreEQ4, okEQ4 := lookup(next(3))
	_, okEQ5 := lookup(next(4))

	var maxVectors []string
	for _, a := range maxComposed.eq1[eq[0]] {
		for _, b := range maxComposed.eq2[eq[1]] {
			for _, d := range maxComposed.eq3[eq[2]][eq[5]] {
				for _, e := range maxComposed.eq4[eq[3]] {
					for _, f := range maxComposed.eq5[eq[4]] {
						maxVectors = append(maxVectors, a+b+d+e+f)
					}
				}
			}
		}
	}
	var dAV, dPR, dUI, dAC, dAT, dVC, dVI, dVA, dSC, dSI, dSA, dCR, dIR, dAR float64
	for _, mv := range maxVectors {
		dAV = v4AV[c.m("AV")] - v4AV[extract("AV", mv)]
		dPR = v4PR[c.m("PR")] - v4PR[extract("PR", mv)]
		dUI = v4UI[c.m("UI")] - v4UI[extract("UI", mv)]
		dAC = v4AC[c.m("AC")] - v4AC[extract("AC", mv)]
		dAT = v4AT[c.m("AT")] - v4AT[extract("AT", mv)]
		dVC = v4VX[c.m("VC")] - v4VX[extract("VC", mv)]
		dVI = v4VX[c.m("VI")] - v4VX[extract("VI", mv)]
		dVA = v4VX[c.m("VA")] - v4VX[extract("VA", mv)]
		dSC = v4SC[c.m("SC")] - v4SC[extract("SC", mv)]
		dSI = v4SX[c.m("SI")] - v4SX[extract("SI", mv)]
		dSA = v4SX[c.m("SA")] - v4SX[extract("SA", mv)]
		dCR = v4RX[c.m("CR")] - v4RX[extract("CR", mv)]
		dIR = v4RX[c.m("IR")] - v4RX[extract("IR", mv)]
		dAR = v4RX[c.m("AR")] - v4RX[extract("AR", mv)]
		neg := false
		for _, d := range []float64{dAV, dPR, dUI, dAC, dAT, dVC, dVI, dVA, dSC, dSI, dSA, dCR, dIR, dAR} {
			if d < 0 {
				neg = true
				break
			}
		}
		if !neg {
			break
		}
	}
	curEQ1 := dAV + dPR + dUI
	curEQ2 := dAC + dAT
	curEQ36 := dVC + dVI + dVA + dCR + dIR + dAR
	curEQ4 := dSC + dSI + dSA

	const step = 0.1
	n := 0
	var sum float64
	if okEQ1 {
		n++
		sum += (value - scoreEQ1) * (curEQ1 / (maxSevEQ1[eq[0]] * step))
	}
	if okEQ2 {
		n++
		sum += (value - scoreEQ2) * (curEQ2 / (maxSevEQ2[eq[1]] * step))
	}
	if okEQ36 {
		n++
		sum += (value - scoreEQ36) * (curEQ36 / (maxSevEQ3_6[eq[2]][eq[5]] * step))
	}
	if okEQ4 {
		n++
		sum += (value - scoreEQ4) * (curEQ4 / (maxSevEQ4[eq[3]] * step))
	}
	if okEQ5 {
		// EQ5's proportion is always 0, but it counts in the mean.
		n++
	}
	if n > 0 {
		value -= sum / float64(n)
	}
	value = math.Max(0, math.Min(10, value))
	return math.Floor(value*10+0.5) / 10
}
