package scan

import (
	"context"

	"github.com/wardsec/ward/internal/artifact"
	"github.com/wardsec/ward/pkg/finding"
)

// imageFindings returns the misconfiguration findings of an image's
// configuration and build history.
func imageFindings(ctx context.Context, art artifact.Artifact, opts Options, res *Result) []finding.Finding {
	return nil
}
