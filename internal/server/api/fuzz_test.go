package api

import "testing"

// FuzzDecodeReport: any body gives a report or an error naming a
// position, never a panic.
func FuzzDecodeReport(f *testing.F) {
	f.Add(testReport("alpine:3", "a:HIGH", "b:LOW:misconfiguration:prod"))
	f.Add([]byte(`{"artifact":{"name":"x"},"findings":[{"rule_id":"r","fingerprint":"f","severity":"HIGH"}]}`))
	f.Add([]byte(`{"findings":null,"artifact":{"name":"x"},"summary":{"total":"x"}}`))
	f.Add([]byte("{\n\"findings\": [{\"rule_id\": 1}]}"))
	f.Add([]byte(`{"a":`))
	f.Add([]byte(`{"findings":[{"location":{"object":{"kind":[]}}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := decodeReport(b)
		if err == nil {
			if rep.Artifact.Name == "" {
				t.Fatal("accepted a report without artifact.name")
			}
			for i := range rep.Findings {
				if rep.Findings[i].Fingerprint == "" {
					t.Fatalf("accepted findings[%d] without a fingerprint", i)
				}
			}
		}
	})
}
