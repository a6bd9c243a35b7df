package benchmark

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestShippedControls(t *testing.T) {
	cs, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	automated := 0
	perBench := map[string]int{}
	seen := map[string]bool{}
	for _, c := range cs {
		if seen[c.ID] {
			t.Errorf("duplicate ID %s", c.ID)
		}
		seen[c.ID] = true
		perBench[c.Benchmark]++
		if c.Probe.Type != ProbeManual {
			automated++
		}
		prefix := map[string]string{BenchLinux: "LNX-", BenchDocker: "DKR-", BenchK8sNode: "KN-", BenchK8sControlPlane: "KCP-"}[c.Benchmark]
		if !strings.HasPrefix(c.ID, prefix) {
			t.Errorf("%s: benchmark %s wants prefix %s", c.ID, c.Benchmark, prefix)
		}
		if c.SectionTitle == "" || c.Pos.Line == 0 {
			t.Errorf("%s: missing section title or position", c.ID)
		}
	}
	if automated < 120 {
		t.Errorf("%d automated controls, want at least 120", automated)
	}
	for _, b := range Benchmarks() {
		if perBench[b] == 0 {
			t.Errorf("benchmark %s has no controls", b)
		}
	}
	// Every probe type except manual is used by a shipped control or the
	// fixture controls (which cover every type with fire/pass fixtures).
	fixtures, err := LoadFS(os.DirFS("testdata"), "controls")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, c := range fixtures {
		covered[c.Probe.Type] = true
	}
	for _, typ := range ProbeTypes() {
		if typ != ProbeManual && !covered[typ] {
			t.Errorf("probe type %s has no fire/pass fixture control", typ)
		}
	}
}

func TestParseErrors(t *testing.T) {
	head := "benchmark: linux\ntitle: t\nsections:\n  - {id: \"1\", title: s}\ncontrols:\n"
	ctl := func(extra string) string {
		return head + "  - id: LNX-1-X\n    title: t\n    section: \"1\"\n    severity: LOW\n    rationale: r\n    remediation: m\n" + extra
	}
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "empty control file"},
		{"not a mapping", "- a\n", "1:1: a control file is a YAML mapping"},
		{"unknown benchmark", "benchmark: windows\ntitle: t\n", `unknown benchmark "windows"`},
		{"unknown top field", head + "extra: 1\n", `6:1: unknown control file field "extra"`},
		{"unknown probe field", ctl("    probe: {type: sshd, key: X, op: eq, value: y, bogus: 1}\n"), `unknown probe field "bogus"`},
		{"unknown probe type", ctl("    probe: {type: shell, path: /x}\n"), `unknown probe type "shell"`},
		{"bad op", ctl("    probe: {type: sshd, key: X, op: approx, value: y}\n"), `unknown op "approx"`},
		{"bad regex", ctl("    probe: {type: sshd, key: X, op: regex, value: \"(\"}\n"), "op regex"},
		{"numeric op", ctl("    probe: {type: sshd, key: X, op: ge, value: many}\n"), "numeric value"},
		{"relative path", ctl("    probe: {type: file, path: etc/passwd, max_mode: \"0644\"}\n"), "must be absolute"},
		{"bad mode", ctl("    probe: {type: file, path: /etc/passwd, max_mode: \"0999\"}\n"), "not an octal mode"},
		{"manual needs guidance", ctl("    probe: {type: manual}\n"), "needs guidance"},
		{"unknown component", ctl("    applies: {components: [windows]}\n    probe: {type: manual}\n"), `unknown component "windows"`},
		{"undeclared section", strings.Replace(ctl("    probe: {type: manual}\n"), "section: \"1\"", "section: \"2\"", 1), `section "2" is not declared`},
		{"bad severity", strings.Replace(ctl("    probe: {type: manual}\n"), "severity: LOW", "severity: SEVERE", 1), "unknown severity"},
		{"bad id", strings.Replace(ctl("    probe: {type: manual}\n"), "LNX-1-X", "lnx_1", 1), "invalid ID"},
		{"alias", head + "  - &a {id: LNX-1-A}\n  - *a\n", "aliases are not allowed"},
		{"two documents", head + "---\nx: 1\n", "more than one YAML document"},
		{"duplicate field", ctl("    probe: {type: manual}\n    probe: {type: manual}\n"), `duplicate control field "probe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "f.yaml") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	dup := ctl("    probe: {type: sshd, key: X, op: set}\n") + "  - {id: LNX-1-X, title: t, section: \"1\", severity: LOW, rationale: r, remediation: m, probe: {type: sshd, key: X, op: set}}\n"
	if _, err := Parse("f.yaml", []byte(dup)); err == nil || !strings.Contains(err.Error(), "duplicate control ID") {
		t.Errorf("duplicate ID: err = %v", err)
	}
}

func TestRunOptions(t *testing.T) {
	cs := loadTestControls(t)
	ctx := context.Background()
	if _, err := Run(ctx, cs, Options{}); err == nil {
		t.Error("offline run without rootfs accepted")
	}
	if _, err := Run(ctx, cs, Options{Rootfs: t.TempDir(), Live: true}); err == nil {
		t.Error("live run with a rootfs accepted")
	}
	if _, err := Run(ctx, cs, Options{Rootfs: t.TempDir(), Benchmarks: []string{"windows"}}); err == nil {
		t.Error("unknown benchmark accepted")
	}
	if _, err := Run(ctx, cs, Options{Rootfs: t.TempDir(), ControlIDs: []string{"NOPE-1"}}); err == nil {
		t.Error("unknown control accepted")
	}
	rep, err := Run(ctx, cs, Options{Rootfs: t.TempDir(), ControlIDs: []string{"T-SSHD-ROOT", "T-FILE-SHADOW"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 {
		t.Fatalf("%d results, want 2", len(rep.Results))
	}
	// Absent components and files make controls not applicable, not failed.
	for _, r := range rep.Results {
		if r.Status != "not_applicable" {
			t.Errorf("%s: %s on an empty root, want not_applicable", r.Control.ID, r.Status)
		}
	}
}

// TestRootNoEscape checks that symlinks never lead out of the root: an
// absolute link is re-rooted, ".." stops at the root.
func TestRootNoEscape(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("PermitRootLogin yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"etc/ssh/real": "PermitRootLogin no\n", "etc/x/inside": "ok\n"})
	links := map[string]string{
		"etc/abs":             filepath.Join(outside, "secret"),               // absolute: re-rooted, does not exist inside
		"etc/dotdot":          "../../../../../../" + outside[1:] + "/secret", // climbs: clamped at the root
		"etc/ssh/sshd_config": "/etc/ssh/real",                                // absolute inside: followed inside the root
		"etc/loop":            "loop",
		"etc/dirlink":         "/etc/x",
	}
	for l, target := range links {
		if err := os.Symlink(target, filepath.Join(root, l)); err != nil {
			t.Fatal(err)
		}
	}
	r, err := openRoot(root, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	for _, p := range []string{"/etc/abs", "/etc/dotdot", "../../" + outside + "/secret"} {
		if data, err := r.readFile(p); err == nil {
			t.Errorf("%s: read %q from outside the root", p, data)
		}
	}
	if data, err := r.readFile("/etc/ssh/sshd_config"); err != nil || string(data) != "PermitRootLogin no\n" {
		t.Errorf("in-root absolute link: %q %v", data, err)
	}
	if data, err := r.readFile("/etc/dirlink/inside"); err != nil || string(data) != "ok\n" {
		t.Errorf("directory link: %q %v", data, err)
	}
	if _, err := r.readFile("/etc/loop"); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("loop: %v", err)
	}
	// A full run over the root never reports the outside file.
	cs := loadTestControls(t)
	rep, err := Run(context.Background(), cs, Options{Rootfs: root, ControlIDs: []string{"T-SSHD-ROOT", "T-WALK-WW"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results {
		if res.Status == "fail" {
			t.Errorf("%s failed: %q (read outside the root?)", res.Control.ID, res.Actual)
		}
	}
}

func TestOversizedAndLongLines(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"etc/ssh/sshd_config": strings.Repeat("x", maxLineLength+10) + "\n",
		"etc/login.defs":      strings.Repeat("# pad\n", maxConfigFileSize/6+10),
	})
	r, _ := openRoot(root, false)
	defer r.close()
	if _, err := parseSSHD(r, "/etc/ssh/sshd_config"); err == nil || !strings.Contains(err.Error(), "sshd_config:1") {
		t.Errorf("long line: %v", err)
	}
	if _, err := r.readFile("/etc/login.defs"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("big file: %v", err)
	}
	cs := loadTestControls(t)
	rep, err := Run(context.Background(), cs, Options{Rootfs: root, ControlIDs: []string{"T-SSHD-ROOT", "T-LOGINDEFS"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range rep.Results {
		if res.Status != "error" {
			t.Errorf("%s: %s, want error", res.Control.ID, res.Status)
		}
	}
	if errs := rep.Errors("t"); len(errs) != 2 {
		t.Errorf("Errors() = %v", errs)
	}
}

// TestFIFONeverOpened plants FIFOs where config files are expected: the
// audit must not block on them.
func TestFIFONeverOpened(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"etc/os-release": "ID=debian\n"})
	for _, p := range []string{"etc/login.defs", "etc/passwd", "etc/ssh/sshd_config"} {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := syscallMkfifo(full); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	done := make(chan *Report, 1)
	go func() {
		rep, err := Run(context.Background(), loadTestControls(t), Options{Rootfs: root})
		if err != nil {
			t.Error(err)
		}
		done <- rep
	}()
	select {
	case rep := <-done:
		for _, r := range rep.Results {
			if r.Control.ID == "T-LOGINDEFS" && r.Status != "error" {
				t.Errorf("login.defs FIFO: %s %q", r.Status, r.Actual)
			}
		}
	case <-time.After(20 * time.Second):
		t.Fatal("audit blocked on a FIFO")
	}
}
