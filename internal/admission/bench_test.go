package admission

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkValidate drives /validate through the HTTP handler with a
// realistic pod review under PSS restricted plus the three CEL checks.
func BenchmarkValidate(b *testing.B) {
	p := loadTestPolicy(b)
	r, err := newPSSRule("restricted", "latest")
	if err != nil {
		b.Fatal(err)
	}
	p.PSS = r
	h := (&Server{Engine: &Engine{Policy: p}}).Handler()
	body := reviewBody("Pod", "apps", privilegedPod, false)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
