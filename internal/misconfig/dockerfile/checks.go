package dockerfile

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
)

// hit is one occurrence of a problem.
type hit struct {
	inst *Instruction
	// needle is the text to point at inside the instruction ("" = keyword).
	needle string
	msg    string
}

type rule struct {
	meta check.Meta
	run  func(f *File, a *analysis) []hit
}

const (
	low  = finding.SeverityLow
	med  = finding.SeverityMedium
	high = finding.SeverityHigh
	crit = finding.SeverityCritical
)

var cisTitles = map[string]string{
	"4.1":  "Ensure that a user for the container has been created",
	"4.2":  "Ensure that containers use only trusted base images",
	"4.3":  "Ensure that unnecessary packages are not installed in the container",
	"4.6":  "Ensure that HEALTHCHECK instructions have been added to container images",
	"4.7":  "Ensure update instructions are not used alone in Dockerfiles",
	"4.8":  "Ensure setuid and setgid permissions are removed",
	"4.9":  "Ensure that COPY is used instead of ADD in Dockerfiles",
	"4.10": "Ensure secrets are not stored in Dockerfiles",
	"4.11": "Ensure only verified packages are installed",
}

func meta(id string, sev finding.Severity, title, desc, fix string, cis ...string) check.Meta {
	m := check.Meta{
		ID: id, Title: title, Severity: sev, DocType: check.Dockerfile,
		Description: desc, Remediation: fix,
		References: []string{"https://docs.docker.com/build/building/best-practices/"},
	}
	for _, c := range cis {
		m.Mappings = append(m.Mappings, check.Mapping{Framework: "docker-cis", Control: c, Title: cisTitles[c]})
	}
	return m
}

// rules is the explicit list of Dockerfile checks.
func rules() []rule {
	return []rule{
		{meta("WARD-DF-001", high, "Image runs as root: no USER instruction",
			"The final stage never switches to a non-root user, so containers run as root unless the runtime overrides it.",
			"Create an unprivileged user and add `USER <name or uid>` to the final stage.", "4.1"), checkNoUser},
		{meta("WARD-DF-002", high, "Last USER is root",
			"The last USER of the final stage is root (or UID 0), so containers run as root.",
			"Switch to a non-root user (`USER 10001`) after the steps that need root.", "4.1"), checkUserRoot},
		{meta("WARD-DF-003", med, "Base image uses the :latest tag",
			"`:latest` moves: builds are not reproducible and may pull an unreviewed image.",
			"Pin the base image to a specific version tag, ideally with a digest (image:1.2.3@sha256:...).", "4.2"), checkLatest},
		{meta("WARD-DF-004", med, "Base image has no tag",
			"An untagged base image means `:latest`: builds are not reproducible.",
			"Pin the base image to a specific version tag, ideally with a digest.", "4.2"), checkUntagged},
		{meta("WARD-DF-005", low, "Base image not pinned by digest",
			"Tags can be re-pointed; only a digest guarantees the reviewed base image is used.",
			"Append the digest: `FROM image:1.2.3@sha256:<digest>` (and let a bot update it).", "4.2"), checkNoDigest},
		{meta("WARD-DF-006", med, "ADD downloads a remote URL",
			"ADD with a URL fetches content at build time without integrity checks (unless --checksum) and keeps it in a layer.",
			"Download with curl/wget in a RUN step that verifies a checksum, or use `ADD --checksum=sha256:...`.", "4.9"), checkAddURL},
		{meta("WARD-DF-007", med, "ADD of a local archive auto-extracts it",
			"ADD silently extracts local tar archives, which can overwrite files (tar-slip) and hides what is copied.",
			"Use COPY and extract explicitly in a RUN step, or keep ADD only when extraction is intended and reviewed.", "4.9"), checkAddArchive},
		{meta("WARD-DF-008", low, "ADD used instead of COPY",
			"ADD has implicit behaviours (URL fetch, archive extraction); for plain files COPY is explicit and safer.",
			"Replace ADD with COPY for local files.", "4.9"), checkAddLocal},
		{meta("WARD-DF-009", high, "Remote script piped into a shell",
			"`curl ... | sh` runs whatever the server returns, with no integrity check.",
			"Download the script, verify its checksum or signature, then run it.", "4.11"), checkCurlPipe},
		{meta("WARD-DF-010", high, "Secret in ENV",
			"ENV values are stored in the image configuration and visible to anyone who can pull the image.",
			"Pass secrets at run time (orchestrator secrets) or use `RUN --mount=type=secret` at build time.", "4.10"), checkEnvSecret},
		{meta("WARD-DF-011", high, "Secret passed as build ARG",
			"Build arguments are recorded in the image history (`docker history`) when used by RUN steps.",
			"Use `RUN --mount=type=secret,id=...` (BuildKit secrets) instead of ARG for credentials.", "4.10"), checkArgSecret},
		{meta("WARD-DF-012", med, "sudo used in RUN",
			"Build steps already run as the current USER; sudo in images adds a setuid binary and unpredictable TTY/signal behaviour.",
			"Run privileged steps before switching USER, and do not install sudo in the image."), checkSudo},
		{meta("WARD-DF-013", low, "Package index update used alone",
			"An `apt-get update` in its own RUN is cached separately, so later installs may use a stale index.",
			"Combine update and install in one RUN: `apt-get update && apt-get install -y ...`.", "4.7"), checkUpdateAlone},
		{meta("WARD-DF-014", low, "apt-get install without --no-install-recommends",
			"Recommended packages are installed too, increasing image size and attack surface.",
			"Add `--no-install-recommends` to apt-get install.", "4.3"), checkNoRecommends},
		{meta("WARD-DF-015", low, "apt lists not cleaned after install",
			"The apt package index stays in the layer, adding size and stale metadata to the image.",
			"End the RUN with `&& rm -rf /var/lib/apt/lists/*`, or use a BuildKit cache mount."), checkAptClean},
		{meta("WARD-DF-016", low, "apk add without --no-cache",
			"The apk index is kept in the image.",
			"Use `apk add --no-cache ...`."), checkApkCache},
		{meta("WARD-DF-017", low, "yum/dnf cache not cleaned after install",
			"The yum/dnf cache stays in the layer.",
			"End the RUN with `&& yum clean all` (or `dnf clean all`, `rm -rf /var/cache/yum`)."), checkYumClean},
		{meta("WARD-DF-018", low, "pip install without --no-cache-dir",
			"pip keeps downloaded wheels in the image.",
			"Use `pip install --no-cache-dir ...` or set `PIP_NO_CACHE_DIR=1`."), checkPipCache},
		{meta("WARD-DF-019", low, "apt packages not pinned",
			"Unpinned packages make builds non-reproducible and can pull unreviewed versions.",
			"Pin versions: `apt-get install -y pkg=1.2.3-1`."), checkAptPin},
		{meta("WARD-DF-020", low, "apk packages not pinned",
			"Unpinned packages make builds non-reproducible and can pull unreviewed versions.",
			"Pin versions: `apk add --no-cache pkg=1.2.3-r0`."), checkApkPin},
		{meta("WARD-DF-021", low, "pip packages not pinned",
			"Unpinned Python packages make builds non-reproducible and can pull unreviewed or malicious versions.",
			"Pin versions (`pkg==1.2.3`) or install from a hashed requirements file (`-r requirements.txt --require-hashes`)."), checkPipPin},
		{meta("WARD-DF-022", low, "Full distribution upgrade in image build",
			"`apt-get upgrade`/`apk upgrade`/`yum update` change many packages unpredictably; rebuild from an updated base image instead.",
			"Use a patched base image tag; upgrade only the specific packages you need."), checkUpgrade},
		{meta("WARD-DF-023", low, "No HEALTHCHECK",
			"Without HEALTHCHECK the engine cannot tell a hung container from a healthy one.",
			"Add `HEALTHCHECK CMD <command that checks the service>` to the final stage.", "4.6"), checkHealthcheck},
		{meta("WARD-DF-024", med, "SSH port exposed",
			"EXPOSE 22 suggests an SSH daemon in the container, an extra remote entry point.",
			"Remove sshd from the image; use `docker exec`/`kubectl exec` for debugging."), checkExpose22},
		{meta("WARD-DF-025", med, "World-writable permissions (chmod 777)",
			"Files writable by everyone let any process in the container modify them.",
			"Grant the least permissions needed (e.g. 755 for directories, 644 for files) and set ownership with COPY --chown."), checkChmod777},
		{meta("WARD-DF-026", low, "ENTRYPOINT in shell form",
			"Shell form runs the program under /bin/sh -c: it is not PID 1 and does not receive SIGTERM.",
			"Use the exec form: `ENTRYPOINT [\"/app/server\", \"--flag\"]`."), checkShellEntrypoint},
		{meta("WARD-DF-027", med, "Multiple CMD instructions in a stage",
			"Only the last CMD takes effect; earlier ones are misleading.",
			"Keep a single CMD per stage."), multi("CMD")},
		{meta("WARD-DF-028", med, "Multiple ENTRYPOINT instructions in a stage",
			"Only the last ENTRYPOINT takes effect; earlier ones are misleading.",
			"Keep a single ENTRYPOINT per stage."), multi("ENTRYPOINT")},
		{meta("WARD-DF-029", low, "Multiple HEALTHCHECK instructions in a stage",
			"Only the last HEALTHCHECK takes effect.",
			"Keep a single HEALTHCHECK per stage."), multi("HEALTHCHECK")},
		{meta("WARD-DF-030", low, "Recursive chown after COPY",
			"`chown -R` in a RUN duplicates every copied file in a new layer.",
			"Set ownership while copying: `COPY --chown=app:app src dst`."), checkChownR},
		{meta("WARD-DF-031", med, "setuid/setgid bit set",
			"setuid/setgid binaries allow privilege escalation inside the container.",
			"Do not set setuid/setgid bits; remove them with `find / -perm /6000 -type f -exec chmod a-s {} +`.", "4.8"), checkSetuid},
		{meta("WARD-DF-032", low, "MAINTAINER is deprecated",
			"MAINTAINER is deprecated and not shown by most tools.",
			"Use `LABEL org.opencontainers.image.authors=\"...\"`."), checkMaintainer},
		{meta("WARD-DF-033", low, "WORKDIR with a relative path",
			"A relative WORKDIR depends on previous instructions and is easy to get wrong.",
			"Use an absolute path: `WORKDIR /app`."), checkWorkdir},
		{meta("WARD-DF-034", low, "cd used in RUN instead of WORKDIR",
			"`cd` in RUN only affects that step and hides the working directory from readers.",
			"Use `WORKDIR /path` before the RUN."), checkCd},
		{meta("WARD-DF-035", high, "TLS verification disabled for downloads",
			"`curl -k`, `wget --no-check-certificate`, `pip --trusted-host` or `GIT_SSL_NO_VERIFY` let a network attacker replace what is installed.",
			"Keep TLS verification on; add the needed CA certificate to the trust store instead.", "4.11"), checkInsecureTLS},
		{meta("WARD-DF-036", high, "Private key or credential file copied into the image",
			"Files such as id_rsa, *.pem, .env, .npmrc or cloud credentials copied into a layer stay in the image even if deleted later.",
			"Do not copy credentials; use `RUN --mount=type=secret` or `--mount=type=ssh` at build time.", "4.10"), checkSecretFiles},
		{meta("WARD-DF-037", high, "Credentials embedded in a URL",
			"A URL of the form scheme://user:password@host stores the password in the Dockerfile and the image history.",
			"Pass credentials with BuildKit secrets (`RUN --mount=type=secret`) and never inline them.", "4.10"), checkURLCreds},
	}
}

// Checks returns the metadata of every Dockerfile check.
func Checks() []check.Meta {
	rs := rules()
	out := make([]check.Meta, len(rs))
	for i, r := range rs {
		out[i] = r.meta
	}
	return out
}

// analysis holds facts shared by several checks.
type analysis struct {
	// globalArgs are ARG defaults declared before the first FROM.
	globalArgs map[string]string
	// shipped marks stages whose layers end up in the final image.
	shipped map[int]bool
	// final is the index of the final stage (-1 if none).
	final int
}

func analyze(f *File) *analysis {
	a := &analysis{globalArgs: map[string]string{}, shipped: map[int]bool{}, final: len(f.Stages) - 1}
	for i := range f.Instructions {
		in := &f.Instructions[i]
		if in.Stage >= 0 {
			break
		}
		if in.Cmd == "ARG" {
			for _, kv := range in.KVs {
				if kv.HasValue {
					a.globalArgs[kv.Key] = kv.Value
				}
			}
		}
	}
	for s := a.final; s >= 0 && !a.shipped[s]; {
		a.shipped[s] = true
		s = a.stageByName(f, f.Stages[s].Image, s)
	}
	return a
}

// stageByName returns the index of an earlier stage named name, or -1.
func (a *analysis) stageByName(f *File, name string, before int) int {
	name = strings.ToLower(name)
	for i := 0; i < before && i < len(f.Stages); i++ {
		if f.Stages[i].Name != "" && f.Stages[i].Name == name {
			return i
		}
	}
	return -1
}

var argRef = regexp.MustCompile(`\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}?`)

// expand substitutes global ARG defaults in s.
func (a *analysis) expand(s string) (string, bool) {
	ok := true
	out := argRef.ReplaceAllStringFunc(s, func(m string) string {
		sm := argRef.FindStringSubmatch(m)
		if v, found := a.globalArgs[sm[1]]; found && v != "" {
			return v
		}
		if sm[2] != "" {
			return sm[2]
		}
		ok = false
		return m
	})
	return out, ok
}

// imageRef splits an image reference into name, tag and digest.
func imageRef(ref string) (name, tag, digest string) {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref, digest = ref[:i], ref[i+1:]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		return ref[:i], ref[i+1:], digest
	}
	return ref, "", digest
}

// baseImages yields the FROM instructions whose image is an external image
// (not scratch, not an earlier stage), with the expanded reference.
func baseImages(f *File, a *analysis) []struct {
	in  *Instruction
	ref string
	raw string
} {
	var out []struct {
		in  *Instruction
		ref string
		raw string
	}
	for _, st := range f.Stages {
		raw := st.Image
		if raw == "" {
			continue
		}
		ref, ok := a.expand(raw)
		if !ok || strings.EqualFold(ref, "scratch") || a.stageByName(f, ref, st.Index) >= 0 {
			continue
		}
		out = append(out, struct {
			in  *Instruction
			ref string
			raw string
		}{&f.Instructions[st.From], ref, raw})
	}
	return out
}

func checkLatest(f *File, a *analysis) []hit {
	var hs []hit
	for _, b := range baseImages(f, a) {
		if _, tag, dg := imageRef(b.ref); tag == "latest" && dg == "" {
			hs = append(hs, hit{b.in, b.raw, fmt.Sprintf("base image %q uses the :latest tag", b.ref)})
		}
	}
	return hs
}

func checkUntagged(f *File, a *analysis) []hit {
	var hs []hit
	for _, b := range baseImages(f, a) {
		if _, tag, dg := imageRef(b.ref); tag == "" && dg == "" {
			hs = append(hs, hit{b.in, b.raw, fmt.Sprintf("base image %q has no tag (implies :latest)", b.ref)})
		}
	}
	return hs
}

func checkNoDigest(f *File, a *analysis) []hit {
	var hs []hit
	for _, b := range baseImages(f, a) {
		if _, tag, dg := imageRef(b.ref); tag != "" && tag != "latest" && dg == "" {
			hs = append(hs, hit{b.in, b.raw, fmt.Sprintf("base image %q is not pinned by digest", b.ref)})
		}
	}
	return hs
}

// stageInsts returns the instructions of stage s.
func stageInsts(f *File, s int) []*Instruction {
	var out []*Instruction
	for i := range f.Instructions {
		if f.Instructions[i].Stage == s {
			out = append(out, &f.Instructions[i])
		}
	}
	return out
}

// lastUser returns the last USER instruction of stage s, following the
// stage's base when it is an earlier stage.
func lastUser(f *File, a *analysis, s int, depth int) *Instruction {
	if s < 0 || depth > len(f.Stages) {
		return nil
	}
	var u *Instruction
	for _, in := range stageInsts(f, s) {
		if in.Cmd == "USER" {
			u = in
		}
	}
	if u != nil {
		return u
	}
	return lastUser(f, a, a.stageByName(f, f.Stages[s].Image, s), depth+1)
}

func isRootUser(u string) bool {
	u = strings.TrimSpace(u)
	name, _, _ := strings.Cut(u, ":")
	return name == "root" || name == "0"
}

func checkNoUser(f *File, a *analysis) []hit {
	if a.final < 0 || lastUser(f, a, a.final, 0) != nil {
		return nil
	}
	st := f.Stages[a.final]
	img, _ := a.expand(st.Image)
	if strings.Contains(img, "nonroot") || strings.Contains(img, "rootless") {
		return nil
	}
	return []hit{{&f.Instructions[st.From], "", "the final stage has no USER instruction, so the container runs as root"}}
}

func checkUserRoot(f *File, a *analysis) []hit {
	if a.final < 0 {
		return nil
	}
	u := lastUser(f, a, a.final, 0)
	if u == nil || len(u.Args) == 0 || !isRootUser(u.Args[0]) {
		return nil
	}
	return []hit{{u, u.Args[0], fmt.Sprintf("the last USER is %q", u.Args[0])}}
}

func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "ftp://") || strings.HasPrefix(l, "git@")
}

var archiveExt = []string{".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".gz", ".bz2", ".xz"}

func isArchive(s string) bool {
	l := strings.ToLower(s)
	for _, e := range archiveExt {
		if strings.HasSuffix(l, e) {
			return true
		}
	}
	return false
}

// sources returns the source operands of COPY/ADD (all args but the last).
func sources(in *Instruction) []string {
	if len(in.Args) < 2 {
		return nil
	}
	return in.Args[:len(in.Args)-1]
}

func forCmd(f *File, cmd string, fn func(in *Instruction)) {
	for i := range f.Instructions {
		in := &f.Instructions[i]
		if in.Cmd == cmd {
			fn(in)
		}
		if in.Sub != nil && in.Sub.Cmd == cmd {
			fn(in.Sub)
		}
	}
}

func checkAddURL(f *File, _ *analysis) []hit {
	var hs []hit
	forCmd(f, "ADD", func(in *Instruction) {
		if _, ok := in.Flag("checksum"); ok {
			return
		}
		for _, s := range sources(in) {
			if isURL(s) {
				hs = append(hs, hit{in, s, fmt.Sprintf("ADD fetches %s without --checksum", s)})
			}
		}
	})
	return hs
}

func checkAddArchive(f *File, _ *analysis) []hit {
	var hs []hit
	forCmd(f, "ADD", func(in *Instruction) {
		for _, s := range sources(in) {
			if !isURL(s) && isArchive(s) {
				hs = append(hs, hit{in, s, fmt.Sprintf("ADD extracts the local archive %s", s)})
			}
		}
	})
	return hs
}

func checkAddLocal(f *File, _ *analysis) []hit {
	var hs []hit
	forCmd(f, "ADD", func(in *Instruction) {
		src := sources(in)
		if len(src) == 0 {
			return
		}
		for _, s := range src {
			if isURL(s) || isArchive(s) {
				return
			}
		}
		hs = append(hs, hit{in, "", "ADD copies local files; use COPY"})
	})
	return hs
}

// runs calls fn for every RUN instruction with its commands.
func runs(f *File, fn func(in *Instruction, cmds []shellCmd)) {
	forCmd(f, "RUN", func(in *Instruction) { fn(in, runCommands(in)) })
}

func checkCurlPipe(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		for i, c := range cmds {
			n := c.Name()
			if (n == "curl" || n == "wget") && c.Pipe && i+1 < len(cmds) {
				next := cmds[i+1].Name()
				if isShell(next) || strings.HasPrefix(next, "python") || n == "perl" || next == "perl" || next == "ruby" || next == "node" {
					hs = append(hs, hit{in, n, fmt.Sprintf("output of %s is piped into %s", n, next)})
				}
			}
			if isShell(n) {
				for _, w := range c.Words {
					if strings.Contains(w, "$(curl") || strings.Contains(w, "$(wget") || strings.Contains(w, "<(curl") || strings.Contains(w, "<(wget") {
						hs = append(hs, hit{in, n, fmt.Sprintf("%s runs a downloaded script", n)})
						break
					}
				}
			}
		}
	})
	return hs
}

var secretKey = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth[_-]?key|client[_-]?secret)`)

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

func checkEnvSecret(f *File, _ *analysis) []hit {
	var hs []hit
	forCmd(f, "ENV", func(in *Instruction) {
		for _, kv := range in.KVs {
			v := strings.TrimSpace(kv.Value)
			if !secretName(kv.Key) || v == "" || argRef.FindString(v) == v {
				continue
			}
			hs = append(hs, hit{in, kv.Key, fmt.Sprintf("ENV %s holds a literal secret value", kv.Key)})
		}
	})
	return hs
}

func checkArgSecret(f *File, _ *analysis) []hit {
	var hs []hit
	forCmd(f, "ARG", func(in *Instruction) {
		for _, kv := range in.KVs {
			if secretName(kv.Key) {
				hs = append(hs, hit{in, kv.Key, fmt.Sprintf("ARG %s passes a secret as a build argument", kv.Key)})
			}
		}
	})
	return hs
}

func checkSudo(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		for _, c := range cmds {
			if len(c.Words) > 0 && (c.Words[0] == "sudo" || c.Words[0] == "doas") {
				hs = append(hs, hit{in, c.Words[0], c.Words[0] + " used in RUN"})
				return
			}
		}
	})
	return hs
}

func isApt(n string) bool { return n == "apt-get" || n == "apt" || n == "aptitude" }

// sub returns the first non-option argument after the program name.
func sub(c shellCmd) string {
	a := c.Args()
	for i := 1; i < len(a); i++ {
		if a[i] == "-o" || a[i] == "-c" {
			i++
			continue
		}
		if !strings.HasPrefix(a[i], "-") {
			return a[i]
		}
	}
	return ""
}

func checkUpdateAlone(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		var upd string
		installs := false
		for _, c := range cmds {
			n, s := c.Name(), sub(c)
			switch {
			case (isApt(n) || n == "apk") && s == "update":
				upd = n
			case (isApt(n) || n == "apk" || n == "yum" || n == "dnf") && (s == "install" || s == "add" || s == "upgrade" || s == "dist-upgrade"):
				installs = true
			}
		}
		if upd != "" && !installs {
			hs = append(hs, hit{in, upd, upd + " update without an install in the same RUN"})
		}
	})
	return hs
}

func aptInstalls(cmds []shellCmd) []shellCmd {
	var out []shellCmd
	for _, c := range cmds {
		if isApt(c.Name()) && sub(c) == "install" {
			out = append(out, c)
		}
	}
	return out
}

func checkNoRecommends(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		for _, c := range aptInstalls(cmds) {
			if c.Name() == "aptitude" || c.Has("--no-install-recommends") {
				continue
			}
			ok := false
			for _, w := range c.Words {
				if strings.Contains(w, "Install-Recommends=false") || strings.Contains(w, "Install-Recommends=0") {
					ok = true
				}
			}
			if !ok {
				hs = append(hs, hit{in, c.Name(), c.Name() + " install without --no-install-recommends"})
			}
		}
	})
	return hs
}

func cacheMount(in *Instruction, dir string) bool {
	for _, fl := range in.Flags {
		if strings.HasPrefix(fl, "--mount=") && strings.Contains(fl, "type=cache") && strings.Contains(fl, dir) {
			return true
		}
	}
	return false
}

func anyWordHas(cmds []shellCmd, name string, frag string) bool {
	for _, c := range cmds {
		if c.Name() != name {
			continue
		}
		for _, w := range c.Words {
			if strings.Contains(w, frag) {
				return true
			}
		}
	}
	return false
}

// shippedRuns calls fn for RUN instructions of stages in the final image.
func shippedRuns(f *File, a *analysis, fn func(in *Instruction, cmds []shellCmd)) {
	runs(f, func(in *Instruction, cmds []shellCmd) {
		if a.shipped[in.Stage] {
			fn(in, cmds)
		}
	})
}

func checkAptClean(f *File, a *analysis) []hit {
	var hs []hit
	shippedRuns(f, a, func(in *Instruction, cmds []shellCmd) {
		ins := aptInstalls(cmds)
		if len(ins) == 0 || cacheMount(in, "/var/lib/apt") || anyWordHas(cmds, "rm", "/var/lib/apt/lists") {
			return
		}
		hs = append(hs, hit{in, ins[0].Name(), "apt lists are not removed in the RUN that installs packages"})
	})
	return hs
}

func checkApkCache(f *File, a *analysis) []hit {
	var hs []hit
	shippedRuns(f, a, func(in *Instruction, cmds []shellCmd) {
		for _, c := range cmds {
			if c.Name() == "apk" && sub(c) == "add" && !c.Has("--no-cache") && !cacheMount(in, "/var/cache/apk") && !anyWordHas(cmds, "rm", "/var/cache/apk") {
				hs = append(hs, hit{in, "apk", "apk add without --no-cache"})
			}
		}
	})
	return hs
}

func checkYumClean(f *File, a *analysis) []hit {
	var hs []hit
	shippedRuns(f, a, func(in *Instruction, cmds []shellCmd) {
		var inst string
		clean := cacheMount(in, "/var/cache/")
		for _, c := range cmds {
			n, s := c.Name(), sub(c)
			switch {
			case (n == "yum" || n == "dnf" || n == "microdnf" || n == "tdnf") && s == "install":
				inst = n
			case (n == "yum" || n == "dnf" || n == "microdnf" || n == "tdnf") && s == "clean":
				clean = true
			case n == "rm":
				for _, w := range c.Words {
					if strings.Contains(w, "/var/cache/yum") || strings.Contains(w, "/var/cache/dnf") {
						clean = true
					}
				}
			}
		}
		if inst != "" && !clean {
			hs = append(hs, hit{in, inst, inst + " install without cleaning the package cache"})
		}
	})
	return hs
}

func isPip(c shellCmd) bool {
	a := c.Args()
	n := c.Name()
	if strings.HasPrefix(n, "pip") {
		return sub(c) == "install"
	}
	// python -m pip install
	if strings.HasPrefix(n, "python") {
		for i := 1; i+2 < len(a); i++ {
			if a[i] == "-m" && strings.HasPrefix(a[i+1], "pip") && a[i+2] == "install" {
				return true
			}
		}
	}
	return false
}

func checkPipCache(f *File, a *analysis) []hit {
	var hs []hit
	envOff := map[int]bool{}
	forCmd(f, "ENV", func(in *Instruction) {
		for _, kv := range in.KVs {
			if strings.EqualFold(kv.Key, "PIP_NO_CACHE_DIR") {
				envOff[in.Stage] = true
			}
		}
	})
	shippedRuns(f, a, func(in *Instruction, cmds []shellCmd) {
		for _, c := range cmds {
			if isPip(c) && !c.Has("--no-cache-dir") && !envOff[in.Stage] && !cacheMount(in, "/root/.cache") {
				hs = append(hs, hit{in, c.Name(), "pip install without --no-cache-dir"})
			}
		}
	})
	return hs
}

// packages returns the non-option words after the subcommand, skipping
// options that take a value.
func packages(c shellCmd, withValue ...string) []string {
	a := c.Args()
	var out []string
	seenSub := false
	for i := 1; i < len(a); i++ {
		w := a[i]
		if strings.HasPrefix(w, "-") {
			for _, o := range withValue {
				if w == o {
					i++
				}
			}
			continue
		}
		if !seenSub {
			seenSub = true
			continue
		}
		out = append(out, w)
	}
	return out
}

func checkAptPin(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		for _, c := range aptInstalls(cmds) {
			for _, p := range packages(c, "-o", "-t", "--target-release") {
				if !strings.Contains(p, "=") && !strings.HasSuffix(p, ".deb") && !strings.Contains(p, "$") {
					hs = append(hs, hit{in, p, fmt.Sprintf("package %s is not pinned to a version", p)})
				}
			}
		}
	})
	return hs
}

func checkApkPin(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		for _, c := range cmds {
			if c.Name() != "apk" || sub(c) != "add" {
				continue
			}
			for _, p := range packages(c, "-t", "--virtual", "-X", "--repository", "--repositories-file", "-p", "--root") {
				if !strings.Contains(p, "=") && !strings.HasSuffix(p, ".apk") && !strings.Contains(p, "$") {
					hs = append(hs, hit{in, p, fmt.Sprintf("package %s is not pinned to a version", p)})
				}
			}
		}
	})
	return hs
}

func checkPipPin(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		for _, c := range cmds {
			if !isPip(c) {
				continue
			}
			a := c.Args()
			start := 1
			for i := 1; i < len(a); i++ {
				if a[i] == "install" {
					start = i + 1
					break
				}
			}
			for i := start; i < len(a); i++ {
				p := a[i]
				if strings.HasPrefix(p, "-") {
					switch p {
					case "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url", "--trusted-host", "-f", "--find-links", "-t", "--target", "--prefix", "--root":
						i++
					}
					continue
				}
				if strings.ContainsAny(p, "=<>@~!/$") || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".whl") || isArchive(p) || strings.HasSuffix(p, ".zip") {
					continue
				}
				hs = append(hs, hit{in, p, fmt.Sprintf("Python package %s is not pinned to a version", p)})
			}
		}
	})
	return hs
}

func checkUpgrade(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		for _, c := range cmds {
			n, s := c.Name(), sub(c)
			if isApt(n) && (s == "upgrade" || s == "dist-upgrade" || s == "full-upgrade") ||
				n == "apk" && s == "upgrade" ||
				(n == "yum" || n == "dnf" || n == "microdnf") && (s == "update" || s == "upgrade") && len(packages(c)) == 0 {
				hs = append(hs, hit{in, n, fmt.Sprintf("%s %s upgrades the whole distribution", n, s)})
			}
		}
	})
	return hs
}

func checkHealthcheck(f *File, a *analysis) []hit {
	if a.final < 0 {
		return nil
	}
	var last *Instruction
	for s := range a.shipped {
		for _, in := range stageInsts(f, s) {
			if in.Cmd == "HEALTHCHECK" && (last == nil || in.Line > last.Line) {
				last = in
			}
		}
	}
	if last != nil && len(last.Args) > 0 && last.Args[0] != "NONE" {
		return nil
	}
	if last != nil {
		return []hit{{last, "NONE", "HEALTHCHECK NONE disables health checking"}}
	}
	return []hit{{&f.Instructions[f.Stages[a.final].From], "", "the final image has no HEALTHCHECK"}}
}

func checkExpose22(f *File, _ *analysis) []hit {
	var hs []hit
	forCmd(f, "EXPOSE", func(in *Instruction) {
		for _, p := range in.Args {
			port, _, _ := strings.Cut(p, "/")
			if port == "22" {
				hs = append(hs, hit{in, p, "port 22 (SSH) is exposed"})
			}
		}
	})
	return hs
}

var worldWritable = regexp.MustCompile(`^(0?[0-7]?[0-7][0-7][2367]|[augo]*[ao][augo]*\+[rwxXst]*w[rwxXst]*)$`)

func checkChmod777(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		for _, c := range cmds {
			if c.Name() != "chmod" {
				continue
			}
			for _, w := range c.Args()[1:] {
				if worldWritable.MatchString(w) {
					hs = append(hs, hit{in, w, fmt.Sprintf("chmod %s makes files world-writable", w)})
				}
			}
		}
	})
	for _, cmd := range []string{"COPY", "ADD"} {
		forCmd(f, cmd, func(in *Instruction) {
			if m, ok := in.Flag("chmod"); ok && worldWritable.MatchString(m) {
				hs = append(hs, hit{in, "--chmod", fmt.Sprintf("%s --chmod=%s makes files world-writable", in.Cmd, m)})
			}
		})
	}
	return hs
}

func checkShellEntrypoint(f *File, _ *analysis) []hit {
	var hs []hit
	forCmd(f, "ENTRYPOINT", func(in *Instruction) {
		if !in.JSON && len(in.Args) > 0 {
			hs = append(hs, hit{in, "", "ENTRYPOINT uses the shell form"})
		}
	})
	return hs
}

func multi(cmd string) func(*File, *analysis) []hit {
	return func(f *File, _ *analysis) []hit {
		var hs []hit
		for s := range f.Stages {
			var seen []*Instruction
			for _, in := range stageInsts(f, s) {
				if in.Cmd == cmd {
					seen = append(seen, in)
				}
			}
			for _, in := range seen[min(len(seen), 1):] {
				hs = append(hs, hit{in, "", fmt.Sprintf("stage %d has %d %s instructions; only the last one takes effect", s, len(seen), cmd)})
			}
		}
		return hs
	}
}

func checkChownR(f *File, _ *analysis) []hit {
	var hs []hit
	copied := map[int]bool{}
	for i := range f.Instructions {
		in := &f.Instructions[i]
		switch in.Cmd {
		case "COPY", "ADD":
			if _, ok := in.Flag("chown"); !ok {
				copied[in.Stage] = true
			}
		case "RUN":
			if !copied[in.Stage] {
				continue
			}
			for _, c := range runCommands(in) {
				if c.Name() == "chown" && (c.HasShort('R') || c.Has("--recursive")) {
					hs = append(hs, hit{in, "chown", "chown -R after COPY duplicates the copied files in a new layer"})
				}
			}
		}
	}
	return hs
}

var setuidMode = regexp.MustCompile(`^([2-7][0-7]{3}|[ugoa]*[ug][ugoa]*\+[rwxXt]*s[rwxXst]*|\+s)$`)

func checkSetuid(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		for _, c := range cmds {
			if c.Name() != "chmod" {
				continue
			}
			for _, w := range c.Args()[1:] {
				if setuidMode.MatchString(w) {
					hs = append(hs, hit{in, w, fmt.Sprintf("chmod %s sets the setuid/setgid bit", w)})
				}
			}
		}
	})
	return hs
}

func checkMaintainer(f *File, _ *analysis) []hit {
	var hs []hit
	forCmd(f, "MAINTAINER", func(in *Instruction) { hs = append(hs, hit{in, "", "MAINTAINER is deprecated"}) })
	return hs
}

func checkWorkdir(f *File, _ *analysis) []hit {
	var hs []hit
	forCmd(f, "WORKDIR", func(in *Instruction) {
		if len(in.Args) == 0 {
			return
		}
		p := unquote(in.Args[0])
		if strings.HasPrefix(p, "/") || strings.HasPrefix(p, "$") || len(p) > 1 && p[1] == ':' || strings.HasPrefix(p, `\`) {
			return
		}
		hs = append(hs, hit{in, p, fmt.Sprintf("WORKDIR %s is relative", p)})
	})
	return hs
}

func checkCd(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		for _, c := range cmds {
			if c.Name() == "cd" {
				hs = append(hs, hit{in, "cd ", "cd used in RUN; use WORKDIR"})
				return
			}
		}
	})
	return hs
}

func checkInsecureTLS(f *File, _ *analysis) []hit {
	var hs []hit
	runs(f, func(in *Instruction, cmds []shellCmd) {
		for _, c := range cmds {
			n := c.Name()
			var bad string
			switch {
			case n == "curl" && (c.Has("--insecure") || c.HasShort('k')):
				bad = "curl --insecure"
			case n == "wget" && c.Has("--no-check-certificate"):
				bad = "wget --no-check-certificate"
			case (strings.HasPrefix(n, "pip") || strings.HasPrefix(n, "python")) && c.Has("--trusted-host"):
				bad = "pip --trusted-host"
			case n == "git" && anyWordHas([]shellCmd{c}, "git", "sslVerify=false"):
				bad = "git http.sslVerify=false"
			case (n == "npm" || n == "yarn") && anyWordHas([]shellCmd{c}, n, "strict-ssl") && (c.Has("false")):
				bad = n + " strict-ssl false"
			}
			if bad == "" {
				for _, w := range c.Words {
					if w == "GIT_SSL_NO_VERIFY=1" || w == "GIT_SSL_NO_VERIFY=true" || w == "NODE_TLS_REJECT_UNAUTHORIZED=0" || w == "PYTHONHTTPSVERIFY=0" {
						bad = w
					}
				}
			}
			if bad != "" {
				hs = append(hs, hit{in, n, "TLS verification disabled: " + bad})
			}
		}
	})
	forCmd(f, "ENV", func(in *Instruction) {
		for _, kv := range in.KVs {
			k := strings.ToUpper(kv.Key)
			if k == "GIT_SSL_NO_VERIFY" && kv.Value != "" && kv.Value != "0" && kv.Value != "false" ||
				k == "NODE_TLS_REJECT_UNAUTHORIZED" && kv.Value == "0" || k == "PYTHONHTTPSVERIFY" && kv.Value == "0" {
				hs = append(hs, hit{in, kv.Key, "TLS verification disabled: " + kv.Key + "=" + kv.Value})
			}
		}
	})
	return hs
}

var secretFile = regexp.MustCompile(`(?i)(^|/)(id_rsa|id_dsa|id_ecdsa|id_ed25519|\.ssh|\.env|\.npmrc|\.pypirc|\.netrc|\.git-credentials|\.dockercfg|credentials|\.htpasswd|kubeconfig)(/|$)|(?i)\.(pem|key|p12|pfx|jks|keystore)$|(?i)(^|/)\.aws(/|$)|(?i)(^|/)\.docker/config\.json$`)

func checkSecretFiles(f *File, _ *analysis) []hit {
	var hs []hit
	for _, cmd := range []string{"COPY", "ADD"} {
		forCmd(f, cmd, func(in *Instruction) {
			if _, ok := in.Flag("from"); ok {
				return
			}
			for _, s := range sources(in) {
				if !isURL(s) && secretFile.MatchString(strings.TrimSuffix(s, "/")) {
					hs = append(hs, hit{in, s, fmt.Sprintf("%s copies %s into the image", in.Cmd, s)})
				}
			}
		})
	}
	return hs
}

var urlCreds = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://([^/\s:@$]+):([^/\s@$]+)@[^\s/]+`)

func checkURLCreds(f *File, _ *analysis) []hit {
	var hs []hit
	for i := range f.Instructions {
		in := &f.Instructions[i]
		texts := append([]string{in.Original}, in.Heredocs...)
		for _, t := range texts {
			if m := urlCreds.FindString(t); m != "" {
				hs = append(hs, hit{in, m, "a URL in " + in.Cmd + " embeds a username and password"})
				break
			}
		}
	}
	return hs
}
