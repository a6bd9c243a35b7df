//go:build kustomize

package misconfig

import (
	"github.com/wardsec/ward/internal/misconfig/kustomize"
	"github.com/wardsec/ward/internal/misconfig/kustomize/kustlib"
)

// DefaultKustomize is the builder of this build: with -tags kustomize,
// the kustomize library in process.
func DefaultKustomize() kustomize.Builder { return kustlib.Builder{} }
