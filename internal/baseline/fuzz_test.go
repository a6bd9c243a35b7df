package baseline

import (
	"bytes"
	"os"
	"testing"
)

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/web.profile.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("apiVersion: ward.dev/baseline/v1\nkind: WorkloadProfile\nidentity: {image: a}\n"))
	f.Add([]byte("a: [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", bytes.NewReader(data))
		if err != nil {
			return
		}
		out, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		q, err := Parse("again.yaml", bytes.NewReader(out))
		if err != nil {
			t.Fatalf("marshalled profile does not parse: %v\n%s", err, out)
		}
		again, _ := q.Marshal()
		if !bytes.Equal(out, again) {
			t.Fatalf("not stable:\n%s\n---\n%s", out, again)
		}
		for _, s := range append(append([]string(nil), p.Files.Read...), p.Files.Write...) {
			_ = Collapse(s)
		}
	})
}

func FuzzCollapse(f *testing.F) {
	f.Add("/proc/123/fd/4")
	f.Add("/tmp/a/b/c/d/e/f")
	f.Fuzz(func(t *testing.T, s string) {
		c := Collapse(s)
		if c != "" && Collapse(c) != c {
			t.Fatalf("Collapse(%q)=%q, again %q", s, c, Collapse(c))
		}
	})
}
