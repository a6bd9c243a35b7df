package sink

import "testing"

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("sinks: [{name: a, type: file, path: p}]\nroutes: [{match: {severity: HIGH, rule: 'K*', new: true}, sinks: [a]}]"))
	f.Add([]byte("sinks: [{name: s, type: syslog, url: 'tls://127.0.0.1:6514', format: cef}]"))
	f.Add([]byte("routes: [{match: {target: '['}, sinks: [x]}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		ev := AlertEvent(testAlert(), "n")
		for i := range c.Routes {
			c.Routes[i].Match.Matches(&ev)
		}
	})
}
