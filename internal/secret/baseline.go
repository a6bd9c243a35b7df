package secret

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// maxBaseline bounds the size of a baseline report read by LoadBaseline.
const maxBaseline = 256 << 20

// LoadBaseline reads a previous Ward JSON report (a top-level object with
// "findings": [{"fingerprint": ...}, ...]) and returns its fingerprints.
// Put the result in Options.Baseline: findings whose fingerprint is in the
// baseline are marked Suppressed{Kind: "baseline"}, so only new secrets are
// reported.
func LoadBaseline(path string) (map[string]bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	defer f.Close()
	return ReadBaseline(f, path)
}

// ReadBaseline is LoadBaseline over a reader.
func ReadBaseline(r io.Reader, name string) (map[string]bool, error) {
	var rep struct {
		SchemaVersion string `json:"schema_version"`
		Findings      *[]struct {
			Fingerprint string `json:"fingerprint"`
		} `json:"findings"`
	}
	dec := json.NewDecoder(io.LimitReader(r, maxBaseline))
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("baseline %s: not a Ward JSON report: %w", name, err)
	}
	// Another JSON document (an SBOM, a SARIF file) would otherwise be a
	// silently empty baseline.
	if rep.SchemaVersion == "" || rep.Findings == nil {
		return nil, fmt.Errorf("baseline %s: not a Ward JSON report (no schema_version and findings; write one with --format json)", name)
	}
	out := make(map[string]bool, len(*rep.Findings))
	for _, f := range *rep.Findings {
		if f.Fingerprint != "" {
			out[f.Fingerprint] = true
		}
	}
	return out, nil
}
