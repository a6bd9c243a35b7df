package dotnet

import (
	"flag"
	"testing"

	"github.com/wardsec/ward/internal/inventory/lang/langtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestPackagesLock(t *testing.T) {
	langtest.Run(t, PackagesLock{}, []langtest.Case{
		{File: "packages.lock.json"},
		{File: "bad.lock.json", Path: "src/packages.lock.json", WantErr: "src/packages.lock.json:4: invalid JSON"},
	}, *update)
}

func TestDepsJSON(t *testing.T) {
	langtest.Run(t, DepsJSON{}, []langtest.Case{
		{File: "SampleApp.deps.json", Path: "app/SampleApp.deps.json"},
		{File: "packages.lock.json", Path: "x.deps.json", WantNone: true},
	}, *update)
}

func TestRequired(t *testing.T) {
	if !(PackagesLock{}).Required("src/packages.lock.json", 0o644) || (PackagesLock{}).Required("src/package-lock.json", 0o644) {
		t.Error("PackagesLock.Required")
	}
	if !(DepsJSON{}).Required("app/My.App.deps.json", 0o644) || (DepsJSON{}).Required("app/My.App.runtimeconfig.json", 0o644) {
		t.Error("DepsJSON.Required")
	}
}

func FuzzPackagesLock(f *testing.F) {
	langtest.Fuzz(f, PackagesLock{}, "packages.lock.json", 0o644, "packages.lock.json")
}

func FuzzDepsJSON(f *testing.F) {
	langtest.Fuzz(f, DepsJSON{}, "a.deps.json", 0o644, "SampleApp.deps.json")
}
