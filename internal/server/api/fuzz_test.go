package api

import (
	"net/http/httptest"
	"testing"
	"time"
)

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

func FuzzAlertBatch(f *testing.F) {
	f.Add(alertBody("node-1", "s", 0, alertJSON("r", 0)))
	f.Add([]byte(`{"node":"n","sensor_id":"s","seq":9223372036854775807,"alerts":[{"rule":"r"}]}`))
	f.Add([]byte(`{"node":"n","sensor_id":"s","seq":1,"alerts":[{"rule":"r","output_fields":{"a":[1,{"b":null}]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		batch, decoded, err := parseAlertBatch(b)
		if err != nil {
			return
		}
		if len(decoded) != len(batch.Alerts) || batch.Seq == nil || *batch.Seq < 0 || batch.Node == "" || batch.SensorID == "" {
			t.Fatalf("accepted an invalid batch: %+v", batch)
		}
	})
}

func FuzzHeartbeat(f *testing.F) {
	f.Add([]byte(`{"node":"n","sensor_id":"s","version":"1","started":"2026-12-07T07:00:00Z","events":1}`))
	f.Add([]byte(`{"node":"n","sensor_id":"s","started":"not a time"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		hb, err := parseHeartbeat(b)
		if err == nil && (hb.Node == "" || hb.Drops < 0) {
			t.Fatalf("accepted %+v", hb)
		}
	})
}

func FuzzSuppress(f *testing.F) {
	f.Add([]byte(`{"reason":"ok","until":"2099-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"reason":" "}`))
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := parseSuppress(b, now)
		if err == nil && (req.Reason == "" || (req.Until != nil && !req.Until.After(now))) {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// FuzzFindingQuery: any query string parses or is a 400, never a panic.
func FuzzFindingQuery(f *testing.F) {
	f.Add("severity=HIGH%2B&kind=secret&limit=10&since=7d")
	f.Add("fixable=true&since=2026-01-01T00:00:00Z&status=open")
	f.Add("since=99999999999999d&limit=-1")
	f.Fuzz(func(t *testing.T, q string) {
		r := httptest.NewRequest("GET", "/api/v1/findings", nil)
		r.URL.RawQuery = q
		flt, err := parseFindingFilter(r)
		if err == nil && (flt.Limit < 0 || flt.Limit > maxLimit) {
			t.Fatalf("limit %d accepted", flt.Limit)
		}
	})
}
