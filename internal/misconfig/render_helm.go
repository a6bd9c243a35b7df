//go:build !nohelm

package misconfig

import (
	"github.com/wardsec/ward/internal/misconfig/helm"
	"github.com/wardsec/ward/internal/misconfig/helm/helmlib"
)

// DefaultHelm is the renderer of this build: the Helm library in process
// (leave it out with -tags nohelm for a smaller binary).
func DefaultHelm() helm.Renderer { return helmlib.Renderer{} }
