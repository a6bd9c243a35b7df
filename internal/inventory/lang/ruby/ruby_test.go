package ruby

import (
	"flag"
	"testing"

	"github.com/wardsec/ward/internal/inventory/lang/langtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestGemfileLock(t *testing.T) {
	langtest.Run(t, GemfileLock{}, []langtest.Case{
		// Written by Bundler 2.3 (bundle lock --local) against Debian's gems.
		{File: "lock/Gemfile.lock"},
		// GIT and PATH sections, platform-specific gems, Bundler 1.x.
		{File: "lock/rails/Gemfile.lock"},
		{File: "lock/bad.lock", Path: "app/Gemfile.lock", WantErr: "app/Gemfile.lock:4: expected"},
	}, *update)
}

func TestGemspec(t *testing.T) {
	langtest.Run(t, Gemspec{}, []langtest.Case{
		// Installed by Debian's ruby-rack, ruby-sinatra and ruby3.1 packages.
		{File: "specifications/rack-2.2.22.gemspec"},
		{File: "specifications/sinatra-3.0.5.gemspec"},
		{File: "specifications/rake-13.0.6.gemspec"},
		{File: "lock/Gemfile.lock", Path: "specifications/x.gemspec", WantNone: true},
	}, *update)
}

func TestRequired(t *testing.T) {
	for _, c := range []struct {
		got, want bool
		name      string
	}{
		{GemfileLock{}.Required("app/Gemfile.lock", 0o644), true, "lock"},
		{GemfileLock{}.Required("app/gems.locked", 0o644), true, "gems.locked"},
		{GemfileLock{}.Required("app/Gemfile", 0o644), false, "Gemfile"},
		{Gemspec{}.Required("usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec", 0o644), true, "installed"},
		{Gemspec{}.Required("src/mygem/mygem.gemspec", 0o644), false, "source gemspec"},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v", c.name, c.got)
		}
	}
}

func FuzzGemfileLock(f *testing.F) {
	langtest.Fuzz(f, GemfileLock{}, "Gemfile.lock", 0o644, "lock/Gemfile.lock", "lock/rails/Gemfile.lock")
}

func FuzzGemspec(f *testing.F) {
	langtest.Fuzz(f, Gemspec{}, "specifications/a.gemspec", 0o644, "specifications/rack-2.2.22.gemspec")
}
