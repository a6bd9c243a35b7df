package rules

import (
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/rules/defaults"
)

func loadDefaults(t testing.TB) *Engine {
	t.Helper()
	name, data := defaults.File()
	eng, err := LoadSources([]Source{{Name: name, Data: data}}, Options{})
	if err != nil {
		t.Fatalf("default rules: %v", err)
	}
	return eng
}

func privileged() event.Container {
	c := alpine(cid)
	c.Privileged = true
	return c
}

var wardCases = map[string]ruleCase{
	"Ward Reverse Shell Socket Redirect": {
		fire: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash", Args: args("bash", "-i")})
			fd := sh.Socket(event.AFInet, 1)
			sh.Connect(fd, "192.168.1.10", 51000, "198.51.100.7", 9001)
			sh.Dup2(fd, 1)
		},
		miss: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			fd := sh.Socket(event.AFInet, 1)
			sh.Connect(fd, "127.0.0.1", 51000, "127.0.0.1", 9001)
			sh.Dup2(fd, 1)
		},
	},
	"Ward Container Namespace Change": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, privileged())
			ns := app.Spawn(event.ExecSpec{Exe: "/usr/bin/nsenter", Args: args("nsenter", "-t", "1", "-m", "sh")})
			ns.Syscall(event.TypeSetns, func(ev *event.Event) { ev.FD = 3; ev.Flags = 0x20000 })
		},
		miss: func(sc *event.Scenario) {
			host := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/bin/nsenter"})
			host.Syscall(event.TypeSetns, func(ev *event.Event) { ev.FD = 3; ev.Flags = 0x20000 })
		},
	},
	"Ward Write Below Binary Directory": {
		fire: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			cp := sh.Spawn(event.ExecSpec{Exe: "/usr/bin/cp", Args: args("cp", "/tmp/x", "/usr/bin/sudo")})
			cp.Open("/usr/bin/sudo", event.OWronly|event.OCreat|event.OTrunc)
		},
		miss: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			dpkg := sh.Spawn(event.ExecSpec{Exe: "/usr/bin/dpkg", Args: args("dpkg", "-i", "sudo.deb")})
			dpkg.Open("/usr/bin/sudo", event.OWronly|event.OCreat|event.OTrunc)
		},
	},
	"Ward Kernel Module Loaded": {
		fire: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			ins := sh.Spawn(event.ExecSpec{Exe: "/usr/sbin/insmod", Args: args("insmod", "/tmp/diamorphine.ko")})
			ins.Syscall(event.TypeFinitModule, func(ev *event.Event) { ev.FD = 3 })
		},
		miss: func(sc *event.Scenario) {
			udev := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/lib/systemd/systemd-udevd", Comm: "systemd-udevd"})
			mp := udev.Spawn(event.ExecSpec{Exe: "/usr/sbin/modprobe", Args: args("modprobe", "snd")})
			mp.Syscall(event.TypeFinitModule, func(ev *event.Event) { ev.FD = 3 })
		},
	},
	"Ward BPF Program Loaded": {
		fire: func(sc *event.Scenario) {
			p := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/tmp/rk"})
			p.Syscall(event.TypeBpf, func(ev *event.Event) { ev.Arg = 5; ev.Res = 7 })
		},
		miss: func(sc *event.Scenario) {
			p := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/tmp/rk"})
			p.Syscall(event.TypeBpf, func(ev *event.Event) { ev.Arg = 1; ev.Res = 0 }) // BPF_MAP_LOOKUP_ELEM
		},
	},
	"Ward Userfaultfd In Container": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Syscall(event.TypeUserfaultfd, func(ev *event.Event) { ev.Res = 5 })
		},
		miss: func(sc *event.Scenario) {
			p := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/bin/qemu-system-x86_64"})
			p.Syscall(event.TypeUserfaultfd, func(ev *event.Event) { ev.Res = 5 })
		},
	},
	"Ward Cryptominer Launched": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Spawn(event.ExecSpec{Exe: "/tmp/.cache/kworker", Comm: "kworker", Args: args("kworker", "-o", "stratum+tcp://pool.example:3333", "-u", "wallet")})
		},
		miss: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Spawn(event.ExecSpec{Exe: "/usr/bin/python3", Args: args("python3", "worker.py", "--pool", "db")})
		},
	},
	"Ward Connection To Mining Pool Port": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			fd := app.Socket(event.AFInet, 1)
			app.Connect(fd, "10.244.1.7", 42000, "198.51.100.20", 3333)
		},
		miss: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			fd := app.Socket(event.AFInet, 1)
			app.Connect(fd, "10.244.1.7", 42000, "10.0.3.3", 3333)
		},
	},
	"Ward Cloud Or Cluster Credential Read By Tool": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			cat := app.Spawn(event.ExecSpec{Exe: "/bin/cat", Args: args("cat", "/var/run/secrets/kubernetes.io/serviceaccount/token")})
			cat.Open("/var/run/secrets/kubernetes.io/serviceaccount/token", event.ORdonly)
		},
		miss: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Open("/var/run/secrets/kubernetes.io/serviceaccount/token", event.ORdonly)
		},
	},
	"Ward Setuid Or Setgid Bit Set": {
		fire: func(sc *event.Scenario) {
			ch := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/chmod", Args: args("chmod", "u+s", "/tmp/sh")})
			ch.Syscall(event.TypeFchmodat, func(ev *event.Event) { ev.FD, ev.Path, ev.Mode = event.AtFDCWD, "/tmp/sh", 0o4755 })
		},
		miss: func(sc *event.Scenario) {
			ch := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/chmod", Args: args("chmod", "755", "/tmp/sh")})
			ch.Syscall(event.TypeFchmodat, func(ev *event.Event) { ev.FD, ev.Path, ev.Mode = event.AtFDCWD, "/tmp/sh", 0o755 })
		},
	},
	"Ward Mount Inside Container": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, privileged())
			m := app.Spawn(event.ExecSpec{Exe: "/bin/mount", Args: args("mount", "/dev/sda1", "/mnt")})
			m.Syscall(event.TypeMount, func(ev *event.Event) { ev.Path, ev.Path2 = "/dev/sda1", "/mnt" })
		},
		miss: func(sc *event.Scenario) {
			m := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/mount", Args: args("mount", "/dev/sda1", "/mnt")})
			m.Syscall(event.TypeMount, func(ev *event.Event) { ev.Path, ev.Path2 = "/dev/sda1", "/mnt" })
		},
	},
	"Ward Shell History Tampering": {
		fire: func(sc *event.Scenario) {
			rm := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/rm", Args: args("rm", "/root/.bash_history")})
			rm.Syscall(event.TypeUnlinkat, func(ev *event.Event) { ev.FD, ev.Path = event.AtFDCWD, "/root/.bash_history" })
		},
		miss: func(sc *event.Scenario) {
			rm := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/rm", Args: args("rm", "/root/.bashrc.bak")})
			rm.Syscall(event.TypeUnlinkat, func(ev *event.Event) { ev.FD, ev.Path = event.AtFDCWD, "/root/.bashrc.bak" })
		},
	},
	"Ward Shell History Truncated": {
		fire: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			sh.Spawn(event.ExecSpec{Exe: "/usr/bin/truncate"}).Open("/root/.bash_history", event.OWronly|event.OCreat|event.OTrunc)
		},
		miss: func(sc *event.Scenario) {
			// bash appending to its history, and a truncated file that is not a history
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			sh.Open("/root/.bash_history", event.OWronly|event.OCreat|event.OAppend)
			sh.Open("/root/.bash_history.bak", event.OWronly|event.OCreat|event.OTrunc)
		},
	},
	"Ward Container Runtime Socket Access": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			fd := app.Socket(event.AFUnix, 1)
			app.Syscall(event.TypeConnect, func(ev *event.Event) {
				ev.FD, ev.Path, ev.Addr.Family = fd, "/var/run/docker.sock", event.AFUnix
			})
		},
		miss: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			fd := app.Socket(event.AFUnix, 1)
			app.Syscall(event.TypeConnect, func(ev *event.Event) {
				ev.FD, ev.Path, ev.Addr.Family = fd, "/var/run/app/metrics.sock", event.AFUnix
			})
		},
	},
	"Ward Execution From Temporary Directory In Container": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Spawn(event.ExecSpec{Exe: "/tmp/payload"})
		},
		miss: func(sc *event.Scenario) {
			sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/tmp/build/test-binary"})
		},
	},
	"Ward Package Manager In Container": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Spawn(event.ExecSpec{Exe: "/sbin/apk", Args: args("apk", "add", "nmap")})
		},
		miss: func(sc *event.Scenario) {
			sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/apt-get", Args: args("apt-get", "install", "nmap")})
		},
	},
}

func TestWardDefaultRules(t *testing.T) {
	eng := loadDefaults(t)
	checkCases(t, eng, wardCases)
	for _, r := range eng.Rules() {
		mitre := false
		for _, tag := range r.Tags {
			if len(tag) > 6 && tag[:6] == "mitre_" {
				mitre = true
			}
		}
		if !mitre {
			t.Errorf("rule %q has no MITRE ATT&CK tactic tag", r.Name)
		}
	}
	if w := eng.Info().Warnings; len(w) > 0 {
		t.Errorf("default rules load with warnings: %v", w)
	}
}
