package benchmark

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSSHDParse(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		key   string
		want  string
		line  int
		file  string
		match []string
	}{
		{name: "first value wins", files: map[string]string{"etc/ssh/sshd_config": "PermitRootLogin no\nPermitRootLogin yes\n"},
			key: "permitrootlogin", want: "no", line: 1, file: "etc/ssh/sshd_config"},
		{name: "keywords are case-insensitive, = separator", files: map[string]string{"etc/ssh/sshd_config": "# c\nPERMITROOTLOGIN=yes\n"},
			key: "PermitRootLogin", want: "yes", line: 2, file: "etc/ssh/sshd_config"},
		{name: "include expands in place, relative to /etc/ssh", files: map[string]string{
			"etc/ssh/sshd_config":             "X11Forwarding no\nInclude conf.d/*.conf\nMaxAuthTries 6\n",
			"etc/ssh/conf.d/b.conf":           "MaxAuthTries 2\n",
			"etc/ssh/conf.d/a.conf":           "MaxAuthTries 3\nX11Forwarding yes\n",
			"etc/ssh/conf.d/ignored.conf.bak": "MaxAuthTries 1\n"},
			key: "MaxAuthTries", want: "3", line: 1, file: "etc/ssh/conf.d/a.conf"},
		{name: "match block does not set the global value", files: map[string]string{
			"etc/ssh/sshd_config": "Match User bob\n  PasswordAuthentication yes\nMatch all\nPasswordAuthentication no\n"},
			key: "PasswordAuthentication", want: "no", line: 4, file: "etc/ssh/sshd_config", match: []string{"User bob"}},
		{name: "match in an included file ends with the file", files: map[string]string{
			"etc/ssh/sshd_config": "Include /etc/ssh/d/*.conf\nPermitTTY no\n",
			"etc/ssh/d/x.conf":    "Match Group admins\nPermitTTY yes\n"},
			key: "PermitTTY", want: "no", line: 2, file: "etc/ssh/sshd_config", match: []string{"Group admins"}},
		{name: "quoted value and trailing comment", files: map[string]string{"etc/ssh/sshd_config": "Banner \"/etc/issue net\"\nLogLevel INFO # comment\n"},
			key: "LogLevel", want: "INFO", line: 2, file: "etc/ssh/sshd_config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tt.files)
			r, err := openRoot(dir, false)
			if err != nil {
				t.Fatal(err)
			}
			defer r.close()
			cfg, err := parseSSHD(r, "/etc/ssh/sshd_config")
			if err != nil {
				t.Fatal(err)
			}
			e, ok := cfg.Global(tt.key)
			if !ok || e.Value != tt.want || e.Line != tt.line || e.File != tt.file {
				t.Errorf("Global(%s) = %+v, %v; want %q at %s:%d", tt.key, e, ok, tt.want, tt.file, tt.line)
			}
			var got []string
			for _, m := range cfg.Matched(tt.key) {
				got = append(got, m.Match)
			}
			if strings.Join(got, "|") != strings.Join(tt.match, "|") {
				t.Errorf("Matched = %q, want %q", got, tt.match)
			}
		})
	}
}

func TestSSHDIncludeLoopBounded(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\n"})
	r, _ := openRoot(dir, false)
	defer r.close()
	if _, err := parseSSHD(r, "/etc/ssh/sshd_config"); err == nil || !strings.Contains(err.Error(), "Include nested") {
		t.Fatalf("err = %v, want nesting error", err)
	}
}

func TestSysctlPrecedence(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"usr/lib/sysctl.d/10-a.conf": "kernel.a = 1\nkernel.b = 1\n",
		"etc/sysctl.d/10-a.conf":     "kernel.a = 2\n", // masks the /usr/lib file of the same name
		"run/sysctl.d/20-b.conf":     "kernel/b = 3\n",
		"lib/sysctl.d/30-c.conf":     "net.ipv4.conf.*.rp_filter = 1\n",
		"etc/sysctl.d/40-c.conf":     "net.ipv4.conf.eth0.rp_filter = 0\n",
		"etc/sysctl.d/README":        "kernel.a = 9\n",
		"etc/sysctl.conf":            "; comment\n-kernel.c = 7\n",
	})
	r, _ := openRoot(dir, false)
	defer r.close()
	var all []setting
	for _, f := range sysctlFiles(r) {
		data, err := r.readFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := parseSysctlText(f, data)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s...)
	}
	for key, want := range map[string]string{"kernel.a": "2", "kernel.b": "3", "kernel.c": "7",
		"net.ipv4.conf.all.rp_filter": "1", "net.ipv4.conf.eth0.rp_filter": "0"} {
		s, ok := sysctlLookup(all, key)
		if !ok || s.Value != want {
			t.Errorf("%s = %q (%v) from %s, want %q", key, s.Value, ok, s.File, want)
		}
	}
	if _, err := parseSysctlText("x", []byte("no equals sign\n")); err == nil || !strings.Contains(err.Error(), "x:1:") {
		t.Errorf("bad line error = %v", err)
	}
}

func TestFstabParse(t *testing.T) {
	ms, err := parseMounts("fstab", []byte("# c\nUUID=1 / ext4 defaults 0 1\n/dev/sdb1 /mnt/my\\040disk ext4 nodev,noexec 0 2\nproc /proc proc\n"))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := findMount(ms, "/mnt/my disk")
	if !ok || m.Line != 3 || strings.Join(m.Options, ",") != "nodev,noexec" {
		t.Fatalf("findMount = %+v %v", m, ok)
	}
	if _, err := parseMounts("fstab", []byte("onlyone\n")); err == nil || !strings.Contains(err.Error(), "fstab:1:") {
		t.Errorf("err = %v", err)
	}
}

func TestLoginDefsAndKeyValue(t *testing.T) {
	s, err := parseKeyValue("login.defs", []byte("PASS_MAX_DAYS 99999\n#PASS_MAX_DAYS 1\nUMASK\t\t027\nPASS_MAX_DAYS 60 # last wins\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := lastSetting(s, "PASS_MAX_DAYS", false); !ok || v.Value != "60" || v.Line != 4 {
		t.Errorf("PASS_MAX_DAYS = %+v", v)
	}
	if v, ok := lastSetting(s, "UMASK", false); !ok || v.Value != "027" {
		t.Errorf("UMASK = %+v", v)
	}
	s, _ = parseKeyValue("journald.conf", []byte("[Journal]\nStorage=persistent\n"), "=")
	if v, ok := lastSetting(s, "storage", true); !ok || v.Value != "persistent" {
		t.Errorf("Storage = %+v", v)
	}
}

func TestPAMParse(t *testing.T) {
	lines, err := parsePAMText("common-auth", []byte("auth [success=1 default=ignore] pam_unix.so nullok\n-auth optional /lib/security/pam_faillock.so authfail \\\n  deny=5\n@include common-account\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[0].Control != "[success=1 default=ignore]" || lines[1].Module != "pam_faillock.so" || lines[1].Type != "auth" {
		t.Fatalf("lines = %+v", lines)
	}
	if v, ok := pamArg(lines[1].Args, "deny"); !ok || v != "5" {
		t.Errorf("deny = %q %v", v, ok)
	}
	if _, ok := pamArg(lines[0].Args, "nullok"); !ok {
		t.Error("nullok not found")
	}
	if lines[2].Type != "@include" || lines[2].Module != "common-account" {
		t.Errorf("include = %+v", lines[2])
	}
}

func TestModprobeParse(t *testing.T) {
	rules := map[string]*modprobeRule{}
	if err := parseModprobe("a.conf", []byte("install usb-storage /bin/false\nblacklist cramfs\ninstall usb_storage /bin/sh -c 'modprobe x'\n"), rules); err != nil {
		t.Fatal(err)
	}
	if r := rules["usb_storage"]; r == nil || !installDisables(r.Install) || r.InstallLine != 1 {
		t.Errorf("usb_storage = %+v (first install wins, dashes equal underscores)", r)
	}
	if r := rules["cramfs"]; r == nil || !r.Blacklisted || r.InstallFile != "" {
		t.Errorf("cramfs = %+v", r)
	}
}

func TestFlagValue(t *testing.T) {
	args := []string{"--a=1", "--b", "two", "--c", "--d=x", "--d=y", "-H", "tcp://0.0.0.0:2375"}
	for name, want := range map[string]string{"--a": "1", "b": "two", "c": "true", "d": "y", "-H": "tcp://0.0.0.0:2375"} {
		if v, _, ok := flagValue(args, name); !ok || v != want {
			t.Errorf("%s = %q %v, want %q", name, v, ok, want)
		}
	}
	if _, _, ok := flagValue(args, "missing"); ok {
		t.Error("missing flag found")
	}
}

func TestProcNet(t *testing.T) {
	data := "  sl  local_address rem_address   st\n" +
		"   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n" +
		"   1: 0100007F:0017 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n"
	ls, err := parseProcNet("tcp", data)
	if err != nil || len(ls) != 1 || ls[0].Port != 22 || ls[0].Addr != "0.0.0.0" {
		t.Fatalf("tcp = %+v %v", ls, err)
	}
	data6 := "  sl  local_address\n   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 0 0 0 0 0 5 1\n"
	ls, err = parseProcNet("tcp6", data6)
	if err != nil || len(ls) != 1 || ls[0].Addr != "0:0:0:0:0:0:0:1" || ls[0].Port != 8080 {
		t.Fatalf("tcp6 = %+v %v", ls, err)
	}
}

func TestDpkgStatus(t *testing.T) {
	pk, err := parseDpkgStatus("status", []byte("Package: a\nStatus: install ok installed\nVersion: 1\nDescription: x\n continued\n\nPackage: b\nStatus: deinstall ok config-files\n"))
	if err != nil || len(pk) != 1 || pk[0].Name != "a" || pk[0].Version != "1" {
		t.Fatalf("%+v %v", pk, err)
	}
}

func TestVersionAtLeast(t *testing.T) {
	for _, tt := range []struct {
		have, want string
		ok         bool
	}{{"6.1.0-18-amd64", "5.10", true}, {"5.10.0", "5.10", true}, {"4.19.0-old", "5.10", false}, {"5.4", "5.10", false}} {
		if got := versionAtLeast(tt.have, tt.want); got != tt.ok {
			t.Errorf("versionAtLeast(%s, %s) = %v", tt.have, tt.want, got)
		}
	}
}

func TestSSHDListValue(t *testing.T) {
	def := "aes128-ctr,aes256-ctr,umac-64@openssh.com"
	for v, want := range map[string]string{
		"aes256-gcm@openssh.com": "aes256-gcm@openssh.com",
		"+aes128-cbc":            def + ",aes128-cbc",
		"^3des-cbc":              "3des-cbc," + def,
		"-umac-64*":              "aes128-ctr,aes256-ctr",
	} {
		if got := sshdListValue(v, def); got != want {
			t.Errorf("sshdListValue(%q) = %q, want %q", v, got, want)
		}
	}
}
