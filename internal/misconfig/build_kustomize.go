//go:build !nokustomize

package misconfig

import (
	"github.com/wardsec/ward/internal/misconfig/kustomize"
	"github.com/wardsec/ward/internal/misconfig/kustomize/kustlib"
)

// DefaultKustomize is the builder of this build: the kustomize library in
// process (leave it out with -tags nokustomize for a smaller binary).
func DefaultKustomize() kustomize.Builder { return kustlib.Builder{} }
