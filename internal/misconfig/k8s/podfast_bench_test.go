package k8s

import (
	"os"
	"testing"
)

// BenchmarkDecodePod decodes a realistic two-container pod spec (probes,
// env, resources, volumes) for Pod Security: the fast path and the
// pruned encoding/json path it falls back to.
func BenchmarkDecodePod(b *testing.B) {
	data, err := os.ReadFile("testdata/bench/pod.json")
	if err != nil {
		b.Fatal(err)
	}
	root, err := ParseJSON("pod.json", data, Limits{})
	if err != nil {
		b.Fatal(err)
	}
	o := objectsOf("pod.json", Document{Root: root})[0]
	ps, _ := o.PodSpec()
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := decodePodFast(ps.Meta, ps.Node); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := decodePod(ps.Meta, ps.Node, 100000, true); err != nil {
				b.Fatal(err)
			}
		}
	})
}
