package benchmark

import (
	"os"
	"path/filepath"
	"testing"
)

// addSeeds adds the contents of fixture files as fuzz seeds.
func addSeeds(f *testing.F, globs ...string) {
	for _, g := range globs {
		files, _ := filepath.Glob(filepath.Join("testdata", g))
		for _, p := range files {
			if data, err := os.ReadFile(p); err == nil {
				f.Add(data)
			}
		}
	}
}

func FuzzParseControls(f *testing.F) {
	addSeeds(f, "controls/*.yaml", "../controls/*.yaml")
	f.Add([]byte("benchmark: linux\ntitle: t\nsections: [{id: '1', title: s}]\ncontrols: [{id: LNX-1-A, title: t, section: '1', severity: LOW, rationale: r, remediation: m, probe: {type: manual}}]\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cs, err := Parse("fuzz.yaml", data)
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.compiled == nil {
				t.Fatalf("%s: accepted but not compiled", c.ID)
			}
		}
	})
}

func FuzzSSHDConfig(f *testing.F) {
	addSeeds(f, "rootfs/*/etc/ssh/sshd_config", "rootfs/*/etc/ssh/sshd_config.d/*.conf")
	f.Add([]byte("Match User x\n PermitRootLogin yes\nMatch all\nInclude \"a b\"\nKey=\"v\" # c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, incs, err := parseSSHDText("sshd_config", data, "")
		if err != nil {
			return
		}
		n := 0
		for _, e := range entries {
			if e.Line <= 0 || e.Key == "" {
				t.Fatalf("bad entry %+v", e)
			}
			if e.Key == "include" {
				n++
			}
		}
		if n != len(incs) {
			t.Fatalf("%d include entries, %d includes", n, len(incs))
		}
	})
}

func FuzzSysctl(f *testing.F) {
	addSeeds(f, "rootfs/*/etc/sysctl.d/*.conf", "rootfs/*/usr/lib/sysctl.d/*.conf", "rootfs/*/etc/sysctl.conf")
	f.Add([]byte("-net/ipv4/ip_forward = 1\n; c\nnet.ipv4.conf.*.rp_filter=2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseSysctlText("sysctl.conf", data)
		if err != nil {
			return
		}
		for _, x := range s {
			if x.Key == "" {
				t.Fatal("empty key accepted")
			}
			sysctlLookup(s, x.Key)
		}
	})
}

func FuzzFstab(f *testing.F) {
	addSeeds(f, "rootfs/*/etc/fstab", "live/*/proc/self/mounts")
	f.Add([]byte("/dev/sda1 /mnt/a\\040b ext4 defaults,nodev 0 2\n\\777 \\ x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := parseMounts("fstab", data)
		if err != nil {
			return
		}
		for _, m := range ms {
			findMount(ms, m.Target)
		}
	})
}

func FuzzLoginDefs(f *testing.F) {
	addSeeds(f, "rootfs/*/etc/login.defs", "rootfs/*/etc/audit/auditd.conf")
	f.Add([]byte("UMASK 027 # c\n[s]\nA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, sep := range []string{"", "="} {
			s, err := parseKeyValue("login.defs", data, sep)
			if err != nil {
				return
			}
			for _, x := range s {
				lastSetting(s, x.Key, true)
			}
		}
	})
}

func FuzzPAM(f *testing.F) {
	addSeeds(f, "rootfs/*/etc/pam.d/*")
	f.Add([]byte("auth [success=1 default=ignore pam_unix.so\n-session optional pam_systemd.so \\\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines, err := parsePAMText("pam", data)
		if err != nil {
			return
		}
		for _, l := range lines {
			pamArg(l.Args, "remember")
		}
	})
}

func FuzzModprobe(f *testing.F) {
	addSeeds(f, "rootfs/*/etc/modprobe.d/*.conf")
	f.Fuzz(func(t *testing.T, data []byte) {
		rules := map[string]*modprobeRule{}
		if err := parseModprobe("m.conf", data, rules); err != nil {
			return
		}
		for _, r := range rules {
			installDisables(r.Install)
		}
	})
}

func FuzzProcNet(f *testing.F) {
	addSeeds(f, "live/*/proc/net/tcp")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseProcNet("tcp", string(data))
		_, _ = parseProcNet("udp6", string(data))
	})
}

func FuzzYAMLDoc(f *testing.F) {
	addSeeds(f, "rootfs/*/var/lib/kubelet/config.yaml", "rootfs/*/etc/kubernetes/manifests/*.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseYAMLDoc("doc.yaml", data)
		if err != nil {
			return
		}
		d.lookup("authentication.anonymous.enabled")
		_, _, _ = podArgs(d, "")
	})
}

func FuzzJSONDoc(f *testing.F) {
	addSeeds(f, "rootfs/*/etc/docker/daemon.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseJSONDoc("daemon.json", data)
		if err != nil {
			return
		}
		d.lookup("icc")
		d.lookup("log-opts.max-size")
	})
}
