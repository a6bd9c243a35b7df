package ignore

import "testing"

func TestPathSkip(t *testing.T) {
	s, err := NewPathSkip([]string{"node_modules", "vendor/**", "./build/out", "**/testdata"}, []string{"*.min.js", "config/secret.yaml", "**/*_test.go"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path      string
		dir, file bool
	}{
		{"node_modules", true, false},
		{"web/node_modules", true, false},
		{"web/node_modules/x/index.js", false, true},
		{"vendor/a/b", true, true},
		{"vendor/a/b/c.go", true, true},
		{"build/out", true, false},
		{"build/out/app", false, true},
		{"src/build/out/app", false, false},
		{"pkg/x/testdata/a.yaml", false, true},
		{"app.min.js", false, true},
		{"static/app.min.js", false, true},
		{"config/secret.yaml", false, true},
		{"other/config/secret.yaml", false, false},
		{"pkg/a_test.go", false, true},
		{"pkg/a.go", false, false},
		{"main.go", false, false},
		{".", false, false},
	} {
		if got := s.Dir(tc.path); got != tc.dir {
			t.Errorf("Dir(%q) = %v, want %v", tc.path, got, tc.dir)
		}
		if got := s.File(tc.path); got != tc.file {
			t.Errorf("File(%q) = %v, want %v", tc.path, got, tc.file)
		}
	}
	var none *PathSkip
	if none.Dir("a") || none.File("a/b") {
		t.Error("a nil PathSkip skips nothing")
	}
	if s, err := NewPathSkip(nil, nil); s != nil || err != nil {
		t.Errorf("empty: %v %v", s, err)
	}
	for _, bad := range [][]string{{"["}, {" "}} {
		if _, err := NewPathSkip(bad, nil); err == nil {
			t.Errorf("NewPathSkip(%q): want an error", bad)
		}
	}
}
