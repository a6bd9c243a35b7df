package inventory

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path"
	"sort"

	"github.com/wardsec/ward/pkg/sbom"
)

// osPackagePaths are where operating systems keep their release file and
// installed-package databases, relative to the root.
var osPackagePaths = []string{
	"etc/os-release", "usr/lib/os-release", "etc/alpine-release", "etc/redhat-release", "etc/debian_version",
	"var/lib/dpkg/status", "lib/apk/db/installed",
	"var/lib/rpm/Packages", "var/lib/rpm/Packages.db", "var/lib/rpm/rpmdb.sqlite",
	"usr/lib/sysimage/rpm/Packages", "usr/lib/sysimage/rpm/Packages.db", "usr/lib/sysimage/rpm/rpmdb.sqlite",
	"usr/share/rpm/Packages", "usr/share/rpm/rpmdb.sqlite",
}

// OSPackages reads the operating system and its installed packages from a
// root file system without walking it: only the release files and package
// databases at their known places are opened, through an os.Root so that no
// symlink leads outside root. It serves host audits (package present/absent
// controls) where walking the whole root would be slow.
func OSPackages(ctx context.Context, root string, extractors []Extractor) (*sbom.OS, []sbom.Package, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	paths := append([]string(nil), osPackagePaths...)
	if ents, err := fs.ReadDir(r.FS(), "var/lib/dpkg/status.d"); err == nil {
		for _, e := range ents {
			paths = append(paths, path.Join("var/lib/dpkg/status.d", e.Name()))
		}
	}
	var osInfo *sbom.OS
	best := -1
	// Release files first, so that package extractors know the OS.
	for _, p := range paths {
		st, err := fs.Stat(r.FS(), p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		for _, ex := range extractors {
			det, ok := ex.(OSDetector)
			if !ok || !ex.Required(p, st.Mode()) {
				continue
			}
			f, err := r.Open(p)
			if err != nil {
				continue
			}
			o, rank, err := det.DetectOS(ctx, &Input{Path: p, Reader: f, Size: st.Size(), Mode: st.Mode()})
			f.Close()
			if err == nil && o != nil && rank > best {
				osInfo, best = o, rank
			}
		}
	}
	var pkgs []sbom.Package
	var errs []error
	for _, p := range paths {
		if ctx.Err() != nil {
			return osInfo, pkgs, ctx.Err()
		}
		st, err := fs.Stat(r.FS(), p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		for _, ex := range extractors {
			if _, ok := ex.(OSDetector); ok {
				continue
			}
			if _, ok := ex.(Annotator); ok || !ex.Required(p, st.Mode()) {
				continue
			}
			f, err := r.Open(p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			got, err := ex.Extract(ctx, &Input{Path: p, Reader: f, Size: st.Size(), Mode: st.Mode(), OS: osInfo})
			f.Close()
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if fin, ok := ex.(OSFinalizer); ok {
				for i := range got {
					fin.FinalizeOS(&got[i], osInfo)
				}
			}
			pkgs = append(pkgs, got...)
		}
	}
	sort.SliceStable(pkgs, func(i, j int) bool { return pkgs[i].Name < pkgs[j].Name })
	return osInfo, pkgs, errors.Join(errs...)
}
