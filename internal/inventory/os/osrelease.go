// Package os holds the operating-system extractors: OS detection from
// os-release and friends, and the installed-package databases of dpkg
// (status and distroless status.d), apk (installed) and rpm (SQLite,
// Berkeley DB and NDB via github.com/knqyf263/go-rpmdb).
//
// Extractors returns them as an explicit list for inventory.Extract. The
// release detector implements inventory.OSDetector; the package extractors
// implement inventory.OSFinalizer, which sets each package's OSV ecosystem
// ("Debian:12", "Ubuntu:22.04:LTS", "Alpine:v3.20", "AlmaLinux:9",
// "Rocky Linux:9", "Red Hat:enterprise_linux:9::baseos", "SUSE:<PRETTY_NAME>",
// "openSUSE:<PRETTY_NAME>", "Wolfi", "Chainguard") and PURL distro qualifier
// once the image's final OS is known. CentOS, Oracle Linux and Amazon Linux
// have no OSV ecosystem; they get "CentOS:7", "Oracle Linux:9" and
// "Amazon Linux:2023".
package os

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"regexp"
	"strings"

	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/pkg/sbom"
)

// Files the release detector reads, best first (rank = index).
var releaseFiles = []string{
	"etc/os-release",
	"usr/lib/os-release",
	"etc/lsb-release",
	"etc/alpine-release",
	"etc/redhat-release",
	"etc/centos-release",
	"etc/system-release",
	"etc/debian_version",
	"etc/SuSE-release",
}

const maxReleaseBytes = 64 << 10

// Release detects the operating system. It implements inventory.OSDetector.
type Release struct{}

// Name implements inventory.Extractor.
func (Release) Name() string { return "os/release" }

// Version implements inventory.Extractor.
func (Release) Version() int { return 1 }

// Required implements inventory.Extractor.
func (Release) Required(p string, mode fs.FileMode) bool {
	if !mode.IsRegular() {
		return false
	}
	for _, f := range releaseFiles {
		if p == f {
			return true
		}
	}
	return false
}

// Extract implements inventory.Extractor; the detector finds no packages.
func (Release) Extract(context.Context, *inventory.Input) ([]sbom.Package, error) { return nil, nil }

// DetectOS implements inventory.OSDetector.
func (Release) DetectOS(_ context.Context, in *inventory.Input) (*sbom.OS, int, error) {
	rank := len(releaseFiles)
	for i, f := range releaseFiles {
		if in.Path == f {
			rank = i
		}
	}
	b, err := io.ReadAll(io.LimitReader(in.Reader, maxReleaseBytes+1))
	if err != nil {
		return nil, rank, fmt.Errorf("%s: %w", in.Path, err)
	}
	if len(b) > maxReleaseBytes {
		return nil, rank, fmt.Errorf("%s: larger than %d bytes", in.Path, maxReleaseBytes)
	}
	var o *sbom.OS
	switch in.Path {
	case "etc/os-release", "usr/lib/os-release":
		o, err = ParseOSRelease(strings.NewReader(string(b)))
	case "etc/lsb-release":
		o, err = parseLSBRelease(string(b))
	case "etc/alpine-release":
		v := strings.TrimSpace(firstLine(string(b)))
		if v == "" {
			return nil, rank, fmt.Errorf("%s:1: empty", in.Path)
		}
		o = &sbom.OS{Family: "Alpine", Version: v, Name: "Alpine Linux v" + majorMinor(v)}
	case "etc/debian_version":
		v := strings.TrimSpace(firstLine(string(b)))
		if v == "" {
			return nil, rank, fmt.Errorf("%s:1: empty", in.Path)
		}
		o = &sbom.OS{Family: "Debian", Version: v}
	default:
		o, err = parseRedhatRelease(firstLine(string(b)))
	}
	if err != nil {
		return nil, rank, fmt.Errorf("%s: %w", in.Path, err)
	}
	return o, rank, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// ParseOSRelease reads an os-release file (freedesktop format).
func ParseOSRelease(r io.Reader) (*sbom.OS, error) {
	kv, err := parseKV(r)
	if err != nil {
		return nil, err
	}
	id := strings.ToLower(kv["ID"])
	o := &sbom.OS{Name: kv["PRETTY_NAME"], Version: kv["VERSION_ID"], Codename: kv["VERSION_CODENAME"]}
	switch id {
	case "debian":
		o.Family = "Debian"
		if kv["PRETTY_NAME"] == "Distroless" || strings.Contains(kv["HOME_URL"], "distroless") {
			o.Distroless = true
		}
	case "ubuntu":
		o.Family = "Ubuntu"
		if o.Codename == "" {
			o.Codename = kv["UBUNTU_CODENAME"]
		}
	case "alpine":
		o.Family = "Alpine"
	case "rhel":
		o.Family = "Red Hat"
		o.CPE = kv["CPE_NAME"]
	case "centos":
		o.Family = "CentOS"
	case "rocky":
		o.Family = "Rocky Linux"
	case "almalinux":
		o.Family = "AlmaLinux"
	case "ol":
		o.Family = "Oracle Linux"
	case "amzn":
		o.Family = "Amazon Linux"
	case "sles", "sled", "sles_sap", "sle-micro", "sl-micro":
		o.Family = "SUSE"
	case "opensuse-leap", "opensuse-tumbleweed", "opensuse", "opensuse-microos":
		o.Family = "openSUSE"
	case "wolfi":
		o.Family = "Wolfi"
	case "chainguard":
		o.Family = "Chainguard"
	case "fedora":
		o.Family = "Fedora"
	case "":
		return nil, fmt.Errorf("no ID field")
	default:
		o.Family = kv["NAME"]
		if o.Family == "" {
			o.Family = id
		}
	}
	return o, nil
}

// parseKV reads KEY=value lines with shell quoting, bounding line length.
func parseKV(r io.Reader) (map[string]string, error) {
	kv := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 64<<10)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || s[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("line %d: not KEY=value", line)
		}
		kv[k] = unquote(v)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	return kv, nil
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
		if v != "" {
			v = strings.NewReplacer(`\"`, `"`, `\$`, `$`, "\\`", "`", `\\`, `\`).Replace(v)
		}
	}
	return v
}

func parseLSBRelease(s string) (*sbom.OS, error) {
	kv, err := parseKV(strings.NewReader(s))
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(kv["DISTRIB_ID"], "ubuntu") {
		return nil, fmt.Errorf("unknown DISTRIB_ID %q", kv["DISTRIB_ID"])
	}
	return &sbom.OS{Family: "Ubuntu", Version: kv["DISTRIB_RELEASE"], Codename: kv["DISTRIB_CODENAME"], Name: kv["DISTRIB_DESCRIPTION"]}, nil
}

var redhatRe = regexp.MustCompile(`^(.*?) (?:Linux )?(?:Server )?release (\d+(?:\.\d+)*)`)

func parseRedhatRelease(line string) (*sbom.OS, error) {
	m := redhatRe.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return nil, fmt.Errorf("line 1: no \"release N\" in %q", truncate(line, 80))
	}
	name := strings.ToLower(m[1])
	o := &sbom.OS{Name: strings.TrimSpace(line), Version: m[2]}
	switch {
	case strings.HasPrefix(name, "centos"):
		o.Family = "CentOS"
	case strings.HasPrefix(name, "rocky"):
		o.Family = "Rocky Linux"
	case strings.HasPrefix(name, "almalinux"):
		o.Family = "AlmaLinux"
	case strings.HasPrefix(name, "oracle"):
		o.Family = "Oracle Linux"
	case strings.HasPrefix(name, "amazon"):
		o.Family = "Amazon Linux"
	case strings.HasPrefix(name, "red hat"):
		o.Family = "Red Hat"
	case strings.HasPrefix(name, "fedora"):
		o.Family = "Fedora"
	default:
		return nil, fmt.Errorf("line 1: unknown distribution %q", truncate(m[1], 80))
	}
	return o, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func major(v string) string {
	if i := strings.IndexByte(v, '.'); i >= 0 {
		return v[:i]
	}
	return v
}

func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

// Ecosystem returns OSV's ecosystem string for packages of the OS.
func Ecosystem(o *sbom.OS) string {
	if o == nil {
		return ""
	}
	switch o.Family {
	case "Debian":
		if o.Version == "" {
			return "Debian"
		}
		return "Debian:" + major(o.Version)
	case "Ubuntu":
		e := "Ubuntu:" + majorMinor(o.Version)
		if strings.Contains(o.Name, "LTS") {
			e += ":LTS"
		}
		return e
	case "Alpine":
		return "Alpine:v" + majorMinor(o.Version)
	case "Red Hat":
		if strings.HasPrefix(o.CPE, "cpe:/o:redhat:") {
			return "Red Hat:" + strings.TrimPrefix(o.CPE, "cpe:/o:redhat:")
		}
		return "Red Hat:enterprise_linux:" + major(o.Version)
	case "AlmaLinux", "Rocky Linux", "CentOS", "Oracle Linux":
		return o.Family + ":" + major(o.Version)
	case "Amazon Linux":
		return "Amazon Linux:" + o.Version
	case "SUSE", "openSUSE":
		if o.Name != "" {
			return o.Family + ":" + o.Name
		}
		return o.Family
	case "Wolfi", "Chainguard":
		return o.Family
	}
	if o.Version == "" {
		return o.Family
	}
	return o.Family + ":" + o.Version
}

// distroQualifier is the PURL "distro" qualifier ("debian-12").
func distroQualifier(o *sbom.OS) string {
	if o == nil || o.Version == "" {
		return ""
	}
	id := map[string]string{
		"Debian": "debian", "Ubuntu": "ubuntu", "Alpine": "alpine", "Red Hat": "rhel", "CentOS": "centos",
		"Rocky Linux": "rocky", "AlmaLinux": "almalinux", "Oracle Linux": "ol", "Amazon Linux": "amzn",
		"SUSE": "sles", "openSUSE": "opensuse", "Wolfi": "wolfi", "Chainguard": "chainguard", "Fedora": "fedora",
	}[o.Family]
	if id == "" {
		id = strings.ToLower(strings.ReplaceAll(o.Family, " ", ""))
	}
	return id + "-" + o.Version
}
