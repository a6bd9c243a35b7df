// Package lang lists Ward's language-ecosystem package extractors.
package lang

import (
	"github.com/wardsec/ward/internal/inventory"
	"github.com/wardsec/ward/internal/inventory/lang/dotnet"
	"github.com/wardsec/ward/internal/inventory/lang/golang"
	"github.com/wardsec/ward/internal/inventory/lang/java"
	"github.com/wardsec/ward/internal/inventory/lang/javascript"
	"github.com/wardsec/ward/internal/inventory/lang/php"
	"github.com/wardsec/ward/internal/inventory/lang/python"
	"github.com/wardsec/ward/internal/inventory/lang/ruby"
	"github.com/wardsec/ward/internal/inventory/lang/rust"
)

// Extractors returns a fresh, explicit list of every language extractor,
// with default limits.
func Extractors() []inventory.Extractor {
	return []inventory.Extractor{
		golang.Binary{},
		golang.GoMod{},
		javascript.PackageLock{},
		javascript.YarnLock{},
		javascript.PnpmLock{},
		javascript.NodeModules{},
		python.Requirements{},
		python.PoetryLock{},
		python.PipfileLock{},
		python.UVLock{},
		python.Installed{},
		java.Archive{},
		java.POM{},
		java.GradleLock{},
		rust.CargoLock{},
		rust.Auditable{},
		ruby.GemfileLock{},
		ruby.Gemspec{},
		php.ComposerLock{},
		dotnet.PackagesLock{},
		dotnet.DepsJSON{},
	}
}
