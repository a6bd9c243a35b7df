//go:build !helm

package misconfig

import "github.com/wardsec/ward/internal/misconfig/helm"

// DefaultHelm is the renderer of this build: without -tags helm, the
// user's helm executable when installed, else nil.
func DefaultHelm() helm.Renderer {
	if r := (helm.ExecRenderer{}); r.Available() {
		return r
	}
	return nil
}
