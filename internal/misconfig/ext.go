package misconfig

import (
	"errors"

	"github.com/wardsec/ward/internal/misconfig/check"
)

// extensions lists the directory- and document-level scanners beyond the
// built-in per-file ones.
func extensions(opts Options) ([]extension, error) {
	var out []extension
	if len(opts.PolicyDirs) > 0 {
		return nil, errors.New("--policy: custom CEL checks are not available in this build yet")
	}
	return out, nil
}

// extraCatalog lists checks of formats wired through extensions.
func extraCatalog() []check.Meta { return nil }
