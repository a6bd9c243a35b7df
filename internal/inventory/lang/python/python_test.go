package python

import (
	"flag"
	"io/fs"
	"testing"

	"github.com/wardsec/ward/internal/inventory/lang/langtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRequirements(t *testing.T) {
	langtest.Run(t, Requirements{}, []langtest.Case{
		{File: "requirements/requirements.txt"},
		{File: "requirements/dev-requirements.txt"},
		{File: "requirements/garbage-requirements.txt"},
	}, *update)
}

func TestPoetryLock(t *testing.T) {
	langtest.Run(t, PoetryLock{}, []langtest.Case{
		{File: "poetry/poetry.lock"},
		{File: "poetry/poetry-old.lock", Path: "legacy/poetry.lock"},
		{File: "poetry/bad-poetry.lock", Path: "x/poetry.lock", WantErr: "x/poetry.lock:4: invalid TOML"},
	}, *update)
}

func TestPipfileLock(t *testing.T) {
	langtest.Run(t, PipfileLock{}, []langtest.Case{
		{File: "pipenv/Pipfile.lock"},
		{File: "poetry/poetry.lock", Path: "Pipfile.lock", WantErr: "Pipfile.lock:1: invalid JSON"},
	}, *update)
}

func TestUVLock(t *testing.T) {
	langtest.Run(t, UVLock{}, []langtest.Case{
		{File: "uv/uv.lock"},
		{File: "poetry/bad-poetry.lock", Path: "uv.lock", WantErr: "uv.lock:4:"},
	}, *update)
}

func TestInstalled(t *testing.T) {
	langtest.Run(t, Installed{}, []langtest.Case{
		{File: "installed/PyYAML-6.0.dist-info/METADATA"},
		{File: "installed/attrs-26.1.0.dist-info/METADATA"},
		{File: "installed/annotated_types-0.7.0.dist-info/METADATA"},
		{File: "installed/PyJWT-2.6.0.egg-info/PKG-INFO"},
		{File: "installed/crcmod-1.7.egg-info/PKG-INFO"},
		{File: "installed/wsgiref.egg-info"},
		{File: "requirements/dev-requirements.txt", Path: "x.dist-info/METADATA", WantErr: "x.dist-info/METADATA:1: not a metadata header"},
	}, *update)
}

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		got, want bool
		name      string
	}{
		{Requirements{}.Required("requirements.txt", 0o644), true, "req"},
		{Requirements{}.Required("app/requirements-dev.txt", 0o644), true, "req dev"},
		{Requirements{}.Required("requirements/base.txt", 0o644), true, "req dir"},
		{Requirements{}.Required("app/readme.txt", 0o644), false, "readme"},
		{Requirements{}.Required("requirements.in", 0o644), false, "in"},
		{Installed{}.Required("usr/lib/python3/dist-packages/six-1.16.0.egg-info", 0o644), true, "egg file"},
		{Installed{}.Required("site-packages/six-1.16.0.egg-info", fs.ModeDir|0o755), false, "egg dir"},
		{Installed{}.Required("site-packages/six-1.16.0.dist-info/RECORD", 0o644), false, "record"},
		{UVLock{}.Required("a/uv.lock", 0o644), true, "uv"},
		{PipfileLock{}.Required("Pipfile", 0o644), false, "pipfile"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
}

func FuzzRequirements(f *testing.F) {
	langtest.Fuzz(f, Requirements{}, "requirements.txt", 0o644, "requirements/requirements.txt")
}

func FuzzPoetryLock(f *testing.F) {
	langtest.Fuzz(f, PoetryLock{}, "poetry.lock", 0o644, "poetry/poetry.lock", "poetry/poetry-old.lock")
}

func FuzzPipfileLock(f *testing.F) {
	langtest.Fuzz(f, PipfileLock{}, "Pipfile.lock", 0o644, "pipenv/Pipfile.lock")
}

func FuzzUVLock(f *testing.F) {
	langtest.Fuzz(f, UVLock{}, "uv.lock", 0o644, "uv/uv.lock")
}

func FuzzInstalled(f *testing.F) {
	langtest.Fuzz(f, Installed{}, "a.dist-info/METADATA", 0o644, "installed/PyYAML-6.0.dist-info/METADATA", "installed/wsgiref.egg-info")
}
