package capture

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader: any input either reads or fails with a ParseError; it
// never panics, and memory stays bounded by MaxLine.
func FuzzReader(f *testing.F) {
	good, err := os.ReadFile(filepath.Join("testdata", "demo.capture.jsonl"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(`{"format":"ward-capture","version":1,"records":1,"events":1,"alerts":0}` + "\n" + `{"phase":"before","event":{"type":"connect","addr":{"family":2,"src":"x"}}}` + "\n"))
	f.Add([]byte(`{"format":"ward-capture","version":1,"records":1,"events":0,"alerts":1}` + "\n" + `{"phase":"alert","alert":{"rule":"r","ancestry":[{"pid":1}]}}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := readAll("fuzz.jsonl", data)
		if err == nil {
			return
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("not a ParseError: %v", err)
		}
		if pe.File != "fuzz.jsonl" || pe.Line < 1 || pe.Offset < 0 || pe.Offset > int64(len(data)) {
			t.Fatalf("bad position in %v", pe)
		}
	})
}
