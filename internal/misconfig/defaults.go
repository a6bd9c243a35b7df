package misconfig

import (
	"github.com/wardsec/ward/internal/misconfig/helm"
	"github.com/wardsec/ward/internal/misconfig/helm/helmlib"
	"github.com/wardsec/ward/internal/misconfig/kustomize"
	"github.com/wardsec/ward/internal/misconfig/kustomize/kustlib"
)

// DefaultHelm is the renderer used when Options.Helm is nil: the Helm
// library in process (no helm executable is needed).
func DefaultHelm() helm.Renderer { return helmlib.Renderer{} }

// DefaultKustomize is the builder used when Options.Kustomize is nil: the
// kustomize library (krusty) in process.
func DefaultKustomize() kustomize.Builder { return kustlib.Builder{} }
