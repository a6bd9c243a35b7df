package langutil

import (
	"strings"
	"testing"
)

func TestCheckTOMLDepth(t *testing.T) {
	ok := []string{
		"[[package]]\nname = \"a\"\ndependencies = [\n { name = \"b\", marker = \"x == '[['\" },\n]\n",
		"a = \"\"\"\n[[[[[[[[[[\n\"\"\"\n# [[[[[[[[[[[[\nb = '{{{{{{{{{'",
		"a = [[[1]]]",
	}
	for _, s := range ok {
		if _, err := CheckTOMLDepth([]byte(s), 5); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	bad := "x = 1\na = " + strings.Repeat("{b=", 10)
	if line, err := CheckTOMLDepth([]byte(bad), 5); err == nil || line != 2 {
		t.Errorf("deep inline tables: line %d, %v", line, err)
	}
	if _, err := CheckTOMLDepth([]byte("a = "+strings.Repeat("[", 1<<20)), MaxTOMLDepth); err == nil {
		t.Error("deep arrays accepted")
	}
}

func FuzzCheckTOMLDepth(f *testing.F) {
	f.Add([]byte("a = [{b = \"[\"}]\n# {\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = CheckTOMLDepth(data, 8)
	})
}
