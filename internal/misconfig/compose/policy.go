package compose

import (
	"github.com/wardsec/ward/internal/misconfig/check"
	"github.com/wardsec/ward/pkg/finding"
	"go.yaml.in/yaml/v3"
)

// Evaluator evaluates custom checks over one document. The method value
// (*policy.Set).Evaluate has this type, so callers pass set.Evaluate
// without this package importing the CEL engine.
type Evaluator = func(target, path string, docType check.DocType, doc any, locate func(fieldPath string) finding.Location) []finding.Finding

// Scan parses a Compose file and runs every built-in check over each
// service. A file that cannot be parsed returns one scan error with
// file:line:col and the parser's message. Findings suppressed by
// `# ward:ignore RULE-ID reason` (on the finding's line, the line above it,
// the service's line or the comment block above the service) are returned
// with Suppressed set (Kind "inline").
func Scan(target, path string, data []byte) ([]finding.Finding, []finding.ScanError) {
	return ScanWith(target, path, data, nil)
}

// ScanWith is Scan plus custom checks: eval (may be nil) is called once with
// the project map (Doc) and Locate, and its findings get the same inline
// ignore handling as built-in ones.
func ScanWith(target, path string, data []byte, eval Evaluator) ([]finding.Finding, []finding.ScanError) {
	f, err := Parse(path, data)
	if err != nil {
		se := finding.ScanError{Target: target, Path: path, Line: 1, Column: 1, Scanner: "misconfig", Message: err.Error()}
		if pe, ok := err.(*ParseError); ok {
			se.Line, se.Column, se.Message = pe.Line, pe.Column, pe.Msg
		}
		return nil, []finding.ScanError{se}
	}
	out := f.run(target, rules())
	if eval != nil {
		doc, err := f.Doc()
		if err != nil {
			return out, []finding.ScanError{{Target: target, Path: path, Line: 1, Column: 1, Scanner: "misconfig", Message: "custom checks: " + err.Error()}}
		}
		ign := check.ParseIgnores(f.lines, "#")
		custom := eval(target, path, check.Compose, doc, f.Locate)
		for i := range custom {
			owner := custom[i].Location.StartLine
			if o := custom[i].Location.Object; o != nil {
				for _, s := range f.Services {
					if s.Name == o.Name {
						owner = s.Key.Line
					}
				}
			}
			if s := ign.Match(custom[i].RuleID, custom[i].Location.StartLine, owner); s != nil {
				custom[i].Suppressed = s
			}
		}
		out = append(out, custom...)
		finding.Sort(out)
	}
	return out, nil
}

// Doc is the custom-check input for a Compose file: the whole file decoded
// as YAML (map[string]any), merge keys (<<) and anchors resolved, no
// variable interpolation: `object.services.web.image`,
// `object.services.web.ports[0]`, `object.volumes`, `object.secrets`...
//
// Field paths: "services.web", "services.web.privileged",
// "services.web.ports[0]", "services.web.environment.DB_PASSWORD".
func (f *File) Doc() (map[string]any, error) {
	var m map[string]any
	if err := f.Root.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// Locate maps a field path of Doc to the position of its node (the key for
// mapping entries, the item for list elements); a path that does not exist
// resolves to its deepest existing parent.
func (f *File) Locate(fieldPath string) finding.Location {
	n := f.Root
	at := n
	segs := check.SplitFieldPath(fieldPath)
	for _, s := range segs {
		var next, key *yaml.Node
		if s.Index >= 0 {
			if it := items(n); s.Index < len(it) {
				next, key = it[s.Index], it[s.Index]
			}
		} else {
			key, next = get(n, s.Key)
		}
		if next == nil {
			break
		}
		n, at = next, key
	}
	loc := finding.Location{Path: f.Path, StartLine: at.Line, StartColumn: at.Column, EndLine: at.Line, EndColumn: at.Column + len(at.Value)}
	if len(segs) >= 2 && segs[0].Key == "services" && segs[1].Index < 0 {
		loc.Object = &finding.ObjectRef{Kind: "Service", Name: segs[1].Key, FieldPath: fieldPath}
	}
	return loc
}
