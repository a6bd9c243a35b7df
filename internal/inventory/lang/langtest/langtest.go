// Package langtest runs language extractors over fixture files in tests:
// golden JSON comparison (regenerated with the test binary's -update flag),
// invariant checks and fuzz harnesses.
package langtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/pkg/sbom"
)

// Case is one fixture run through an extractor.
type Case struct {
	// File is relative to the package's testdata directory.
	File string
	// Path is the Input.Path given to the extractor (default: File).
	Path string
	// Mode of the file (default 0644; set 0755 for binaries).
	Mode fs.FileMode
	// WantErr, if set, must be a substring of the extraction error.
	WantErr string
	// WantNone asserts that no package is found.
	WantNone bool
	// Golden names testdata/golden/<Golden>.json (default: File with "/"
	// replaced by "_").
	Golden string
}

// Extract runs ex over testdata/file.
func Extract(t testing.TB, ex inventory.Extractor, file, inputPath string, mode fs.FileMode) ([]sbom.Package, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(file)))
	if err != nil {
		t.Fatal(err)
	}
	if mode == 0 {
		mode = 0o644
	}
	return ex.Extract(context.Background(), &inventory.Input{Path: inputPath, Reader: bytes.NewReader(data), Size: int64(len(data)), Mode: mode})
}

func extractStream(t testing.TB, ex inventory.Extractor, file, inputPath string, mode fs.FileMode) ([]sbom.Package, error) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(file)))
	if err != nil {
		t.Fatal(err)
	}
	return ex.Extract(context.Background(), &inventory.Input{Path: inputPath, Reader: io.MultiReader(bytes.NewReader(data)), Size: int64(len(data)), Mode: mode})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Run checks every case: Required accepts the path, extraction succeeds
// (or fails as wanted), invariants hold, and the output equals the golden
// file (rewritten when update is set).
func Run(t *testing.T, ex inventory.Extractor, cases []Case, update bool) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.File, func(t *testing.T) {
			p := c.Path
			if p == "" {
				p = c.File
			}
			mode := c.Mode
			if mode == 0 {
				mode = 0o644
			}
			if c.WantErr == "" && !ex.Required(p, mode) {
				t.Errorf("Required(%q) = false", p)
			}
			got, err := Extract(t, ex, c.File, p, mode)
			if c.WantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.WantErr) {
					t.Fatalf("error = %v, want containing %q", err, c.WantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			// The same bytes as a plain stream (no io.ReaderAt): extractors
			// that read files in place must buffer and agree.
			streamed, err := extractStream(t, ex, c.File, p, mode)
			if err != nil {
				t.Fatalf("Extract (stream): %v", err)
			}
			if a, b := mustJSON(t, got), mustJSON(t, streamed); !bytes.Equal(a, b) {
				t.Errorf("stream and random-access inputs disagree:\n%s", firstDiff(string(a), string(b)))
			}
			if c.WantNone {
				if len(got) != 0 {
					t.Fatalf("want no package, got %d: %+v", len(got), got[0])
				}
				return
			}
			if len(got) == 0 {
				t.Fatal("no package found")
			}
			CheckInvariants(t, got)
			g := c.Golden
			if g == "" {
				g = strings.ReplaceAll(c.File, "/", "_")
			}
			Golden(t, filepath.Join("testdata", "golden", g+".json"), got, update)
		})
	}
}

// CheckInvariants fails on packages missing what every package must have,
// on duplicate IDs and on dependency edges to unknown IDs.
func CheckInvariants(t testing.TB, pkgs []sbom.Package) {
	t.Helper()
	ids := map[string]bool{}
	for _, p := range pkgs {
		if p.ID == "" || p.Name == "" || p.Ecosystem == "" || p.PURL == "" || p.Path == "" {
			t.Errorf("incomplete package: %+v", p)
		}
		if ids[p.ID] {
			t.Errorf("duplicate ID %s (%s@%s)", p.ID, p.Name, p.Version)
		}
		ids[p.ID] = true
	}
	for _, p := range pkgs {
		for _, d := range p.DependsOn {
			if !ids[d] {
				t.Errorf("%s@%s depends on unknown ID %s", p.Name, p.Version, d)
			}
		}
	}
}

// Golden compares v, as indented JSON, with the file at path.
func Golden(t testing.TB, path string, v any, update bool) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run go test -update and review the diff):\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n- " + w + "\n+ " + g
		}
	}
	return ""
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// Fuzz seeds f with the given testdata files and checks that Extract never
// panics and that whatever it returns satisfies the invariants.
func Fuzz(f *testing.F, ex inventory.Extractor, inputPath string, mode fs.FileMode, seeds ...string) {
	for _, s := range seeds {
		data, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(s)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// A plain stream, so that size limits and buffering are exercised.
		pkgs, err := ex.Extract(context.Background(), &inventory.Input{Path: inputPath, Reader: io.MultiReader(bytes.NewReader(data)), Size: int64(len(data)), Mode: mode})
		if err != nil {
			if !strings.Contains(err.Error(), inputPath) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		CheckInvariants(t, pkgs)
	})
}
