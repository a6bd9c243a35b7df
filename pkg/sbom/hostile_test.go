package sbom

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// Reading a large SBOM with a dependency per component, and writing one
// whose components all share an ID, were quadratic: minutes for 200k
// components. Both must stay near-linear.
func TestLargeSBOMsStayLinear(t *testing.T) {
	const n = 100000
	var cdx, spdx bytes.Buffer
	cdx.WriteString(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			cdx.WriteByte(',')
		}
		fmt.Fprintf(&cdx, `{"type":"library","bom-ref":"c%d","name":"n%d","version":"1"}`, i, i)
	}
	cdx.WriteString(`],"dependencies":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			cdx.WriteByte(',')
		}
		fmt.Fprintf(&cdx, `{"ref":"c%d","dependsOn":["c%d"]}`, i, (i+1)%n)
	}
	cdx.WriteString(`]}`)
	spdx.WriteString(`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"x","packages":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			spdx.WriteByte(',')
		}
		fmt.Fprintf(&spdx, `{"SPDXID":"SPDXRef-p%d","name":"n%d","versionInfo":"1"}`, i, i)
	}
	spdx.WriteString(`],"relationships":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			spdx.WriteByte(',')
		}
		fmt.Fprintf(&spdx, `{"spdxElementId":"SPDXRef-p%d","relatedSpdxElement":"SPDXRef-p%d","relationshipType":"DEPENDS_ON"}`, i, (i+1)%n)
	}
	spdx.WriteString(`]}`)
	for name, doc := range map[string][]byte{"cyclonedx": cdx.Bytes(), "spdx": spdx.Bytes()} {
		start := time.Now()
		inv, err := Read(bytes.NewReader(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(inv.Packages) != n || len(inv.Packages[7].DependsOn) != 1 || !strings.HasSuffix(inv.Packages[7].DependsOn[0], "8") {
			t.Errorf("%s: %d packages, package 7 depends on %v", name, len(inv.Packages), inv.Packages[7].DependsOn)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%s: reading took %s", name, d)
		}
	}

	same := &Inventory{}
	for i := 0; i < n; i++ {
		same.Packages = append(same.Packages, Package{ID: "x", Name: "n", Version: "1"})
	}
	start := time.Now()
	var out bytes.Buffer
	if err := WriteSPDX(&out, same); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("writing %d packages with one ID took %s", n, d)
	}
	var doc struct {
		Packages []struct {
			SPDXID string `json:"SPDXID"`
		} `json:"packages"`
	}
	if err := json.NewDecoder(io.Reader(&out)).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, p := range doc.Packages {
		ids[p.SPDXID] = true
	}
	if len(ids) != len(doc.Packages) {
		t.Errorf("%d SPDX IDs for %d packages: duplicates", len(ids), len(doc.Packages))
	}
}
