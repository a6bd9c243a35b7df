// Package imageconfig finds misconfigurations of container images in their
// configuration (user, healthcheck, environment), build history (ADD of
// remote URLs, curl|sh) and files (setuid/setgid, world-writable, shells
// and package managers left in the image). Findings are misconfigurations
// with the image layer and build instruction as their position; rule IDs
// are WARD-IMG-NNN.
//
// Scan does everything for an artifact. Callers that already walk the
// image (the orchestrator, with the secret scanner) use ConfigFindings and
// a FileChecker fed from their own walk instead.
package imageconfig

import (
	"context"
	"io"
	"io/fs"
	"regexp"
	"sort"
	"strings"

	"github.com/wardsec/ward/internal/artifact"
	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/sbom"
)

// DocType of these checks in the catalogue.
const DocType check.DocType = "image"

// The checks, in ID order.
var (
	RootUser = check.Meta{ID: "WARD-IMG-001", Title: "Image runs as root", Severity: finding.SeverityMedium, DocType: DocType,
		Description: "The image configuration sets no USER, or USER root/0: containers run as root unless the runtime overrides it, so a compromise of the process is a compromise of root in the container.",
		Remediation: "Add a non-root user and set `USER <uid>` in the Dockerfile (a numeric UID lets Kubernetes verify runAsNonRoot).",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#user"},
		Mappings:    []check.Mapping{{Framework: "docker-cis", Control: "4.1", Title: "Ensure that a user for the container has been created"}}}
	NoHealthcheck = check.Meta{ID: "WARD-IMG-002", Title: "Image has no HEALTHCHECK", Severity: finding.SeverityLow, DocType: DocType,
		Description: "Without a HEALTHCHECK the engine cannot tell a hung service from a healthy one.",
		Remediation: "Add a HEALTHCHECK instruction (or rely on Kubernetes probes and ignore this finding).",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#healthcheck"},
		Mappings:    []check.Mapping{{Framework: "docker-cis", Control: "4.6", Title: "Ensure that HEALTHCHECK instructions have been added to container images"}}}
	SecretEnv = check.Meta{ID: "WARD-IMG-003", Title: "Secret in image environment", Severity: finding.SeverityHigh, DocType: DocType,
		Description: "An environment variable whose name says it holds a secret has a value baked into the image configuration, readable by anyone who can pull the image.",
		Remediation: "Pass secrets at run time (orchestrator secrets, mounted files, *_FILE variables) and use build secrets (RUN --mount=type=secret) during builds.",
		Mappings:    []check.Mapping{{Framework: "docker-cis", Control: "4.10", Title: "Ensure secrets are not stored in Dockerfiles"}}}
	AddRemoteURL = check.Meta{ID: "WARD-IMG-004", Title: "ADD of a remote URL in the build history", Severity: finding.SeverityMedium, DocType: DocType,
		Description: "ADD fetched a file from a URL at build time: its content is not pinned or verified, and it may change between builds.",
		Remediation: "Download with a pinned checksum (ADD --checksum=sha256:... or curl + sha256sum -c) or COPY a vetted file.",
		Mappings:    []check.Mapping{{Framework: "docker-cis", Control: "4.9", Title: "Ensure that COPY is used instead of ADD in Dockerfiles"}}}
	CurlPipeShell = check.Meta{ID: "WARD-IMG-005", Title: "Remote script piped to a shell in the build history", Severity: finding.SeverityHigh, DocType: DocType,
		Description: "A build step downloaded a script and piped it straight into a shell (curl ... | sh): whatever the server returned that day ran as root in the build.",
		Remediation: "Download the script, verify its checksum or signature, then run it; better, install from a package repository."}
	SetuidFile = check.Meta{ID: "WARD-IMG-006", Title: "setuid or setgid file", Severity: finding.SeverityLow, DocType: DocType,
		Description: "The file runs with its owner's (setuid) or group's (setgid) privileges: a flaw in it is a privilege escalation.",
		Remediation: "Remove the bits where not needed (RUN chmod u-s,g-s FILE) or drop the file; run containers with no-new-privileges.",
		Mappings:    []check.Mapping{{Framework: "docker-cis", Control: "4.8", Title: "Ensure setuid and setgid permissions are removed"}}}
	WorldWritable = check.Meta{ID: "WARD-IMG-007", Title: "World-writable file outside temporary directories", Severity: finding.SeverityMedium, DocType: DocType,
		Description: "Any user in the container can modify this file or directory (outside /tmp, /var/tmp, /dev/shm): a local user can tamper with what other processes read or run.",
		Remediation: "Remove write permission for others (chmod o-w), or set the sticky bit on shared directories."}
	ShellPresent = check.Meta{ID: "WARD-IMG-008", Title: "Shell present in the image", Severity: finding.SeverityLow, DocType: DocType,
		Description: "Informational: the image ships a shell, which an attacker who gains code execution can use. Minimal production images (distroless, scratch) have none.",
		Remediation: "Use a multi-stage build and a minimal base image for production."}
	PackageManagerPresent = check.Meta{ID: "WARD-IMG-009", Title: "Package manager present in the image", Severity: finding.SeverityLow, DocType: DocType,
		Description: "Informational: the image ships a package manager, which lets an intruder install tools.",
		Remediation: "Use a multi-stage build and a minimal base image for production."}
)

// Checks lists every check, for the catalogue.
func Checks() []check.Meta {
	return []check.Meta{RootUser, NoHealthcheck, SecretEnv, AddRemoteURL, CurlPipeShell, SetuidFile, WorldWritable, ShellPresent, PackageManagerPresent}
}

// Scan runs every check on an artifact: the configuration checks when it is
// an image, and the file checks over its files. Walk problems are returned
// as the error from artifact.Walk (see artifact.Problems).
func Scan(ctx context.Context, art artifact.Artifact) ([]finding.Finding, error) {
	var out []finding.Finding
	if cfg := art.Config(); cfg != nil {
		out = ConfigFindings(art.Name(), cfg, art.Layers())
	}
	fc := NewFileChecker(art.Name())
	err := art.Walk(ctx, func(f *artifact.File, _ io.Reader) error {
		fc.Visit(f)
		return nil
	})
	out = append(out, fc.Findings()...)
	finding.Sort(out)
	return out, err
}

// layerLoc is the position of history step h.
func layerLoc(h *artifact.History, layers []sbom.Layer) finding.Location {
	loc := finding.Location{LayerCreatedBy: h.CreatedBy}
	if h.LayerIndex >= 0 && h.LayerIndex < len(layers) {
		loc.LayerDigest = layers[h.LayerIndex].Digest
		loc.LayerDiffID = layers[h.LayerIndex].DiffID
	}
	return loc
}

// lastStep returns the last history step whose instruction matches.
func lastStep(cfg *artifact.ImageConfig, match func(string) bool) *artifact.History {
	for i := len(cfg.History) - 1; i >= 0; i-- {
		if match(instruction(cfg.History[i].CreatedBy)) {
			return &cfg.History[i]
		}
	}
	return nil
}

// instruction strips the classic builder's "/bin/sh -c #(nop) " prefix.
func instruction(createdBy string) string {
	s := strings.TrimSpace(createdBy)
	if i := strings.Index(s, "#(nop)"); i >= 0 {
		return strings.TrimSpace(s[i+len("#(nop)"):])
	}
	return s
}

var (
	secretName    = regexp.MustCompile(`(?i)(passw(or)?d|passwd|secret|token|api_?key|apikey|private_?key|access_?key|credential|auth_?key|client_?secret|_pwd$|^pwd$)`)
	nonSecretName = regexp.MustCompile(`(?i)(_file|_path|_dir|_url|_uri|_host|_port|_user(name)?|_id|_length|_ttl|_expir\w*|_timeout|_enabled|_type|_header|_name)$`)
	awsKeyValue   = regexp.MustCompile(`\b(AKIA|ASIA)[0-9A-Z]{16}\b`)
	addURL        = regexp.MustCompile(`(?i)^ADD\s+(?:--\S+\s+)*.*\bhttps?://`)
	pipeShell     = regexp.MustCompile(`(?i)\b(curl|wget)\b[^|;&]*\|\s*(sudo\s+(-\S+\s+)*)?(\S*/)?(sh|bash|zsh|dash|ash|ksh|python3?|perl)\b`)
)

// placeholder values are not secrets.
func placeholder(v string) bool {
	l := strings.ToLower(strings.TrimSpace(v))
	switch l {
	case "", "changeme", "change-me", "xxx", "none", "null", "false", "true", "0", "1", "<secret>", "redacted":
		return true
	}
	return strings.HasPrefix(l, "/") || strings.HasPrefix(l, "$")
}

// redact keeps the first and last characters of long values only.
func redact(v string) string {
	if len(v) <= 8 {
		return strings.Repeat("*", len(v))
	}
	return v[:2] + strings.Repeat("*", 6) + v[len(v)-2:]
}

// ConfigFindings checks the image configuration and history.
func ConfigFindings(target string, cfg *artifact.ImageConfig, layers []sbom.Layer) []finding.Finding {
	var out []finding.Finding
	user := strings.TrimSpace(cfg.User)
	name, _, _ := strings.Cut(user, ":")
	if name == "" || name == "root" || name == "0" {
		loc := finding.Location{Path: "config.User"}
		msg := "the image sets no USER: it runs as root"
		if h := lastStep(cfg, func(s string) bool { return strings.HasPrefix(strings.ToUpper(s), "USER ") }); h != nil && name != "" {
			loc = layerLoc(h, layers)
			loc.Path = "config.User"
			msg = "USER " + user + ": the image runs as root"
		}
		out = append(out, RootUser.Finding(target, loc, msg, "user:"+user))
	}
	if cfg.Healthcheck == nil || (len(cfg.Healthcheck.Test) > 0 && strings.EqualFold(cfg.Healthcheck.Test[0], "NONE")) {
		out = append(out, NoHealthcheck.Finding(target, finding.Location{Path: "config.Healthcheck"}, "the image declares no HEALTHCHECK", "healthcheck"))
	}
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		named := secretName.MatchString(k) && !nonSecretName.MatchString(k) && !placeholder(v)
		keyed := awsKeyValue.MatchString(v)
		if !named && !keyed {
			continue
		}
		loc := finding.Location{Path: "config.Env." + k}
		if h := lastStep(cfg, func(s string) bool {
			u := strings.ToUpper(s)
			return strings.HasPrefix(u, "ENV ") && strings.Contains(s, k)
		}); h != nil {
			loc = layerLoc(h, layers)
			loc.Path = "config.Env." + k
		}
		f := SecretEnv.Finding(target, loc, "environment variable "+k+" holds a secret-looking value", "env:"+k)
		f.Evidence = k + "=" + redact(v)
		out = append(out, f)
	}
	for i := range cfg.History {
		h := &cfg.History[i]
		ins := instruction(h.CreatedBy)
		loc := layerLoc(h, layers)
		if addURL.MatchString(ins) {
			f := AddRemoteURL.Finding(target, loc, "build step fetched a remote URL with ADD", "history:"+ins)
			f.Evidence = truncate(ins, 200)
			out = append(out, f)
		}
		if m := pipeShell.FindString(ins); m != "" {
			f := CurlPipeShell.Finding(target, loc, "build step piped a download into a shell", "history:"+ins)
			f.Evidence = truncate(m, 200)
			out = append(out, f)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

var (
	tmpDirs = []string{"tmp", "var/tmp", "dev/shm", "run/lock", "var/lock"}
	shells  = map[string]bool{"bin/sh": true, "bin/bash": true, "bin/ash": true, "bin/dash": true, "bin/zsh": true, "bin/busybox": true,
		"usr/bin/sh": true, "usr/bin/bash": true, "usr/bin/dash": true, "usr/bin/zsh": true, "usr/bin/busybox": true}
	packageManagers = map[string]bool{"usr/bin/apt": true, "usr/bin/apt-get": true, "usr/bin/dpkg": true, "sbin/apk": true, "usr/bin/apk": true,
		"usr/bin/yum": true, "usr/bin/dnf": true, "usr/bin/microdnf": true, "usr/bin/rpm": true, "bin/rpm": true, "usr/bin/zypper": true, "usr/bin/tdnf": true}
)

func inTmp(p string) bool {
	for _, d := range tmpDirs {
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

// FileChecker collects file findings from a walk (Walk, not WalkLayer:
// files deleted by a later layer are ignored).
type FileChecker struct {
	target   string
	out      []finding.Finding
	shell    *artifact.File
	pkgMgr   *artifact.File
	maxFiles int
}

// NewFileChecker returns a checker for target. It reports at most 1000
// setuid/world-writable files (then one summary finding per rule).
func NewFileChecker(target string) *FileChecker {
	return &FileChecker{target: target, maxFiles: 1000}
}

func fileLoc(f *artifact.File) finding.Location {
	loc := finding.Location{Path: f.Path}
	if f.Layer != nil {
		loc.LayerDigest, loc.LayerDiffID, loc.LayerCreatedBy = f.Layer.Digest, f.Layer.DiffID, f.Layer.CreatedBy
	}
	return loc
}

// Visit checks one file.
func (c *FileChecker) Visit(f *artifact.File) {
	if f.Deleted || f.Whiteout || f.Opaque {
		return
	}
	mode := f.Mode
	if mode.IsRegular() && !f.Hardlink && mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
		if len(c.out) < c.maxFiles {
			bits := "setuid"
			if mode&fs.ModeSetuid == 0 {
				bits = "setgid"
			} else if mode&fs.ModeSetgid != 0 {
				bits = "setuid and setgid"
			}
			c.out = append(c.out, SetuidFile.Finding(c.target, fileLoc(f), f.Path+" is "+bits, "file:"+f.Path))
		}
	}
	if (mode.IsRegular() || mode.IsDir()) && !f.Hardlink && mode.Perm()&0o002 != 0 && !inTmp(f.Path) {
		if !(mode.IsDir() && mode&fs.ModeSticky != 0) && len(c.out) < c.maxFiles {
			c.out = append(c.out, WorldWritable.Finding(c.target, fileLoc(f), f.Path+" is writable by everyone ("+mode.Perm().String()+")", "file:"+f.Path))
		}
	}
	if shells[f.Path] && c.shell == nil {
		cp := *f
		c.shell = &cp
	}
	if packageManagers[f.Path] && c.pkgMgr == nil {
		cp := *f
		c.pkgMgr = &cp
	}
}

// Findings returns the file findings, including the presence of a shell or
// package manager.
func (c *FileChecker) Findings() []finding.Finding {
	out := append([]finding.Finding(nil), c.out...)
	if c.shell != nil {
		out = append(out, ShellPresent.Finding(c.target, fileLoc(c.shell), "shell "+c.shell.Path+" present", "shell"))
	}
	if c.pkgMgr != nil {
		out = append(out, PackageManagerPresent.Finding(c.target, fileLoc(c.pkgMgr), "package manager "+c.pkgMgr.Path+" present", "package-manager"))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].RuleID < out[j].RuleID })
	return out
}
