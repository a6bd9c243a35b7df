package langutil

import (
	"testing"

	"github.com/package-url/packageurl-go"
)

func slowPURL(typ, ns, name, version string, q ...string) string {
	var qs packageurl.Qualifiers
	for i := 0; i+1 < len(q); i += 2 {
		if q[i+1] != "" {
			qs = append(qs, packageurl.Qualifier{Key: q[i], Value: q[i+1]})
		}
	}
	return packageurl.NewPackageURL(typ, ns, name, version, qs, "").ToString()
}

func TestPURLMatchesLibrary(t *testing.T) {
	for _, c := range [][]string{
		{"npm", "", "express", "4.16.0"},
		{"npm", "@babel", "core", "7.0.0"},
		{"golang", "golang.org/x", "text", "v0.3.0"},
		{"golang", "github.com/dgrijalva", "jwt-go", "v3.2.0+incompatible"},
		{"golang", "", "stdlib", "v1.21.3"},
		{"maven", "org.apache.logging.log4j", "log4j-core", "2.14.1"},
		{"maven", "", "aopalliance", "1.0"},
		{"pypi", "", "zope-interface", ""},
		{"gem", "", "nokogiri", "1.8.2", "platform", "x86_64-linux"},
		{"gem", "", "rack", "2.0.4", "platform", ""},
		{"composer", "guzzlehttp", "guzzle", "6.3.0"},
		{"nuget", "", "Newtonsoft.Json", "12.0.1"},
		{"cargo", "", "smallvec", "0.6.9"},
		{"npm", "", "a b", "1 2"},
		{"golang", "a//b", "c", "1"},
		{"golang", "/a", "c", "1"},
	} {
		got := PURL(c[0], c[1], c[2], c[3], c[4:]...)
		want := slowPURL(c[0], c[1], c[2], c[3], c[4:]...)
		if got != want {
			t.Errorf("%v: %s, library gives %s", c, got, want)
		}
	}
}

func FuzzPURL(f *testing.F) {
	f.Add("npm", "@scope", "name", "1.0.0")
	f.Add("golang", "golang.org/x", "text", "v0.3.0")
	f.Fuzz(func(t *testing.T, typ, ns, name, version string) {
		if typ == "" || name == "" {
			return
		}
		if got, want := PURL(typ, ns, name, version), slowPURL(typ, ns, name, version); got != want {
			t.Fatalf("%q %q %q %q: %s != %s", typ, ns, name, version, got, want)
		}
	})
}
