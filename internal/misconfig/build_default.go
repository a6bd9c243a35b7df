//go:build !kustomize

package misconfig

import "github.com/wardsec/ward/internal/misconfig/kustomize"

// DefaultKustomize is the builder of this build: without -tags kustomize,
// the user's kustomize or kubectl when installed, else nil.
func DefaultKustomize() kustomize.Builder {
	if b := (kustomize.ExecBuilder{}); b.Available() {
		return b
	}
	return nil
}
