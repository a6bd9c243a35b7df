package osv

import (
	"strings"
	"unicode"
)

// SplitEcosystem splits "Debian:12" into ("Debian", "12") and
// "Ubuntu:22.04:LTS" into ("Ubuntu", "22.04:LTS").
func SplitEcosystem(eco string) (base, release string) {
	base, release, _ = strings.Cut(eco, ":")
	return base, release
}

// NormalizeName returns the form of a package name under which Ward
// indexes and looks it up: PEP 503 for PyPI, lower case for ecosystems
// whose names are case-insensitive, unchanged otherwise.
func NormalizeName(baseEcosystem, name string) string {
	switch baseEcosystem {
	case "PyPI":
		return normalizePyPI(name)
	case "NuGet", "Packagist", "Hackage", "Pub":
		return strings.ToLower(name)
	}
	return name
}

// normalizePyPI applies PEP 503: lower case, runs of -, _ and . become -.
func normalizePyPI(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for _, r := range name {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// NormalizeRelease maps a distro release as an OS detector reports it to
// the form OSV ecosystems use: "Alpine" 3.20.1 -> "v3.20", "Debian" 12.5 ->
// "12", "AlmaLinux"/"Rocky Linux"/"Red Hat" 9.4 -> "9", "Ubuntu" 22.04
// unchanged. Unknown distros are returned unchanged.
func NormalizeRelease(base, release string) string {
	if release == "" {
		return ""
	}
	switch base {
	case "Alpine":
		r := strings.TrimPrefix(release, "v")
		parts := strings.Split(r, ".")
		if len(parts) >= 2 && isDigits(parts[0]) && isDigits(parts[1]) {
			return "v" + parts[0] + "." + parts[1]
		}
		return release
	case "Debian", "AlmaLinux", "Rocky Linux", "Red Hat", "Oracle Linux", "CentOS":
		if i := strings.IndexByte(release, '.'); i > 0 && isDigits(release[:i]) {
			return release[:i]
		}
	}
	return release
}

// ReleaseMatches reports whether an advisory's ecosystem release covers a
// package's (normalized) release: equal, or the advisory's is a qualified
// form of it ("22.04:LTS" covers "22.04"). Red Hat's CPE-like releases
// ("enterprise_linux:9::appstream") cover major version "9". An empty
// advisory release covers everything (ecosystems without releases).
func ReleaseMatches(base, advisoryRelease, pkgRelease string) bool {
	if advisoryRelease == "" {
		return true
	}
	if pkgRelease == "" {
		return false
	}
	if advisoryRelease == pkgRelease || strings.HasPrefix(advisoryRelease, pkgRelease+":") {
		return true
	}
	if base == "Red Hat" {
		f := strings.Split(advisoryRelease, ":")
		if len(f) >= 2 && (f[0] == "enterprise_linux" || strings.HasPrefix(f[0], "rhel")) {
			maj, _, _ := strings.Cut(f[1], ".")
			return maj == pkgRelease
		}
	}
	return false
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
