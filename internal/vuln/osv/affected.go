package osv

import (
	"fmt"
	"sort"
	"strings"

	"github.com/google/osv-scalibr/semantic"
)

// Version is a parsed version of one ecosystem.
type Version = semantic.Version

// ParseVersion parses a version under the rules of an ecosystem ("PyPI",
// "Debian:12", ...) for a range of type rangeType (SEMVER ranges always use
// SemVer 2.0). Go versions may carry a leading "v" or "go" (stdlib).
func ParseVersion(ecosystem, rangeType, v string) (ver Version, err error) {
	defer func() {
		// The parsers are exercised by fuzzing; this is a last guard so
		// that a hostile version string can never crash a scan.
		if r := recover(); r != nil {
			ver, err = nil, fmt.Errorf("%w: %q: %v", semantic.ErrInvalidVersion, v, r)
		}
	}()
	base, _ := SplitEcosystem(ecosystem)
	if base == "Go" {
		v = strings.TrimPrefix(v, "go")
	}
	if rangeType == RangeSemver {
		return semantic.ParseSemverVersion(v), nil
	}
	return semantic.Parse(v, base)
}

// Compare compares two versions of an ecosystem; ok is false when either
// does not parse.
func Compare(ecosystem, rangeType, a, b string) (c int, ok bool) {
	va, err := ParseVersion(ecosystem, rangeType, a)
	if err != nil {
		return 0, false
	}
	return compareStr(va, b)
}

func compareStr(v Version, s string) (c int, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			c, ok = 0, false
		}
	}()
	c, err := v.CompareStr(s)
	return c, err == nil
}

func compareVer(a, b Version) (c int, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			c, ok = 0, false
		}
	}()
	c, err := a.Compare(b)
	return c, err == nil
}

// eventVersion returns the version an event names.
func eventVersion(e Event) string {
	switch {
	case e.Introduced != "":
		return e.Introduced
	case e.Fixed != "":
		return e.Fixed
	case e.LastAffected != "":
		return e.LastAffected
	}
	return e.Limit
}

// SortEvents orders a range's events by version, as the OSV evaluation
// algorithm requires ("introduced: 0" first, "limit: *" last). It returns
// false and leaves the order unchanged if a version does not parse.
func SortEvents(ecosystem string, r *Range) bool {
	if r.Type == RangeGit || len(r.Events) < 2 {
		return true
	}
	type ev struct {
		e   Event
		v   Version
		key int // 0: introduced 0, 1: versioned, 2: limit *
	}
	evs := make([]ev, len(r.Events))
	for i, e := range r.Events {
		evs[i].e = e
		s := eventVersion(e)
		switch {
		case e.Introduced == "0":
			evs[i].key = 0
		case e.Limit == "*":
			evs[i].key = 2
		default:
			v, err := ParseVersion(ecosystem, r.Type, s)
			if err != nil {
				return false
			}
			evs[i].key, evs[i].v = 1, v
		}
	}
	failed := false
	sort.SliceStable(evs, func(i, j int) bool {
		if evs[i].key != evs[j].key {
			return evs[i].key < evs[j].key
		}
		if evs[i].key != 1 {
			return false
		}
		c, ok := compareVer(evs[i].v, evs[j].v)
		if !ok {
			failed = true
		}
		return c < 0
	})
	if failed {
		return false
	}
	for i := range evs {
		r.Events[i] = evs[i].e
	}
	return true
}

// Result is the outcome of evaluating one affected entry.
type Result struct {
	Affected bool
	// Fixed lists the fixed versions of the ranges the version falls in.
	Fixed []string
}

// Installed is a package version parsed once for all the affected
// entries it is evaluated against.
type Installed struct {
	ecosystem, raw string
	eco, sem       Version
	ecoErr, semErr error
	ecoDone        bool
	semDone        bool
}

// NewInstalled prepares version v of an ecosystem for Evaluate.
func NewInstalled(ecosystem, v string) *Installed {
	return &Installed{ecosystem: ecosystem, raw: v}
}

func (in *Installed) version(rangeType string) (Version, error) {
	if rangeType == RangeSemver {
		if !in.semDone {
			in.sem, in.semErr = ParseVersion(in.ecosystem, RangeSemver, in.raw)
			in.semDone = true
		}
		return in.sem, in.semErr
	}
	if !in.ecoDone {
		in.eco, in.ecoErr = ParseVersion(in.ecosystem, RangeEcosystem, in.raw)
		in.ecoDone = true
	}
	return in.eco, in.ecoErr
}

// Evaluate reports whether installed is affected by the ranges (events
// sorted, see SortEvents) and versions of one affected entry, following the
// OSV evaluation algorithm. Every ECOSYSTEM and SEMVER range is evaluated;
// GIT ranges are skipped (they do not end the evaluation). An error means
// the installed version does not parse under the ecosystem's rules.
func Evaluate(ecosystem, installed string, ranges []Range, versions []string) (Result, error) {
	return NewInstalled(ecosystem, installed).Evaluate(ranges, versions)
}

// Evaluate is the package-level Evaluate for a prepared version.
func (in *Installed) Evaluate(ranges []Range, versions []string) (Result, error) {
	var res Result
	hasRange := false
	for _, r := range ranges {
		if r.Type != RangeEcosystem && r.Type != RangeSemver {
			continue
		}
		v, err := in.version(r.Type)
		if err != nil {
			return res, err
		}
		hasRange = true
		affected, fixed := evalRange(v, r.Events)
		if affected {
			res.Affected = true
			if fixed != "" {
				res.Fixed = append(res.Fixed, fixed)
			}
		}
	}
	if res.Affected || len(versions) == 0 {
		return res, nil
	}
	for _, s := range versions {
		if s == in.raw {
			res.Affected = true
			return res, nil
		}
	}
	if hasRange {
		// Lists that come with ranges enumerate them; a semantic match
		// would already have been found by the ranges.
		return res, nil
	}
	v, err := in.version(RangeEcosystem)
	if err != nil {
		return res, err
	}
	for _, s := range versions {
		if c, ok := compareStr(v, s); ok && c == 0 {
			res.Affected = true
			return res, nil
		}
	}
	return res, nil
}

// evalRange runs the OSV algorithm over sorted events and returns whether v
// is inside, and the fixed version that closes the interval v is in.
func evalRange(v Version, events []Event) (bool, string) {
	affected := false
	fixed := ""
	var limits []string
	for i, e := range events {
		switch {
		case e.Introduced != "":
			if e.Introduced == "0" {
				affected = true
				fixed = nextFixed(events[i+1:])
				continue
			}
			if c, ok := compareStr(v, e.Introduced); ok && c >= 0 {
				affected = true
				fixed = nextFixed(events[i+1:])
			}
		case e.Fixed != "":
			if c, ok := compareStr(v, e.Fixed); ok && c >= 0 {
				affected = false
			}
		case e.LastAffected != "":
			if c, ok := compareStr(v, e.LastAffected); ok && c > 0 {
				affected = false
			}
		case e.Limit != "":
			limits = append(limits, e.Limit)
		}
	}
	if affected && len(limits) > 0 {
		under := false
		for _, l := range limits {
			if l == "*" {
				under = true
				break
			}
			if c, ok := compareStr(v, l); ok && c < 0 {
				under = true
				break
			}
		}
		affected = under
	}
	if !affected {
		return false, ""
	}
	return true, fixed
}

func nextFixed(events []Event) string {
	for _, e := range events {
		if e.Introduced != "" {
			return ""
		}
		if e.Fixed != "" {
			return e.Fixed
		}
	}
	return ""
}
