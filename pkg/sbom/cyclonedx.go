package sbom

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// CycloneDX 1.6 JSON, the subset Ward writes and reads.
type cdxBOM struct {
	BOMFormat    string          `json:"bomFormat"`
	SpecVersion  string          `json:"specVersion"`
	SerialNumber string          `json:"serialNumber,omitempty"`
	Version      int             `json:"version"`
	Metadata     *cdxMetadata    `json:"metadata,omitempty"`
	Components   []cdxComponent  `json:"components,omitempty"`
	Dependencies []cdxDependency `json:"dependencies,omitempty"`
}

type cdxMetadata struct {
	Timestamp string        `json:"timestamp,omitempty"`
	Tools     *cdxTools     `json:"tools,omitempty"`
	Component *cdxComponent `json:"component,omitempty"`
}

type cdxTools struct {
	Components []cdxComponent `json:"components,omitempty"`
}

type cdxComponent struct {
	BOMRef     string         `json:"bom-ref,omitempty"`
	Type       string         `json:"type"`
	Name       string         `json:"name"`
	Version    string         `json:"version,omitempty"`
	PURL       string         `json:"purl,omitempty"`
	Licenses   []cdxLicense   `json:"licenses,omitempty"`
	Properties []cdxProperty  `json:"properties,omitempty"`
	Components []cdxComponent `json:"components,omitempty"`
}

type cdxLicense struct {
	License    *cdxLicenseID `json:"license,omitempty"`
	Expression string        `json:"expression,omitempty"`
}

type cdxLicenseID struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

type cdxProperty struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type cdxDependency struct {
	Ref       string   `json:"ref"`
	DependsOn []string `json:"dependsOn,omitempty"`
}

const cdxRootRef = "ward-target"

// WriteCycloneDX writes inv as CycloneDX 1.6 JSON.
func WriteCycloneDX(w io.Writer, inv *Inventory) error {
	return WriteCycloneDXOptions(w, inv, WriteOptions{})
}

// WriteCycloneDXOptions writes inv as CycloneDX 1.6 JSON with options.
func WriteCycloneDXOptions(w io.Writer, inv *Inventory, o WriteOptions) error {
	root := cdxComponent{BOMRef: cdxRootRef, Type: cdxRootType(inv.ArtifactType), Name: inv.Target}
	if root.Name == "" {
		root.Name = "unknown"
	}
	for _, p := range inventoryProps(inv) {
		root.Properties = append(root.Properties, cdxProperty(p))
	}
	bom := cdxBOM{
		BOMFormat: "CycloneDX", SpecVersion: "1.6", SerialNumber: "urn:uuid:" + o.serial(), Version: 1,
		Metadata: &cdxMetadata{
			Timestamp: o.time(),
			Tools:     &cdxTools{Components: []cdxComponent{{Type: "application", Name: "ward", Version: o.toolVersion()}}},
			Component: &root,
		},
		Components: []cdxComponent{},
	}
	if inv.OS != nil {
		bom.Components = append(bom.Components, cdxComponent{BOMRef: "ward-os", Type: "operating-system", Name: strings.ToLower(inv.OS.Family), Version: inv.OS.Version})
	}
	deps := dependsOn(inv)
	for i := range inv.Packages {
		p := &inv.Packages[i]
		c := cdxComponent{BOMRef: p.ID, Type: "library", Name: p.Name, Version: p.Version, PURL: p.PURL}
		if c.BOMRef == "" {
			c.BOMRef = fmt.Sprintf("pkg-%d", i)
		}
		if p.Type == TypeBinary {
			c.Type = "application"
		}
		if p.Type == TypeStdlib {
			c.Type = "framework"
		}
		c.Licenses = cdxLicenses(p.Licenses)
		for _, kv := range packageProps(p) {
			c.Properties = append(c.Properties, cdxProperty(kv))
		}
		bom.Components = append(bom.Components, c)
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if d := deps[p.ID]; len(d) > 0 {
			bom.Dependencies = append(bom.Dependencies, cdxDependency{Ref: p.ID, DependsOn: d})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&bom); err != nil {
		return fmt.Errorf("write cyclonedx: %w", err)
	}
	return nil
}

func cdxRootType(artifactType string) string {
	switch artifactType {
	case "container_image":
		return "container"
	case "filesystem", "rootfs":
		return "file"
	}
	return "application"
}

// cdxLicenses writes one expression (a single SPDX expression) or a list
// of licences by id (a known SPDX identifier) or name (anything else): the
// schema allows either one expression or licences, and checks ids against
// the SPDX list.
func cdxLicenses(ls []string) []cdxLicense {
	if len(ls) == 1 && !spdxIDs[ls[0]] && isSPDXExpression(ls[0]) &&
		(strings.Contains(ls[0], " AND ") || strings.Contains(ls[0], " OR ") || strings.Contains(ls[0], " WITH ")) {
		return []cdxLicense{{Expression: ls[0]}}
	}
	var out []cdxLicense
	for _, l := range ls {
		if spdxIDs[l] {
			out = append(out, cdxLicense{License: &cdxLicenseID{ID: l}})
		} else {
			out = append(out, cdxLicense{License: &cdxLicenseID{Name: l}})
		}
	}
	return out
}

func readCycloneDX(b []byte) (*Inventory, error) {
	var bom cdxBOM
	if err := json.Unmarshal(b, &bom); err != nil {
		return nil, fmt.Errorf("cyclonedx: %w", jsonPos(b, err))
	}
	inv := &Inventory{ArtifactType: "sbom", Packages: []Package{}}
	if m := bom.Metadata; m != nil && m.Component != nil {
		inv.Target = m.Component.Name
		var props []kv
		for _, p := range m.Component.Properties {
			props = append(props, kv(p))
		}
		applyInventoryProps(inv, props)
	}
	var walk func(cs []cdxComponent)
	walk = func(cs []cdxComponent) {
		for _, c := range cs {
			if c.Type == "operating-system" && c.BOMRef == "ward-os" {
				continue // restored from the properties
			}
			if c.Type == "operating-system" {
				if inv.OS == nil {
					inv.OS = &OS{Family: c.Name, Version: c.Version}
				}
				continue
			}
			p := Package{ID: c.BOMRef, Name: c.Name, Version: c.Version, PURL: c.PURL}
			ward := false
			for _, pr := range c.Properties {
				if strings.HasPrefix(pr.Name, propPrefix) {
					ward = true
					applyPackageProp(&p, pr.Name, pr.Value)
				}
			}
			if !ward {
				for _, l := range c.Licenses {
					switch {
					case l.Expression != "":
						p.Licenses = append(p.Licenses, l.Expression)
					case l.License != nil && l.License.ID != "":
						p.Licenses = append(p.Licenses, l.License.ID)
					case l.License != nil && l.License.Name != "":
						p.Licenses = append(p.Licenses, l.License.Name)
					}
				}
				p.Ecosystem = EcosystemFromPURL(p.PURL)
				p.Type = typeFromPURL(p.PURL)
			}
			inv.Packages = append(inv.Packages, p)
			walk(c.Components)
		}
	}
	walk(bom.Components)
	ids := map[string]bool{}
	for _, p := range inv.Packages {
		ids[p.ID] = true
	}
	for _, d := range bom.Dependencies {
		if !ids[d.Ref] {
			continue
		}
		for _, to := range d.DependsOn {
			if ids[to] {
				inv.Relationships = append(inv.Relationships, Relationship{From: d.Ref, To: to, Type: RelDependsOn})
			}
		}
	}
	setDependsOn(inv)
	return inv, nil
}
