package os

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	stdos "os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
	"github.com/package-url/packageurl-go"
	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/pkg/sbom"

	// The "sqlite" database/sql driver go-rpmdb opens rpmdb.sqlite with
	// (pure Go; the same driver the rest of Ward uses).
	_ "modernc.org/sqlite"
)

// Rpm reads rpm databases: Berkeley DB (Packages), NDB (Packages.db) and
// SQLite (rpmdb.sqlite), under var/lib/rpm or usr/lib/sysimage/rpm. The
// database is copied to a temporary file (go-rpmdb needs a path), bounded
// by MaxBytes.
type Rpm struct {
	// TempDir for the copy; default os.TempDir().
	TempDir string
	// MaxBytes bounds the database copy; default 512 MiB.
	MaxBytes int64
}

var rpmFiles = map[string]bool{
	"var/lib/rpm/Packages":              true,
	"var/lib/rpm/Packages.db":           true,
	"var/lib/rpm/rpmdb.sqlite":          true,
	"usr/lib/sysimage/rpm/Packages":     true,
	"usr/lib/sysimage/rpm/Packages.db":  true,
	"usr/lib/sysimage/rpm/rpmdb.sqlite": true,
	"usr/share/rpm/Packages":            true,
	"usr/share/rpm/rpmdb.sqlite":        true,
}

// Name implements inventory.Extractor.
func (Rpm) Name() string { return "os/rpm" }

// Version implements inventory.Extractor.
func (Rpm) Version() int { return 1 }

// Required implements inventory.Extractor.
func (Rpm) Required(p string, mode fs.FileMode) bool { return mode.IsRegular() && rpmFiles[p] }

// Extract implements inventory.Extractor.
func (r Rpm) Extract(ctx context.Context, in *inventory.Input) ([]sbom.Package, error) {
	max := r.MaxBytes
	if max == 0 {
		max = 512 << 20
	}
	if in.Size > max {
		return nil, fmt.Errorf("%s: rpm database of %d bytes exceeds %d", in.Path, in.Size, max)
	}
	dir, err := stdos.MkdirTemp(r.TempDir, "ward-rpmdb-")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Path, err)
	}
	defer stdos.RemoveAll(dir)
	tmp := filepath.Join(dir, filepath.Base(in.Path))
	f, err := stdos.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Path, err)
	}
	n, err := io.Copy(f, io.LimitReader(in.Reader, max+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("%s: copying database: %w", in.Path, err)
	}
	if n > max {
		return nil, fmt.Errorf("%s: rpm database exceeds %d bytes", in.Path, max)
	}
	infos, err := ReadRpmDB(tmp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Path, err)
	}
	out := make([]sbom.Package, 0, len(infos))
	for _, pi := range infos {
		if pi.Name == "gpg-pubkey" { // imported signing keys, not software
			continue
		}
		p := sbom.Package{
			Name: pi.Name, Version: rpmEVR(pi.EpochNum(), pi.Version, pi.Release), Type: sbom.TypeOS,
			Arch: pi.Arch, Path: in.Path,
		}
		p.SourceName, p.SourceVersion = splitSourceRPM(pi.SourceRpm)
		if pi.License != "" {
			p.Licenses = []string{pi.License}
		}
		out = append(out, p)
	}
	// Requires name capabilities, not packages; resolve those that are
	// provided by a package of the same database.
	provider := map[string]string{}
	for _, pi := range infos {
		provider[pi.Name] = pi.Name
		for _, pr := range pi.Provides {
			if _, ok := provider[pr]; !ok {
				provider[pr] = pi.Name
			}
		}
	}
	byName := map[string]*rpmdb.PackageInfo{}
	for _, pi := range infos {
		byName[pi.Name] = pi
	}
	for i := range out {
		pi := byName[out[i].Name]
		seen := map[string]bool{}
		for _, req := range pi.Requires {
			if strings.HasPrefix(req, "rpmlib(") || strings.HasPrefix(req, "/") {
				continue
			}
			if n, ok := provider[req]; ok && n != out[i].Name && !seen[n] {
				seen[n] = true
				out[i].DependsOn = append(out[i].DependsOn, n)
			}
		}
		sort.Strings(out[i].DependsOn)
		r.FinalizeOS(&out[i], in.OS)
	}
	return out, ctx.Err()
}

// ReadRpmDB lists the packages of an rpm database file (any format). A
// panic in the database reader (hostile input) becomes an error.
func ReadRpmDB(path string) (infos []*rpmdb.PackageInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			infos, err = nil, fmt.Errorf("corrupt rpm database: %v", r)
		}
	}()
	db, err := rpmdb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open rpm database: %w", err)
	}
	defer db.Close()
	infos, err = db.ListPackages()
	if err != nil {
		return nil, fmt.Errorf("read rpm database: %w", err)
	}
	return infos, nil
}

// rpmEVR renders [epoch:]version-release as OSV's RPM ecosystems compare it.
func rpmEVR(epoch int, version, release string) string {
	v := version
	if release != "" {
		v += "-" + release
	}
	if epoch > 0 {
		v = strconv.Itoa(epoch) + ":" + v
	}
	return v
}

// splitSourceRPM splits "openssl-3.0.7-24.el9.src.rpm" into the source
// name "openssl" and version "3.0.7-24.el9".
func splitSourceRPM(s string) (string, string) {
	s = strings.TrimSuffix(s, ".rpm")
	s = strings.TrimSuffix(strings.TrimSuffix(s, ".src"), ".nosrc")
	i := strings.LastIndexByte(s, '-')
	if i <= 0 {
		return "", ""
	}
	j := strings.LastIndexByte(s[:i], '-')
	if j <= 0 {
		return "", ""
	}
	return s[:j], s[j+1:]
}

var rpmNamespace = map[string]string{
	"Red Hat": "redhat", "CentOS": "centos", "Rocky Linux": "rocky", "AlmaLinux": "almalinux",
	"Oracle Linux": "oracle", "Amazon Linux": "amazon", "SUSE": "suse", "openSUSE": "opensuse", "Fedora": "fedora",
}

// FinalizeOS implements inventory.OSFinalizer.
func (Rpm) FinalizeOS(p *sbom.Package, o *sbom.OS) {
	p.Ecosystem = Ecosystem(o)
	ns := ""
	if o != nil {
		ns = rpmNamespace[o.Family]
	}
	q := map[string]string{}
	if p.Arch != "" {
		q["arch"] = p.Arch
	}
	version := p.Version
	if e, rest, ok := strings.Cut(version, ":"); ok {
		q["epoch"] = e
		version = rest
	}
	if d := distroQualifier(o); d != "" {
		q["distro"] = d
	}
	p.PURL = purl(packageurl.TypeRPM, ns, p.Name, version, q)
}
