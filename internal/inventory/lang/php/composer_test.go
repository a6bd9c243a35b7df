package php

import (
	"flag"
	"testing"

	"github.com/wardsec/ward/internal/inventory/lang/langtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestComposerLock(t *testing.T) {
	langtest.Run(t, ComposerLock{}, []langtest.Case{
		// Written by Composer 2.5 (composer update --no-install) from
		// "package" repositories describing real Packagist releases, plus
		// one local path package, which must not be reported.
		{File: "shop/composer.lock"},
		// Only local path packages: nothing to report.
		{File: "local/composer.lock", WantNone: true},
		{File: "bad-composer.lock", Path: "app/composer.lock", WantErr: "app/composer.lock:3: invalid JSON"},
	}, *update)
}

func TestRequired(t *testing.T) {
	c := ComposerLock{}
	if !c.Required("app/composer.lock", 0o644) || c.Required("app/composer.json", 0o644) || c.Required("app/vendor/x/y/composer.lock", 0o644) {
		t.Error("Required mismatch")
	}
}

func FuzzComposerLock(f *testing.F) {
	langtest.Fuzz(f, ComposerLock{}, "composer.lock", 0o644, "shop/composer.lock", "local/composer.lock")
}
