package web

import (
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/server/store"
)

// TestImageSignatureShown: the images list and the image detail show each
// image digest's recorded signature state (verified with its signer,
// signed but not verified, invalid, unsigned, error) and "not checked"
// for one never checked; other target types have no signature column.
func TestImageSignatureShown(t *testing.T) {
	e := newEnv(t)
	seedReports(t, e.st)
	checkout := seedReport(t, "testdata/seed/image-checkout.json")
	ctx := t.Context()
	c := e.login(url.Values{"token": {e.read}})

	cell := func(body, name string) string {
		t.Helper()
		i := strings.Index(body, `data-signature="`+html.EscapeString(name)+`"`)
		if i < 0 {
			t.Fatalf("no signature cell for %s", name)
		}
		rest := body[i:]
		return rest[:strings.Index(rest, "</td>")]
	}
	_, body := e.do(c, "GET", "/images", nil)
	if got := cell(body, seedImage); !strings.Contains(got, `data-sig="none"`) || !strings.Contains(got, "not checked") {
		t.Errorf("never checked: %q", got)
	}
	for _, tc := range []struct {
		sig        store.ImageSignature
		sig2, text string
	}{
		{store.ImageSignature{State: store.SignatureVerified, Signer: "key sha256:0123abcd", Detail: "1 of 1 signature(s) verified (sig-tag)"}, "verified", "by key sha256:0123abcd"},
		{store.ImageSignature{State: store.SignatureUnverified, Detail: "1 signature(s) found; the server trusts no key"}, "signed", "signed, not verified"},
		{store.ImageSignature{State: store.SignatureInvalid, Detail: "1 signature(s), none verified"}, "invalid", "invalid signature"},
		{store.ImageSignature{State: store.SignatureUnsigned}, "unsigned", "unsigned"},
		{store.ImageSignature{State: store.SignatureError, Detail: "MANIFEST_UNKNOWN"}, "error", "not checked: error"},
	} {
		sig := tc.sig
		sig.Digest, sig.Ref = checkout.Artifact.Digest, "registry.example.com/shop/checkout@"+checkout.Artifact.Digest
		sig.CheckedAt = time.Now().Add(-time.Hour)
		if err := e.st.SetImageSignature(ctx, sig); err != nil {
			t.Fatal(err)
		}
		_, body := e.do(c, "GET", "/images", nil)
		got := cell(body, seedImage)
		if !strings.Contains(got, `data-sig="`+tc.sig2+`"`) || !strings.Contains(got, tc.text) {
			t.Errorf("%s in the list: %q, want %q", tc.sig2, got, tc.text)
		}
		if other := cell(body, "registry.example.com/shop/storefront:2.0.1"); !strings.Contains(other, "not checked") {
			t.Errorf("the other image took %s's state: %q", seedImage, other)
		}
		_, body = e.do(c, "GET", "/images/detail?"+url.Values{"target": {seedImage}}.Encode(), nil)
		i := strings.Index(body, `<dd data-signature=`)
		if i < 0 {
			t.Fatalf("%s: detail has no signature", tc.sig2)
		}
		dd := body[i : i+strings.Index(body[i:], "</dd>")]
		for _, want := range []string{tc.text, html.EscapeString(sig.Ref), "1h ago"} {
			if !strings.Contains(dd, want) {
				t.Errorf("%s in the detail: %q lacks %q", tc.sig2, dd, want)
			}
		}
		if tc.sig.Detail != "" && !strings.Contains(dd, html.EscapeString(tc.sig.Detail)) {
			t.Errorf("%s in the detail: %q lacks the detail", tc.sig2, dd)
		}
	}
	_, body = e.do(c, "GET", "/images?type=filesystem", nil)
	if strings.Contains(body, "Signed?") || strings.Contains(body, "data-signature=") {
		t.Error("filesystem targets show a signature column")
	}
	_, body = e.do(c, "GET", "/images/detail?"+url.Values{"target": {"examples/app"}}.Encode(), nil)
	if strings.Contains(body, "data-signature=") {
		t.Error("a filesystem target's detail shows a signature")
	}
}
