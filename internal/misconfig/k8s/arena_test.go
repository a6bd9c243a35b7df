package k8s

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestArena parses documents of growing size into one arena, resetting
// between them, and requires the trees ParseJSON builds; after Reset the
// reused nodes hold nothing of the previous document.
func TestArena(t *testing.T) {
	var a Arena
	for _, n := range []int{0, 1, 10, 300, 5000, 20000, 3, 700} {
		var b strings.Builder
		b.WriteString(`{"items":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"name":"n%d","v":[%d,true,null,"a:b,c"]}`, i, i)
		}
		b.WriteString(`]}`)
		data := []byte(b.String())
		want, err := ParseJSON("x.json", data, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseJSONIn(&a, "x.json", data, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%d items: arena tree differs", n)
		}
		a.Reset()
		if a.n != 0 {
			t.Fatal("chunks still handed out after Reset")
		}
		for _, c := range a.chunks {
			for j := range c {
				if !reflect.DeepEqual(c[j], yaml.Node{}) {
					t.Fatalf("%d items: node %d not zeroed after Reset: %+v", n, j, c[j])
				}
			}
		}
		if len(a.chunks) > arenaChunks {
			t.Fatalf("arena keeps %d chunks", len(a.chunks))
		}
	}
	// A parse error leaves the arena consistent.
	if _, err := ParseJSONIn(&a, "bad.json", []byte(`{"a":[1,2,`), Limits{}); err == nil {
		t.Fatal("bad JSON parsed")
	}
	a.Reset()
	for _, c := range a.chunks {
		for j := range c {
			if !reflect.DeepEqual(c[j], yaml.Node{}) {
				t.Fatal("node not zeroed after a failed parse")
			}
		}
	}
}
