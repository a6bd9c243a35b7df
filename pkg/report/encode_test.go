package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wardsec/ward/pkg/finding"
)

// fill sets every field reachable from v (pointers allocated, slices and
// maps of two elements) to a value that is not zero; strings vary and
// carry characters JSON escapes.
func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.String:
		strs := []string{"plain", "quote \" backslash \\ tab\t", "<html> & ü \u2028", "nl\nx\x01"}
		v.SetString(fmt.Sprintf("%s-%d", strs[*n%len(strs)], *n))
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n%4 + 1))
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.25)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), n)
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := 0; i < 2; i++ {
			fill(v.Index(i), n)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := 0; i < 2; i++ {
			k := reflect.New(v.Type().Key()).Elem()
			fill(k, n)
			e := reflect.New(v.Type().Elem()).Elem()
			if e.Kind() == reflect.Interface {
				e.Set(reflect.ValueOf(fmt.Sprint("any-", *n)))
			} else {
				fill(e, n)
			}
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Interface:
		v.Set(reflect.ValueOf("any"))
	default:
		panic("fill: unhandled kind " + v.Kind().String())
	}
}

func stdIndented(t *testing.T, f *finding.Finding, prefix string) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(f); err != nil {
		t.Fatal(err)
	}
	return prefix + string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}

// The hand-written finding encoder writes what encoding/json writes, for
// a Finding with every field set (a field added to Finding, Location or
// ObjectRef and not written by findingWriter fails here), for the zero
// Finding and for one with only some parts.
func TestFindingWriterMatchesEncodingJSON(t *testing.T) {
	var full finding.Finding
	n := 0
	fill(reflect.ValueOf(&full).Elem(), &n)
	partial := finding.Finding{Kind: finding.KindSecret, RuleID: "r", Location: finding.Location{Object: &finding.ObjectRef{Name: "x"}}, Tags: []string{}}
	w := newFindingWriter()
	for i, f := range []*finding.Finding{&full, {}, &partial} {
		got, err := w.appendFinding(nil, f, "    ")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(stdIndented(t, f, "    "), string(got)); diff != "" {
			t.Errorf("finding %d (-encoding/json +findingWriter):\n%s", i, diff)
		}
	}
}

func BenchmarkFindingWriter(b *testing.B) {
	fs := randomFindings(1000, 5)
	w := newFindingWriter()
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf, _ = w.appendFinding(buf[:0], &fs[i%len(fs)], "    ")
	}
}
