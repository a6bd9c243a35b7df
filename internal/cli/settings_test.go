package cli

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func testRoot() *Globals {
	return &Globals{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }, Now: time.Now}
}

func TestParseConfig(t *testing.T) {
	root := NewRoot(testRoot())
	fs := findCommand(root, "fs")
	vals, err := parseConfig("ward.yaml", []byte("format: json\nseverity: [HIGH, CRITICAL]\nfs:\n  rootfs: true\ndb update:\n  ecosystem: [Go]\n"), fs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range vals {
		got[v.key] = strings.Join(v.values, ",")
	}
	if got["format"] != "json" || got["severity"] != "HIGH,CRITICAL" || got["rootfs"] != "true" {
		t.Errorf("values for fs = %v", got)
	}
	if _, ok := got["ecosystem"]; ok {
		t.Error("a setting of another command applied to fs")
	}
}

func TestParseConfigErrors(t *testing.T) {
	root := NewRoot(testRoot())
	fs := findCommand(root, "fs")
	for in, want := range map[string]string{
		"colour: red\n":          `ward.yaml:1:1: unknown setting "colour"`,
		"nosuch:\n  format: x\n": `ward.yaml:1:1: unknown command section "nosuch"`,
		"- a\n":                  "ward.yaml:1:1: expected a mapping",
		"format: [json\n":        "ward.yaml:2: did not find expected",
		"severity: [[HIGH]]\n":   "list items must be scalars",
		"fs:\n  colour: red\n":   `ward.yaml:2:3: unknown setting "colour"`,
		"format: {a: b}\n":       `ward.yaml:1:1: unknown command section "format"`,
	} {
		if _, err := parseConfig("ward.yaml", []byte(in), fs); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseConfig(%q) = %v, want %q", in, err, want)
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("format: json\nseverity: [HIGH]\nfs:\n  rootfs: true\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("db update:\n  ecosystem: [Go, PyPI]\n"))
	root := NewRoot(testRoot())
	fs := findCommand(root, "fs")
	f.Fuzz(func(t *testing.T, data []byte) {
		vals, err := parseConfig("fuzz.yaml", data, fs)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		for _, v := range vals {
			if v.key == "" || v.line <= 0 {
				t.Fatalf("value without key or position: %+v", v)
			}
		}
	})
}
