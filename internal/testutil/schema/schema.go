// Package schema validates JSON documents against the official schemas in
// the shared reference data (../shared/schemas), for conformance tests.
package schema

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SharedDir returns the shared reference data directory ($WARD_SHARED or
// ../shared beside the repository), or "" when it is absent.
func SharedDir() string {
	if d := os.Getenv("WARD_SHARED"); d != "" {
		if _, err := os.Stat(d); err == nil {
			return d
		}
		return ""
	}
	_, file, _, _ := runtime.Caller(0)
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "shared")
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return filepath.Clean(d)
}

// RequireShared returns the shared directory or skips the test.
func RequireShared(t testing.TB) string {
	t.Helper()
	d := SharedDir()
	if d == "" {
		t.Skip("shared reference data (../shared or $WARD_SHARED) is absent")
	}
	return d
}

// Validate checks doc against the schema file rel (relative to
// shared/schemas, e.g. "sarif/sarif-schema-2.1.0.json"); it skips the test
// when the schema is absent.
func Validate(t testing.TB, rel string, doc []byte) {
	t.Helper()
	path := filepath.Join(RequireShared(t), "schemas", rel)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("schema %s is absent", path)
	}
	ValidateFile(t, path, doc)
}

// ValidateFile checks doc against the schema at path.
func ValidateFile(t testing.TB, path string, doc []byte) {
	t.Helper()
	if err := Check(path, doc); err != nil {
		t.Fatal(err)
	}
}

// Check validates doc against the schema at path and returns the problems.
func Check(path string, doc []byte) error {
	c := jsonschema.NewCompiler()
	// Sibling schemas referenced by relative $ref resolve through the loader.
	sch, err := c.Compile(path)
	if err != nil {
		return fmt.Errorf("compile schema %s: %v", path, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("document is not JSON: %v", err)
	}
	if err := sch.Validate(inst); err != nil {
		return fmt.Errorf("document does not validate against %s:\n%v", path, err)
	}
	return nil
}
