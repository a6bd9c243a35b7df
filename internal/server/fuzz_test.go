package server

import (
	"testing"
	"time"
)

// FuzzParseFileConfig: the server configuration parser never panics and
// an accepted document keeps the jobs' invariants.
func FuzzParseFileConfig(f *testing.F) {
	for _, s := range []string{
		"sinks: [{name: a, type: file, path: /tmp/x}]\nroutes: [{match: {kind: finding}, sinks: [a]}]\n",
		"jobs: {posture: {every: 15m}, vulndb: {every: 5m, update: {base_url: 'https://osv.example'}}}\n",
		"jobs: {registry: {every: 1h, images: [registry.example/app:1], repositories: [registry.example/api], max_tags: 3}}\n",
		"jobs: {vulndb: {every: 5m, dir: /var/cache/ward/vulndb}}\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseFileConfig(b)
		if err != nil {
			return
		}
		j := c.Jobs
		if (j.Posture != nil && j.Posture.Every < time.Minute) || (j.VulnDB != nil && j.VulnDB.Every < time.Minute) || (j.Registry != nil && j.Registry.Every < time.Minute) {
			t.Fatalf("accepted an interval under 1m: %+v", j)
		}
		if j.Registry != nil && len(j.Registry.Images)+len(j.Registry.Repositories) == 0 {
			t.Fatal("accepted a registry job without images")
		}
	})
}
