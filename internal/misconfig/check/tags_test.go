package check

import (
	"slices"
	"testing"

	"github.com/wardsec/ward/pkg/finding"
)

func TestFindingTags(t *testing.T) {
	m := Meta{ID: "WARD-TAGS-TEST", Mappings: []Mapping{{Framework: "k8s-cis", Control: "5.2.2"}, {Framework: "k8s-nsa", Control: "non-root"}}}
	want := []string{"k8s-cis:5.2.2", "k8s-nsa:non-root"}
	a := m.Finding("t", finding.Location{}, "msg", "a")
	b := m.Finding("t", finding.Location{}, "msg", "b")
	if !slices.Equal(a.Tags, want) || !slices.Equal(b.Tags, want) {
		t.Fatalf("tags %v %v, want %v", a.Tags, b.Tags, want)
	}
	// Findings share the cached slice: an append to one must not show in
	// the other.
	a.Tags = append(a.Tags, "custom")
	c := m.Finding("t", finding.Location{}, "msg", "c")
	if !slices.Equal(b.Tags, want) || !slices.Equal(c.Tags, want) {
		t.Errorf("an append to one finding's tags leaked: %v %v", b.Tags, c.Tags)
	}
	// The same ID with other mappings (a custom check) gets its own tags.
	other := Meta{ID: m.ID, Mappings: []Mapping{{Framework: "docker-cis", Control: "4.1"}}}
	if got := other.Finding("t", finding.Location{}, "msg", "d").Tags; !slices.Equal(got, []string{"docker-cis:4.1"}) {
		t.Errorf("other mappings: tags %v", got)
	}
	if got := m.Finding("t", finding.Location{}, "msg", "e").Tags; !slices.Equal(got, want) {
		t.Errorf("after the other mappings: tags %v, want %v", got, want)
	}
	if got := (&Meta{ID: "WARD-NO-MAPPINGS"}).Finding("t", finding.Location{}, "m", "x").Tags; got != nil {
		t.Errorf("no mappings: tags %v, want nil", got)
	}
}
