package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// A list naming another list ten times, 24 levels deep, would expand to
// 10^25 items: loading must stay fast and small, and the rule still match.
func TestListBombLoads(t *testing.T) {
	var b strings.Builder
	b.WriteString("- list: l0\n  items: [python3, a, a]\n")
	for i := 1; i <= 24; i++ {
		p := fmt.Sprintf("l%d", i-1)
		fmt.Fprintf(&b, "- list: l%d\n  items: [%s]\n", i, strings.TrimSuffix(strings.Repeat(p+", ", 10), ", "))
	}
	start := time.Now()
	ok, err := evalCond(t, "evt.type = execve and proc.name in (l24)", b.String())
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Error("rule over the list bomb does not match python3")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("loading took %s", d)
	}
}
