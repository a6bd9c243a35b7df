package benchmark

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/wardsec/ward/pkg/sbom"
)

// readOSPackages is the fallback OS package inventory used when
// Options.Packages is nil: dpkg's status file (installed packages only) or
// apk's installed database.
func readOSPackages(r *rootFS) ([]sbom.Package, error) {
	if data, err := r.readFile("/var/lib/dpkg/status"); err == nil {
		return parseDpkgStatus(r.display("/var/lib/dpkg/status"), data)
	}
	if data, err := r.readFile("/lib/apk/db/installed"); err == nil {
		return parseApkInstalled(r.display("/lib/apk/db/installed"), data)
	}
	return nil, nil
}

// parseDpkgStatus reads the Package, Version and Status fields of each
// stanza and keeps packages whose status is "install ok installed".
func parseDpkgStatus(name string, data []byte) ([]sbom.Package, error) {
	lines, err := splitLines(name, data)
	if err != nil {
		return nil, err
	}
	var out []sbom.Package
	var pkg, ver, status string
	var startLine int
	flush := func() {
		if pkg != "" && (status == "" || strings.HasSuffix(status, " installed")) {
			out = append(out, sbom.Package{Name: pkg, Version: ver, Type: sbom.TypeOS, Path: name, Line: startLine})
		}
		pkg, ver, status = "", "", ""
	}
	for _, l := range lines {
		if strings.TrimSpace(l.text) == "" {
			flush()
			continue
		}
		if l.text[0] == ' ' || l.text[0] == '\t' {
			continue
		}
		k, v, ok := strings.Cut(l.text, ":")
		if !ok {
			return out, fmt.Errorf("%s:%d: field line without ':'", name, l.n)
		}
		v = strings.TrimSpace(v)
		switch k {
		case "Package":
			pkg, startLine = v, l.n
		case "Version":
			ver = v
		case "Status":
			status = v
		}
	}
	flush()
	return out, nil
}

// parseApkInstalled reads P: (name) and V: (version) records.
func parseApkInstalled(name string, data []byte) ([]sbom.Package, error) {
	var out []sbom.Package
	var cur sbom.Package
	for i, l := range bytes.Split(data, []byte("\n")) {
		s := string(l)
		switch {
		case s == "":
			if cur.Name != "" {
				out = append(out, cur)
			}
			cur = sbom.Package{}
		case strings.HasPrefix(s, "P:"):
			cur = sbom.Package{Name: s[2:], Type: sbom.TypeOS, Path: name, Line: i + 1}
		case strings.HasPrefix(s, "V:"):
			cur.Version = s[2:]
		}
	}
	if cur.Name != "" {
		out = append(out, cur)
	}
	return out, nil
}
