//go:build helm

package misconfig

import (
	"github.com/wardsec/ward/internal/misconfig/helm"
	"github.com/wardsec/ward/internal/misconfig/helm/helmlib"
)

// DefaultHelm is the renderer of this build: with -tags helm, the Helm
// library in process.
func DefaultHelm() helm.Renderer { return helmlib.Renderer{} }
