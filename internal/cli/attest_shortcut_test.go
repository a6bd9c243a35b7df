package cli

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIsRegistryRef(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "app.tar")
	if err := os.WriteFile(local, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"alpine:3.20", true},
		{"registry:127.0.0.1:5000/team/app:1", true},
		{"ghcr.io/o/r@sha256:" + "0123456789012345678901234567890123456789012345678901234567890123", true},
		{local, false},
		{dir, false},
		{"oci:" + dir, false},
		{"docker-archive:x.tar", false},
		{"oci-archive:x.tar", false},
		{"dir:.", false},
		{"Not A Ref", false},
	} {
		if got := isRegistryRef(tc.in); got != tc.want {
			t.Errorf("isRegistryRef(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestSubjectRef(t *testing.T) {
	const d = "sha256:0123456789012345678901234567890123456789012345678901234567890123"
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:5000/team/app:1", "127.0.0.1:5000/team/app@" + d},
		{"registry:127.0.0.1:5000/team/app@sha256:" + "f" + d[8:], "127.0.0.1:5000/team/app@" + d},
		{"alpine", "index.docker.io/library/alpine@" + d},
	} {
		got, err := subjectRef(tc.in, d)
		if err != nil || got != tc.want {
			t.Errorf("subjectRef(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := subjectRef("alpine", ""); err == nil {
		t.Error("subjectRef without a digest: want an error")
	}
}
