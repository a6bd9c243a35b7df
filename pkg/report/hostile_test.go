package report

import "testing"

// Table cells drop every control character a scanned name may carry,
// C1 ones too (U+009B is a one-character CSI for some terminals).
func TestOneLineDropsControls(t *testing.T) {
	if got, want := oneLine("a\x1b[2Jb\u009b2Jc\x7fd\ne"), "a[2Jb2Jcd e"; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
}
