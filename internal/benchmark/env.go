package benchmark

import (
	"context"
	"io"
	"log/slog"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/wardsec/ward/pkg/sbom"
)

// lazy memoises one reading.
type lazy[T any] struct {
	done bool
	v    T
	err  error
}

func (l *lazy[T]) get(f func() (T, error)) (T, error) {
	if !l.done {
		l.v, l.err = f()
		l.done = true
	}
	return l.v, l.err
}

// env is the state of one run: the root, the options and every reading
// taken so far (each file is read and parsed at most once).
type env struct {
	ctx       context.Context
	opts      Options
	r         *rootFS
	live      bool
	proc, sys string
	log       *slog.Logger

	sshd      lazy[*sshdConfig]
	sysctl    lazy[[]setting]
	fstab     lazy[[]mountEntry]
	mounts    lazy[[]mountEntry]
	modprobe  lazy[map[string]*modprobeRule]
	modules   lazy[map[string]bool]
	modAvail  lazy[map[string]string]
	pkgs      lazy[map[string]sbom.Package]
	procs     lazy[[]process]
	socks     lazy[[]listener]
	walkRes   lazy[*walkResult]
	passwd    lazy[[][]string]
	group     lazy[[][]string]
	shadow    lazy[[][]string]
	osRelease lazy[map[string]string]
	kv        map[string]*lazy[[]setting]
	docs      map[string]*lazy[*yamlDoc]
	pam       map[string]*lazy[[]pamLine]
	comps     map[string]bool
}

func newEnv(ctx context.Context, r *rootFS, opts Options) *env {
	e := &env{ctx: ctx, opts: opts, r: r, live: opts.Live, proc: opts.ProcDir, sys: opts.SysDir, log: opts.Logger,
		kv: map[string]*lazy[[]setting]{}, docs: map[string]*lazy[*yamlDoc]{}, pam: map[string]*lazy[[]pamLine]{},
		comps: map[string]bool{}}
	if e.proc == "" {
		e.proc = defaultProcDir
	}
	if e.sys == "" {
		e.sys = defaultSysDir
	}
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return e
}

// Components lists the component names a control's applies.components may
// use. Each is detected from packages, files and (live) processes.
func Components() []string {
	return []string{"sshd", "docker", "containerd", "podman", "kubelet", "kube-apiserver", "kube-controller-manager",
		"kube-scheduler", "etcd", "auditd", "cron", "pam", "journald", "grub", "selinux", "apparmor", "rsyslog"}
}

// componentEvidence says how each component is recognised: packages (any
// installed), paths (any present in the root) and processes (any running,
// live only).
func componentEvidence(name string) (pkgs, paths, procs []string) {
	switch name {
	case "sshd":
		return []string{"openssh-server", "openssh"}, []string{"/etc/ssh/sshd_config"}, []string{"sshd"}
	case "docker":
		return []string{"docker-ce", "docker.io", "moby-engine", "docker-engine", "docker"},
			[]string{"/usr/bin/dockerd", "/usr/sbin/dockerd", "/etc/docker/daemon.json"}, []string{"dockerd"}
	case "containerd":
		return []string{"containerd", "containerd.io"}, []string{"/usr/bin/containerd", "/etc/containerd/config.toml"}, []string{"containerd"}
	case "podman":
		return []string{"podman"}, []string{"/usr/bin/podman"}, []string{"podman"}
	case "kubelet":
		return []string{"kubelet"}, []string{"/var/lib/kubelet/config.yaml", "/etc/kubernetes/kubelet.conf", "/usr/bin/kubelet", "/usr/local/bin/kubelet"}, []string{"kubelet"}
	case "kube-apiserver":
		return nil, []string{"/etc/kubernetes/manifests/kube-apiserver.yaml"}, []string{"kube-apiserver"}
	case "kube-controller-manager":
		return nil, []string{"/etc/kubernetes/manifests/kube-controller-manager.yaml"}, []string{"kube-controller-manager"}
	case "kube-scheduler":
		return nil, []string{"/etc/kubernetes/manifests/kube-scheduler.yaml"}, []string{"kube-scheduler"}
	case "etcd":
		return []string{"etcd", "etcd-server"}, []string{"/etc/kubernetes/manifests/etcd.yaml"}, []string{"etcd"}
	case "auditd":
		return []string{"auditd", "audit"}, []string{"/etc/audit/auditd.conf"}, []string{"auditd"}
	case "cron":
		return []string{"cron", "cronie", "systemd-cron"}, []string{"/etc/crontab"}, []string{"cron", "crond"}
	case "pam":
		return []string{"libpam-runtime", "pam"}, []string{"/etc/pam.d"}, nil
	case "journald":
		return nil, []string{"/etc/systemd/journald.conf"}, []string{"systemd-journald"}
	case "grub":
		return []string{"grub-common", "grub2-common"}, []string{"/boot/grub/grub.cfg", "/boot/grub2/grub.cfg"}, nil
	case "selinux":
		return nil, []string{"/etc/selinux/config"}, nil
	case "apparmor":
		return []string{"apparmor"}, []string{"/etc/apparmor.d"}, nil
	case "rsyslog":
		return []string{"rsyslog"}, []string{"/etc/rsyslog.conf"}, []string{"rsyslogd"}
	}
	return nil, nil, nil
}

func (e *env) component(name string) bool {
	if v, ok := e.comps[name]; ok {
		return v
	}
	pkgs, paths, procs := componentEvidence(name)
	found := false
	for _, p := range paths {
		if e.r.exists(p) {
			found = true
			break
		}
	}
	if !found && len(pkgs) > 0 {
		if m, err := e.packages(); err == nil {
			for _, p := range pkgs {
				if _, ok := m[p]; ok {
					found = true
					break
				}
			}
		}
	}
	if !found && e.live && len(procs) > 0 {
		if ps, err := e.processes(); err == nil {
			for _, p := range procs {
				if _, ok := findProcess(ps, p); ok {
					found = true
					break
				}
			}
		}
	}
	e.comps[name] = found
	return found
}

// notApplicable returns why c does not apply, or "".
func (e *env) notApplicable(c *Control) string {
	a := c.Applies
	if a.Live && !e.live {
		return "live reading (not taken for an offline --rootfs audit)"
	}
	if len(a.Distros) > 0 {
		osr, _ := e.osRelease.get(e.readOSRelease)
		ids := append([]string{osr["ID"]}, strings.Fields(osr["ID_LIKE"])...)
		ok := false
		for _, d := range a.Distros {
			if contains(ids, d) {
				ok = true
			}
		}
		if !ok {
			return "distribution " + osr["ID"] + " not in " + strings.Join(a.Distros, ", ")
		}
	}
	for _, comp := range a.Components {
		if !e.component(comp) {
			return comp + " not present"
		}
	}
	return ""
}

func (e *env) readOSRelease() (map[string]string, error) {
	m := map[string]string{}
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		data, err := e.r.readFile(p)
		if err != nil {
			continue
		}
		kv, err := parseKeyValue(p, data, "=")
		if err != nil {
			return m, err
		}
		for _, s := range kv {
			m[s.Key] = strings.Trim(s.Value, `"'`)
		}
		break
	}
	return m, nil
}

func (e *env) packages() (map[string]sbom.Package, error) {
	return e.pkgs.get(func() (map[string]sbom.Package, error) {
		var list []sbom.Package
		var err error
		if e.opts.Packages != nil {
			list, err = e.opts.Packages()
		} else {
			list, err = readOSPackages(e.r)
		}
		if err != nil {
			return nil, err
		}
		m := map[string]sbom.Package{}
		for _, p := range list {
			if p.Type == "" || p.Type == sbom.TypeOS {
				m[p.Name] = p
			}
		}
		return m, nil
	})
}

func (e *env) processes() ([]process, error) {
	return e.procs.get(func() ([]process, error) { return processes(e.proc) })
}

func (e *env) sshdConfig() (*sshdConfig, error) {
	return e.sshd.get(func() (*sshdConfig, error) { return parseSSHD(e.r, "/etc/ssh/sshd_config") })
}

func (e *env) sysctlSettings() ([]setting, error) {
	return e.sysctl.get(func() ([]setting, error) {
		var all []setting
		for _, f := range sysctlFiles(e.r) {
			data, err := e.r.readFile(f)
			if err != nil {
				continue // a dangling link is no setting
			}
			s, err := parseSysctlText(e.r.display(f), data)
			if err != nil {
				return nil, err
			}
			all = append(all, s...)
		}
		return all, nil
	})
}

func (e *env) keyValues(paths []string, sep string) ([]setting, []string, error) {
	var all []setting
	var found []string
	for _, pat := range paths {
		files, err := e.r.glob(pat)
		if err != nil {
			return nil, nil, err
		}
		for _, f := range files {
			l, ok := e.kv[f+"\x00"+sep]
			if !ok {
				l = &lazy[[]setting]{}
				e.kv[f+"\x00"+sep] = l
			}
			ss, err := l.get(func() ([]setting, error) {
				data, err := e.r.readFile(f)
				if err != nil {
					return nil, err
				}
				return parseKeyValue(e.r.display(f), data, sep)
			})
			if err != nil {
				if isNotExist(err) {
					continue
				}
				return nil, nil, err
			}
			found = append(found, f)
			all = append(all, ss...)
		}
	}
	return all, found, nil
}

func (e *env) mountTable() ([]mountEntry, string, error) {
	if e.live {
		ms, err := e.mounts.get(func() ([]mountEntry, error) {
			data, err := readLive(filepath.Join(e.proc, "self", "mounts"), 8<<20)
			if err != nil {
				return nil, err
			}
			return parseMounts("/proc/self/mounts", data)
		})
		return ms, "/proc/self/mounts", err
	}
	ms, err := e.fstab.get(func() ([]mountEntry, error) {
		data, err := e.r.readFile("/etc/fstab")
		if err != nil {
			if isNotExist(err) {
				return nil, nil
			}
			return nil, err
		}
		return parseMounts(e.r.display("/etc/fstab"), data)
	})
	return ms, e.r.display("/etc/fstab"), err
}

func (e *env) modprobeRules() (map[string]*modprobeRule, error) {
	return e.modprobe.get(func() (map[string]*modprobeRule, error) {
		rules := map[string]*modprobeRule{}
		byName := map[string]string{}
		var names []string
		for _, d := range modprobeDirs {
			entries, err := e.r.readDir(d)
			if err != nil {
				continue
			}
			for _, n := range entries {
				if !strings.HasSuffix(n, ".conf") {
					continue
				}
				if _, ok := byName[n]; !ok {
					byName[n] = path.Join(d, n)
					names = append(names, n)
				}
			}
		}
		sort.Strings(names)
		for _, n := range names {
			f := byName[n]
			data, err := e.r.readFile(f)
			if err != nil {
				continue
			}
			if err := parseModprobe(e.r.display(f), data, rules); err != nil {
				return nil, err
			}
		}
		return rules, nil
	})
}

// availableModules maps module names to the kernel release that ships
// them ("builtin:" prefix for built-in ones), from modules.dep and
// modules.builtin of the running kernel (live) or every kernel in the root.
func (e *env) availableModules() (map[string]string, error) {
	return e.modAvail.get(func() (map[string]string, error) {
		m := map[string]string{}
		var releases []string
		if e.live {
			rel, err := readLive(filepath.Join(e.proc, "sys", "kernel", "osrelease"), 256)
			if err == nil {
				releases = []string{strings.TrimSpace(string(rel))}
			}
		} else {
			for _, d := range []string{"/lib/modules", "/usr/lib/modules"} {
				names, err := e.r.readDir(d)
				if err == nil {
					releases = append(releases, names...)
				}
			}
		}
		for _, rel := range releases {
			for _, base := range []string{"/lib/modules/", "/usr/lib/modules/"} {
				for _, f := range []string{"modules.dep", "modules.builtin"} {
					data, err := e.r.readFile(base + rel + "/" + f)
					if err != nil {
						continue
					}
					for _, l := range strings.Split(string(data), "\n") {
						p, _, _ := strings.Cut(l, ":")
						if p == "" {
							continue
						}
						n := path.Base(p)
						if i := strings.Index(n, ".ko"); i >= 0 {
							n = n[:i]
						}
						v := rel
						if f == "modules.builtin" {
							v = "builtin:" + rel
						}
						m[normModule(n)] = v
					}
				}
			}
		}
		return m, nil
	})
}

func (e *env) walk() *walkResult {
	w, _ := e.walkRes.get(func() (*walkResult, error) {
		users, groups := map[uint32]bool{}, map[uint32]bool{}
		pw, err1 := e.passwd.get(func() ([][]string, error) { return e.colonFile("/etc/passwd") })
		gr, err2 := e.group.get(func() ([][]string, error) { return e.colonFile("/etc/group") })
		for _, f := range pw {
			if len(f) > 2 {
				if n, err := strconv.ParseUint(f[2], 10, 32); err == nil {
					users[uint32(n)] = true
				}
			}
		}
		for _, f := range gr {
			if len(f) > 2 {
				if n, err := strconv.ParseUint(f[2], 10, 32); err == nil {
					groups[uint32(n)] = true
				}
			}
		}
		if err1 != nil || len(pw) == 0 {
			users = nil
		}
		if err2 != nil || len(gr) == 0 {
			groups = nil
		}
		skip := map[string]bool{}
		for _, s := range e.opts.WalkSkip {
			skip[path.Clean("/"+s)] = true
		}
		if e.live {
			for _, p := range []string{"/proc", "/sys", "/dev", "/run"} {
				skip[p] = true
			}
			if ms, _, err := e.mountTable(); err == nil {
				for _, m := range ms {
					if pseudoFS[m.FSType] || strings.HasPrefix(m.FSType, "fuse.") {
						skip[path.Clean(m.Target)] = true
					}
				}
			}
		}
		maxFiles, timeout := e.opts.WalkMaxFiles, e.opts.WalkTimeout
		if maxFiles <= 0 {
			maxFiles = DefaultWalkMaxFiles
		}
		if timeout <= 0 {
			timeout = DefaultWalkTimeout
		}
		wk := &walker{r: e.r, users: users, groups: groups, skip: skip, maxFiles: maxFiles,
			deadline: time.Now().Add(timeout), ctx: e.ctx}
		return wk.walk(), nil
	})
	return w
}

// colonFile parses a colon-separated file (passwd, group, shadow).
func (e *env) colonFile(p string) ([][]string, error) {
	data, err := e.r.readFile(p)
	if err != nil {
		return nil, err
	}
	lines, err := splitLines(e.r.display(p), data)
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, l := range lines {
		s := strings.TrimSpace(l.text)
		if s == "" || s[0] == '#' || s[0] == '+' || s[0] == '-' {
			out = append(out, nil)
			continue
		}
		out = append(out, strings.Split(s, ":"))
	}
	return out, nil
}
