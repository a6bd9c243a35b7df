package db

import (
	"reflect"
	"testing"

	"github.com/wardsec/ward/internal/vuln/osv"
)

func TestEntryRoundTrip(t *testing.T) {
	e := Entry{ID: "X-1", Ecosystem: "Debian:12", Name: "openssl",
		Ranges: []osv.Range{
			{Type: osv.RangeEcosystem, Events: []osv.Event{{Introduced: "0"}, {Fixed: "1.0"}, {Introduced: "2.0"}, {LastAffected: "2.5"}}},
			{Type: osv.RangeSemver, Events: []osv.Event{{Introduced: "1.0.0"}, {Limit: "*"}}},
		},
		Versions: []string{"0.9", "1.0rc1"}, Severity: "high", SeveritySource: "ecosystem_specific"}
	got, err := decodeEntry(encodeEntry(&e))
	if err != nil {
		t.Fatal(err)
	}
	if got.NumVersions != 2 || !got.HasVersion("1.0rc1") || got.HasVersion("1.0") {
		t.Errorf("versions: %+v", got)
	}
	got.LoadVersions()
	got.rawVersions, got.NumVersions = nil, 0
	if !reflect.DeepEqual(got, e) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, e)
	}
	a := &Advisory{ID: "X-1", Aliases: []string{"CVE-1"}, Summary: "s", Details: "d", Severity: []osv.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N"}}, DatabaseSeverity: "HIGH", References: []string{"u"}}
	ga, err := decodeAdvisory(encodeAdvisory(a))
	if err != nil || !reflect.DeepEqual(ga, a) {
		t.Errorf("advisory round trip: %+v, %v", ga, err)
	}
	for _, bad := range [][]byte{nil, {9}, {1, 200}, {1, 1, 'x'}} {
		if _, err := decodeEntry(bad); err == nil {
			t.Errorf("decodeEntry(%v): want error", bad)
		}
	}
}

// FuzzDecode feeds corrupt store values to the decoders: they must return
// an error, never panic or allocate without bound.
func FuzzDecode(f *testing.F) {
	e := Entry{ID: "X", Ecosystem: "PyPI", Name: "a", Ranges: []osv.Range{{Type: osv.RangeEcosystem, Events: []osv.Event{{Introduced: "0"}, {Fixed: "1"}}}}, Versions: []string{"0.5"}}
	f.Add(encodeEntry(&e))
	f.Add(encodeAdvisory(&Advisory{ID: "X", Aliases: []string{"Y"}, Severity: []osv.Severity{{Type: "Ubuntu", Score: "low"}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := decodeEntry(b); err == nil {
			e.HasVersion("1")
			e.LoadVersions()
		}
		_, _ = decodeAdvisory(b)
	})
}
