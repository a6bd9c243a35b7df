package compose

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
	"go.yaml.in/yaml/v3"
)

// hit is one occurrence: the node to point at and its field path.
type hit struct {
	svc   *Service
	node  *yaml.Node
	field string // field path below the service, e.g. "ports[0]"
	msg   string
}

type rule struct {
	meta check.Meta
	run  func(s *Service) []hit
}

const (
	low  = finding.SeverityLow
	med  = finding.SeverityMedium
	high = finding.SeverityHigh
	crit = finding.SeverityCritical
)

func meta(id string, sev finding.Severity, title, desc, fix string, cis ...string) check.Meta {
	m := check.Meta{
		ID: id, Title: title, Severity: sev, DocType: check.Compose,
		Description: desc, Remediation: fix,
		References: []string{"https://docs.docker.com/reference/compose-file/services/"},
	}
	for _, c := range cis {
		m.Mappings = append(m.Mappings, check.Mapping{Framework: "docker-cis", Control: c, Title: cisTitles[c]})
	}
	return m
}

// cisTitles are CIS Docker Benchmark section 5 (container runtime) controls.
var cisTitles = map[string]string{
	"5.1":  "Ensure that, if applicable, an AppArmor Profile is enabled",
	"5.2":  "Ensure that, if applicable, SELinux security options are set",
	"5.3":  "Ensure that Linux kernel capabilities are restricted within containers",
	"5.4":  "Ensure that privileged containers are not used",
	"5.5":  "Ensure sensitive host system directories are not mounted on containers",
	"5.9":  "Ensure that the host's network namespace is not shared",
	"5.10": "Ensure that the memory usage for containers is limited",
	"5.12": "Ensure that the container's root filesystem is mounted as read only",
	"5.13": "Ensure that incoming container traffic is bound to a specific host interface",
	"5.16": "Ensure that the host's process namespace is not shared",
	"5.17": "Ensure that the host's IPC namespace is not shared",
	"5.21": "Ensure the default seccomp profile is not Disabled",
	"5.25": "Ensure that the container is restricted from acquiring additional privileges",
	"5.30": "Ensure that the host's user namespaces are not shared",
	"5.31": "Ensure that the Docker socket is not mounted inside any containers",
}

// rules is the explicit list of Compose checks.
func rules() []rule {
	return []rule{
		{meta("WARD-COMPOSE-001", crit, "Privileged service",
			"privileged: true gives the container every capability and access to all host devices: a container escape is trivial.",
			"Remove `privileged: true`; add only the specific capabilities needed with cap_add.", "5.4"),
			boolField("privileged", true, "service %s runs privileged")},
		{meta("WARD-COMPOSE-002", high, "Service uses the host network",
			"network_mode: host removes network isolation: the container can bind host ports and reach host-local services.",
			"Use the default bridge network (or a user-defined network) and publish only the needed ports.", "5.9"),
			strField("network_mode", "host", "service %s shares the host network namespace")},
		{meta("WARD-COMPOSE-003", high, "Service shares the host PID namespace",
			"pid: host lets the container see and signal every host process.",
			"Remove `pid: host`.", "5.16"),
			strField("pid", "host", "service %s shares the host PID namespace")},
		{meta("WARD-COMPOSE-004", high, "Service shares the host IPC namespace",
			"ipc: host gives access to host shared memory segments.",
			"Remove `ipc: host` (use `ipc: shareable`/`service:<name>` between containers if needed).", "5.17"),
			strField("ipc", "host", "service %s shares the host IPC namespace")},
		{meta("WARD-COMPOSE-005", crit, "Container runtime socket mounted",
			"Mounting the Docker/containerd/CRI-O/Podman socket gives full control of the host's container runtime, i.e. root on the host.",
			"Do not mount the runtime socket; use a narrowly scoped API proxy if a service must talk to the engine.", "5.31"),
			checkSocket},
		{meta("WARD-COMPOSE-006", high, "Dangerous capability added",
			"cap_add ALL, SYS_ADMIN, SYS_PTRACE, SYS_MODULE, NET_ADMIN or DAC_READ_SEARCH hands the container near-root powers on the host kernel.",
			"Remove the capability; drop ALL and add back only narrow capabilities such as NET_BIND_SERVICE.", "5.3"),
			checkCaps},
		{meta("WARD-COMPOSE-007", low, "Root filesystem is writable",
			"Without read_only: true an attacker can modify binaries and configuration inside the container.",
			"Set `read_only: true` and mount tmpfs or volumes for the paths that must be writable.", "5.12"),
			checkReadOnly},
		{meta("WARD-COMPOSE-008", high, "Seccomp, AppArmor or SELinux confinement disabled",
			"security_opt seccomp:unconfined, apparmor:unconfined, label:disable or systempaths=unconfined removes kernel-level confinement.",
			"Remove the option, or point it at a reviewed custom profile.", "5.1", "5.2", "5.21"),
			checkSecurityOpt},
		{meta("WARD-COMPOSE-009", high, "Secret in environment",
			"Literal secrets in `environment` are stored in the Compose file, visible in `docker inspect` and often committed to git.",
			"Use Compose `secrets:` (mounted files) or reference a variable from an untracked .env file (`${DB_PASSWORD}`)."),
			checkEnvSecrets},
		{meta("WARD-COMPOSE-010", high, "Database port published on all interfaces",
			"A database port published without a host IP listens on 0.0.0.0 and is reachable from the network.",
			"Do not publish database ports, or bind them to loopback: `127.0.0.1:5432:5432`.", "5.13"),
			checkDBPorts},
		{meta("WARD-COMPOSE-011", high, "Sensitive host directory mounted",
			"Bind-mounting /, /etc, /proc, /sys, /boot, /dev, /root or /var/lib/docker exposes or lets the container modify the host.",
			"Mount only the application directories that are needed, read-only where possible.", "5.5"),
			checkHostPaths},
		{meta("WARD-COMPOSE-012", low, "no-new-privileges not set",
			"Without no-new-privileges, setuid binaries in the container can raise privileges.",
			"Add `security_opt: [\"no-new-privileges:true\"]`.", "5.25"),
			checkNoNewPrivs},
		{meta("WARD-COMPOSE-013", high, "Service shares the host user namespace",
			"userns_mode: host disables user namespace remapping for the container.",
			"Remove `userns_mode: host`.", "5.30"),
			strField("userns_mode", "host", "service %s shares the host user namespace")},
		{meta("WARD-COMPOSE-014", med, "Image uses :latest or no tag",
			"Images without a pinned tag change under you: deployments are not reproducible and may pull unreviewed code.",
			"Pin the image to a version tag, ideally with a digest (`image: name:1.2.3@sha256:...`)."),
			checkImageTag},
		{meta("WARD-COMPOSE-015", med, "Service runs as root",
			"`user: root` (or 0) runs the process as root inside the container.",
			"Run as an unprivileged user: `user: \"10001:10001\"`."),
			checkUserRoot},
		{meta("WARD-COMPOSE-016", low, "No memory limit",
			"Without a memory limit one service can exhaust host memory and take down the others.",
			"Set `mem_limit` or `deploy.resources.limits.memory`.", "5.10"),
			checkMemLimit},
		{meta("WARD-COMPOSE-017", med, "Service shares the host cgroup namespace",
			"cgroup: host shows the host's cgroup hierarchy to the container.",
			"Remove `cgroup: host` (the default `private` is safer)."),
			strField("cgroup", "host", "service %s shares the host cgroup namespace")},
	}
}

// Checks returns the metadata of every Compose check.
func Checks() []check.Meta {
	rs := rules()
	out := make([]check.Meta, len(rs))
	for i, r := range rs {
		out[i] = r.meta
	}
	return out
}

func boolField(field string, bad bool, msg string) func(s *Service) []hit {
	return func(s *Service) []hit {
		k, v := get(s.Node, field)
		if v == nil {
			return nil
		}
		if b, ok := yamlBool(v); ok && b == bad {
			return []hit{{s, k, field, fmt.Sprintf(msg, s.Name)}}
		}
		return nil
	}
}

func yamlBool(n *yaml.Node) (bool, bool) {
	switch strings.ToLower(scalar(n)) {
	case "true", "yes", "on":
		return true, true
	case "false", "no", "off":
		return false, true
	}
	return false, false
}

func strField(field, bad, msg string) func(s *Service) []hit {
	return func(s *Service) []hit {
		k, v := get(s.Node, field)
		if v != nil && strings.EqualFold(scalar(v), bad) {
			return []hit{{s, k, field, fmt.Sprintf(msg, s.Name)}}
		}
		return nil
	}
}

// mount is one volume entry.
type mount struct {
	node     *yaml.Node
	field    string
	source   string
	target   string
	bind     bool
	readOnly bool
}

func mounts(s *Service) []mount {
	_, v := get(s.Node, "volumes")
	var out []mount
	for i, it := range items(v) {
		m := mount{node: it, field: fmt.Sprintf("volumes[%d]", i)}
		switch it.Kind {
		case yaml.ScalarNode:
			parts := strings.Split(it.Value, ":")
			if len(parts) >= 3 && len(parts[0]) == 1 && (parts[0][0]|0x20 >= 'a' && parts[0][0]|0x20 <= 'z') && strings.HasPrefix(parts[1], `\`) { // Windows drive letter C:\...
				parts = append([]string{parts[0] + ":" + parts[1]}, parts[2:]...)
			}
			if len(parts) == 1 {
				m.target = parts[0]
				break
			}
			m.source, m.target = parts[0], parts[1]
			m.bind = strings.HasPrefix(m.source, "/") || strings.HasPrefix(m.source, ".") || strings.HasPrefix(m.source, "~") || strings.HasPrefix(m.source, "$")
			if len(parts) > 2 {
				for _, o := range strings.Split(parts[2], ",") {
					if o == "ro" {
						m.readOnly = true
					}
				}
			}
		case yaml.MappingNode:
			_, t := get(it, "type")
			_, src := get(it, "source")
			_, tgt := get(it, "target")
			_, ro := get(it, "read_only")
			m.source, m.target = scalar(src), scalar(tgt)
			if src != nil {
				m.node = src
			}
			m.bind = scalar(t) == "bind"
			m.readOnly, _ = yamlBool(ro)
		}
		out = append(out, m)
	}
	return out
}

var runtimeSockets = []string{"docker.sock", "containerd.sock", "crio.sock", "podman.sock", "dockershim.sock", "cri-dockerd.sock"}

func checkSocket(s *Service) []hit {
	var hs []hit
	for _, m := range mounts(s) {
		for _, sock := range runtimeSockets {
			if m.bind && path.Base(m.source) == sock {
				hs = append(hs, hit{s, m.node, m.field, fmt.Sprintf("service %s mounts the container runtime socket %s", s.Name, m.source)})
				break
			}
		}
	}
	return hs
}

// sensitiveDirs are host directories never to bind-mount as a whole;
// sensitiveTrees are also flagged for anything below them.
var (
	sensitiveDirs  = []string{"/", "/etc", "/proc", "/sys", "/boot", "/dev", "/root", "/var", "/var/run", "/run", "/lib/modules", "/usr", "/home"}
	sensitiveTrees = []string{"/proc", "/sys", "/root", "/boot", "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet", "/etc/kubernetes", "/etc/ssh", "/etc/shadow", "/etc/sudoers"}
)

func sensitive(src string) bool {
	for _, d := range sensitiveDirs {
		if src == d {
			return true
		}
	}
	for _, d := range sensitiveTrees {
		if src == d || strings.HasPrefix(src, d+"/") {
			return true
		}
	}
	return false
}

func checkHostPaths(s *Service) []hit {
	var hs []hit
	for _, m := range mounts(s) {
		if !m.bind || !strings.HasPrefix(m.source, "/") {
			continue
		}
		if src := path.Clean(m.source); sensitive(src) {
			hs = append(hs, hit{s, m.node, m.field, fmt.Sprintf("service %s mounts the host directory %s", s.Name, src)})
		}
	}
	return hs
}

var dangerousCaps = map[string]bool{"ALL": true, "SYS_ADMIN": true, "SYS_PTRACE": true, "SYS_MODULE": true, "NET_ADMIN": true, "DAC_READ_SEARCH": true, "SYS_RAWIO": true, "BPF": true}

func checkCaps(s *Service) []hit {
	_, v := get(s.Node, "cap_add")
	var hs []hit
	for i, it := range items(v) {
		c := strings.TrimPrefix(strings.ToUpper(scalar(it)), "CAP_")
		if dangerousCaps[c] {
			hs = append(hs, hit{s, it, fmt.Sprintf("cap_add[%d]", i), fmt.Sprintf("service %s adds capability %s", s.Name, c)})
		}
	}
	return hs
}

func checkReadOnly(s *Service) []hit {
	k, v := get(s.Node, "read_only")
	if v == nil {
		return []hit{{s, s.Key, "", fmt.Sprintf("service %s does not set read_only: true", s.Name)}}
	}
	if b, ok := yamlBool(v); ok && !b {
		return []hit{{s, k, "read_only", fmt.Sprintf("service %s sets read_only: false", s.Name)}}
	}
	return nil
}

func securityOpts(s *Service) ([]*yaml.Node, *yaml.Node) {
	k, v := get(s.Node, "security_opt")
	return items(v), k
}

func checkSecurityOpt(s *Service) []hit {
	var hs []hit
	opts, _ := securityOpts(s)
	for i, it := range opts {
		o := strings.ToLower(strings.ReplaceAll(scalar(it), "=", ":"))
		switch o {
		case "seccomp:unconfined", "apparmor:unconfined", "label:disable", "systempaths:unconfined", "label:type:spc_t":
			hs = append(hs, hit{s, it, fmt.Sprintf("security_opt[%d]", i), fmt.Sprintf("service %s sets security_opt %s", s.Name, scalar(it))})
		}
	}
	return hs
}

func checkNoNewPrivs(s *Service) []hit {
	opts, k := securityOpts(s)
	for _, it := range opts {
		o := strings.ToLower(strings.ReplaceAll(scalar(it), "=", ":"))
		if o == "no-new-privileges" || o == "no-new-privileges:true" {
			return nil
		}
	}
	if b, ok := yamlBool(getV(s.Node, "privileged")); ok && b {
		return nil // reported as privileged
	}
	n, field := s.Key, ""
	if k != nil {
		n, field = k, "security_opt"
	}
	return []hit{{s, n, field, fmt.Sprintf("service %s does not set no-new-privileges:true", s.Name)}}
}

func getV(m *yaml.Node, key string) *yaml.Node {
	_, v := get(m, key)
	return v
}

var secretKey = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth[_-]?key|client[_-]?secret)`)

// interpolation: ${VAR}, ${VAR:-default}, $VAR.
var interp = regexp.MustCompile(`^\$\{?[A-Za-z_][A-Za-z0-9_]*(?:(:?[-?+])([^}]*))?\}?$`)

func secretName(k string) bool {
	if !secretKey.MatchString(k) {
		return false
	}
	u := strings.ToUpper(k)
	for _, suf := range []string{"_FILE", "_PATH", "_DIR", "_NAME", "_URL", "_ENDPOINT", "_LENGTH", "_TTL", "_HEADER", "_ID"} {
		if strings.HasSuffix(u, suf) {
			return false
		}
	}
	return true
}

// literalSecret reports whether v is a literal value (or a literal default
// of an interpolation) rather than a reference.
func literalSecret(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	if m := interp.FindStringSubmatch(v); m != nil {
		return (m[1] == "-" || m[1] == ":-") && m[2] != "" && !strings.HasPrefix(m[2], "$")
	}
	return true
}

func checkEnvSecrets(s *Service) []hit {
	_, v := get(s.Node, "environment")
	var hs []hit
	if v == nil {
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		for _, e := range entries(v) {
			if secretName(e.k.Value) && literalSecret(scalar(e.v)) {
				hs = append(hs, hit{s, e.k, "environment." + e.k.Value, fmt.Sprintf("service %s sets %s to a literal secret", s.Name, e.k.Value)})
			}
		}
	case yaml.SequenceNode:
		for i, it := range items(v) {
			k, val, ok := strings.Cut(scalar(it), "=")
			if ok && secretName(k) && literalSecret(val) {
				hs = append(hs, hit{s, it, fmt.Sprintf("environment[%d]", i), fmt.Sprintf("service %s sets %s to a literal secret", s.Name, k)})
			}
		}
	}
	return hs
}

var dbPorts = map[string]string{
	"3306": "MySQL/MariaDB", "5432": "PostgreSQL", "6379": "Redis", "27017": "MongoDB", "9200": "Elasticsearch",
	"9300": "Elasticsearch", "11211": "Memcached", "5984": "CouchDB", "9042": "Cassandra", "1433": "SQL Server",
	"1521": "Oracle", "8086": "InfluxDB", "2379": "etcd", "26257": "CockroachDB", "7474": "Neo4j", "7687": "Neo4j",
	"8529": "ArangoDB", "28015": "RethinkDB", "5672": "RabbitMQ", "9092": "Kafka", "2181": "ZooKeeper",
}

// publishedPort parses a short-syntax port: [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTO].
func publishedPort(p string) (hostIP, hostPort, containerPort string) {
	p, _, _ = strings.Cut(p, "/")
	if strings.HasPrefix(p, "[") { // [::1]:5432:5432
		if i := strings.Index(p, "]:"); i > 0 {
			hostIP, p = p[1:i], p[i+2:]
		}
	}
	parts := strings.Split(p, ":")
	switch len(parts) {
	case 1:
		return hostIP, "", parts[0]
	case 2:
		return hostIP, parts[0], parts[1]
	default:
		return strings.Join(parts[:len(parts)-2], ":"), parts[len(parts)-2], parts[len(parts)-1]
	}
}

func allInterfaces(ip string) bool {
	return ip == "" || ip == "0.0.0.0" || ip == "::" || ip == "[::]"
}

func checkDBPorts(s *Service) []hit {
	_, v := get(s.Node, "ports")
	var hs []hit
	for i, it := range items(v) {
		var ip, cport string
		at := it
		switch it.Kind {
		case yaml.ScalarNode:
			ip, _, cport = publishedPort(it.Value)
		case yaml.MappingNode:
			_, t := get(it, "target")
			_, h := get(it, "host_ip")
			pk, pub := get(it, "published")
			if pub == nil || scalar(pub) == "" {
				continue // not published on the host
			}
			at = pk
			ip, cport = scalar(h), scalar(t)
		}
		// ranges like 5432-5433: check the start
		cport, _, _ = strings.Cut(cport, "-")
		if db, ok := dbPorts[cport]; ok && allInterfaces(ip) {
			hs = append(hs, hit{s, at, fmt.Sprintf("ports[%d]", i), fmt.Sprintf("service %s publishes the %s port %s on all interfaces", s.Name, db, cport)})
		}
	}
	return hs
}

func checkImageTag(s *Service) []hit {
	k, v := get(s.Node, "image")
	img := scalar(v)
	if img == "" || strings.Contains(img, "@") || strings.Contains(img, "$") {
		return nil
	}
	slash := strings.LastIndex(img, "/")
	colon := strings.LastIndex(img, ":")
	if colon > slash {
		if img[colon+1:] == "latest" {
			return []hit{{s, v, "image", fmt.Sprintf("service %s uses %s", s.Name, img)}}
		}
		return nil
	}
	_ = k
	return []hit{{s, v, "image", fmt.Sprintf("service %s uses the untagged image %s", s.Name, img)}}
}

func checkUserRoot(s *Service) []hit {
	k, v := get(s.Node, "user")
	u, _, _ := strings.Cut(scalar(v), ":")
	if u == "root" || u == "0" {
		return []hit{{s, k, "user", fmt.Sprintf("service %s runs as %s", s.Name, scalar(v))}}
	}
	return nil
}

func checkMemLimit(s *Service) []hit {
	if getV(s.Node, "mem_limit") != nil {
		return nil
	}
	if d := getV(s.Node, "deploy"); d != nil {
		if r := getV(d, "resources"); r != nil {
			if l := getV(r, "limits"); l != nil && getV(l, "memory") != nil {
				return nil
			}
		}
	}
	return []hit{{s, s.Key, "", fmt.Sprintf("service %s has no memory limit", s.Name)}}
}
