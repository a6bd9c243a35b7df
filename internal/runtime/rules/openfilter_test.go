package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
)

func TestOpenFilter(t *testing.T) {
	rule := func(name, cond string) string {
		return "- rule: " + name + "\n  desc: d\n  condition: " + cond + "\n  output: o\n  priority: INFO\n"
	}
	macros := "- macro: etc_dir\n  condition: fd.name startswith /etc/\n" +
		"- list: logs\n  items: [syslog, auth.log]\n"
	for _, tc := range []struct {
		name     string
		rules    string
		all      string // the rule named as the reason, when All
		prefixes string
		suffixes string
	}{
		{"prefix", rule("A", "evt.type=openat and fd.name startswith /etc/"), "", "/etc/", ""},
		{"equal and filename", macros + rule("A", "evt.type in (open, openat) and (fd.name=/a/b or fd.filename in (logs))"), "", "/a/b", "/auth.log /syslog"},
		{"endswith", rule("A", "evt.type=openat and fd.name endswith release_agent"), "", "", "release_agent"},
		{"directory", rule("A", "evt.type=openat and fd.directory in (/etc/pam.d, /var/log/)"), "", "/etc/pam.d/ /var/log/", ""},
		{"directory pmatch", rule("A", "evt.type=openat and fd.directory pmatch (/bin, /usr/lib/systemd/system/)"), "", "/bin/ /usr/lib/systemd/system/", ""},
		{"directory startswith", rule("A", "evt.type=openat and fd.directory startswith /opt/ap"), "", "/opt/ap", ""},
		{"directory pmatch relative", rule("A", "evt.type=openat and fd.directory pmatch (bin)"), "A", "", ""},
		{"directory contains", rule("A", "evt.type=openat and fd.directory contains bin"), "A", "", ""},
		{"glob", rule("A", "evt.type=openat and fd.name glob '/home/*/.ssh/*'"), "", "/home/", ""},
		{"glob with a leading wildcard", rule("A", "evt.type=openat and fd.name glob '*/.ssh/*'"), "A", "", ""},
		{"macro", macros + rule("A", "evt.type=openat and etc_dir"), "", "/etc/", ""},
		{"and picks the narrowest side", rule("A", "evt.type=openat and fd.name contains id_rsa and fd.name startswith /root/"), "", "/root/", ""},
		{"traversal needs no pattern", rule("A", "evt.type=openat and (fd.name startswith /etc/ or fd.name contains id_rsa) and fd.nameraw contains '../'"), "", "", ""},
		{"no path condition", rule("A", "evt.type=openat and proc.name=cat"), "A", "", ""},
		{"or with an unconstrained side", rule("A", "evt.type=openat and (fd.name startswith /etc/ or proc.name=cat)"), "A", "", ""},
		{"negation", rule("A", "evt.type=openat and not fd.name startswith /tmp/"), "A", "", ""},
		{"transformer", rule("A", "evt.type=openat and tolower(fd.name) startswith /etc/"), "A", "", ""},
		{"relative value", rule("A", "evt.type=openat and fd.name startswith etc/"), "A", "", ""},
		{"every event type", rule("A", "fd.name startswith /etc/"), "A", "", ""},
		{"fd table on another event", rule("A", "evt.type=read and fd.name=/etc/x"), "A", "", ""},
		{"stdout of a process", rule("A", "evt.type=execve and proc.stdout.type=file"), "A", "", ""},
		{"sockets only", rule("A", "evt.type in (dup, dup2) and fd.type in (ipv4, ipv6)") + rule("B", "evt.type=connect and (fd.typechar=4 or fd.typechar=6) and fd.sport=22"), "", "", ""},
		{"file fd on connect", rule("A", "evt.type=connect and fd.typechar in (f, 4)"), "A", "", ""},
		{"no open rule", rule("A", "evt.type=execve and proc.name=nc"), "", "", ""},
		{"union", rule("A", "evt.type=openat and fd.name startswith /etc/") + rule("B", "evt.type=open and fd.name endswith .pem"), "", "/etc/", ".pem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eng, err := LoadSources([]Source{{Name: "t.yaml", Data: []byte(tc.rules)}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			f := eng.OpenFilter()
			if tc.all != "" {
				if !f.All || f.Why != tc.all {
					t.Errorf("OpenFilter = %+v, want All because of %s", f, tc.all)
				}
				return
			}
			if f.All {
				t.Fatalf("OpenFilter = All because of %q", f.Why)
			}
			if got := strings.Join(f.Prefixes, " "); got != tc.prefixes {
				t.Errorf("prefixes = %q, want %q", got, tc.prefixes)
			}
			if got := strings.Join(f.Suffixes, " "); got != tc.suffixes {
				t.Errorf("suffixes = %q, want %q", got, tc.suffixes)
			}
		})
	}
}

// TestOpenFilterStable: Falco's stable rules leave a filter that keeps
// sensitive files, logs and release_agent, and drops e.g. /etc/hostname.
func TestOpenFilterStable(t *testing.T) {
	p := filepath.Join(sharedDir(t), "data", "falco-rules", "falco_rules.yaml")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("Falco stable rules: %v", err)
	}
	eng, err := Load([]string{p}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := eng.OpenFilter()
	if f.All {
		t.Fatalf("stable rules: no filter because of %q", f.Why)
	}
	has := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, p := range []string{"/etc/shadow", "/etc/sudoers.d/", "/etc/pam.d/", "/var/log/"} {
		if !has(f.Prefixes, p) {
			t.Errorf("prefix %s missing from %q", p, f.Prefixes)
		}
	}
	if !has(f.Suffixes, "release_agent") || !has(f.Suffixes, "/auth.log") {
		t.Errorf("suffixes = %q", f.Suffixes)
	}
	for _, p := range f.Prefixes {
		if strings.HasPrefix("/etc/hostname", p) {
			t.Errorf("prefix %s keeps /etc/hostname", p)
		}
	}
}

// TestOpenFilterKeeps: the model of the kernel's decision, case by case.
func TestOpenFilterKeeps(t *testing.T) {
	f := OpenFilter{Prefixes: []string{"/etc/shadow", "/bin/", "/dev/"}, Suffixes: []string{"/.bash_history", "z"}}
	for _, tc := range []struct {
		path  string
		flags uint32
		want  bool
	}{
		{"/etc/shadow", 0, true},
		{"/etc/shadow-", 0, true},
		{"/etc", 0, true},      // a directory on the way to /etc/shadow
		{"/bin", 0, true},      // on the way to /bin/
		{"/etc/sha", 0, false}, // a prefix of a pattern, but not at a '/'
		{"/binx/ls", 0, false},
		{"/etc/hostname", 0, false},
		{"/etc/hostname", event.ODirectory, true},
		{"/etc/hostname", event.OPath, true},
		{"/root/.bash_history", event.OWronly, true},
		{"/root/x.bash_history", 0, false},
		{"/tmp/endsinz", 0, true},
		{"/etc/./hostname", 0, true}, // not canonical
		{"/etc//hostname", 0, true},
		{"/etc/hostname/", 0, true},
		{"hostname", 0, true}, // relative
		{"", 0, true},
	} {
		if got := f.Keeps(tc.path, tc.flags); got != tc.want {
			t.Errorf("Keeps(%q, %#x) = %v, want %v", tc.path, tc.flags, got, tc.want)
		}
	}
	if !(OpenFilter{All: true}).Keeps("/etc/hostname", 0) {
		t.Error("All keeps nothing")
	}
}

// TestOpenFilterDefaults: Ward's default rules leave a filter, so the
// kernel drops the opens of ordinary files (the sensor's common case).
func TestOpenFilterDefaults(t *testing.T) {
	f := loadDefaults(t).OpenFilter()
	if f.All {
		t.Fatalf("default rules: no filter because of %q", f.Why)
	}
	for _, p := range []string{"/etc/hostname", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/proc/self/status", "/tmp/build/main.go"} {
		if f.Keeps(p, 0) {
			t.Errorf("the default filter keeps %s: %+v", p, f)
		}
	}
	for _, p := range []string{"/usr/bin/sudo", "/root/.kube/config", "/home/u/.aws/credentials", "/root/.bash_history"} {
		if !f.Keeps(p, event.OWronly) {
			t.Errorf("the default filter drops %s: %+v", p, f)
		}
	}
}
