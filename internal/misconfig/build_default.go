//go:build nokustomize

package misconfig

import "github.com/wardsec/ward/internal/misconfig/kustomize"

// DefaultKustomize is the builder of a -tags nokustomize build: the
// user's kustomize or kubectl when installed, else nil.
func DefaultKustomize() kustomize.Builder {
	if b := (kustomize.ExecBuilder{}); b.Available() {
		return b
	}
	return nil
}
