package terraform

import (
	"path/filepath"
	"regexp"
	"sort"
)

var localSource = regexp.MustCompile(`\bsource\s*=\s*"(\.\.?/[^"]*)"`)

// RootModules returns the directories of dirs that no other directory of
// dirs calls as a local module (`source = "./..."` or `"../..."`). A caller
// that walks a tree and finds .tf files in many directories should scan only
// these with ScanDir: the modules they call are scanned through them, with
// the inputs the caller passes. A module that is only called from outside
// dirs stays a root. The order of dirs is kept.
func RootModules(dirs []string) []string {
	abs := map[string]string{}
	for _, d := range dirs {
		if a, err := filepath.Abs(d); err == nil {
			abs[d] = a
		}
	}
	called := map[string]bool{}
	calls := map[string][]string{}
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(d, "*.tf"))
		sort.Strings(files)
		for _, f := range files {
			data, err := readBounded(f)
			if err != nil {
				continue
			}
			for _, m := range localSource.FindAllSubmatch(data, -1) {
				target := filepath.Join(abs[d], filepath.FromSlash(string(m[1])))
				if target != abs[d] {
					called[target] = true
					calls[abs[d]] = append(calls[abs[d]], target)
				}
			}
		}
	}
	// Every directory must be scanned through some root. Modules that call
	// each other in a cycle (a/ calls ./b, b/ calls ../) are all "called":
	// without this a hostile module calling its caller back hid the whole
	// tree, silently. The first directory of such a cycle becomes a root.
	reached := map[string]bool{}
	var reach func(a string)
	reach = func(a string) {
		if reached[a] {
			return
		}
		reached[a] = true
		for _, t := range calls[a] {
			reach(t)
		}
	}
	root := map[string]bool{}
	for _, d := range dirs {
		if !called[abs[d]] {
			root[d] = true
			reach(abs[d])
		}
	}
	for _, d := range dirs {
		if !reached[abs[d]] {
			root[d] = true
			reach(abs[d])
		}
	}
	var out []string
	for _, d := range dirs {
		if root[d] {
			out = append(out, d)
		}
	}
	return out
}
