package sbom

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// SPDX 2.3 JSON, the subset Ward writes and reads.
type spdxDoc struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreationInfo   `json:"creationInfo"`
	DocumentDescribes []string           `json:"documentDescribes,omitempty"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships,omitempty"`
}

type spdxCreationInfo struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	SPDXID                string           `json:"SPDXID"`
	Name                  string           `json:"name"`
	VersionInfo           string           `json:"versionInfo,omitempty"`
	DownloadLocation      string           `json:"downloadLocation"`
	FilesAnalyzed         bool             `json:"filesAnalyzed"`
	LicenseConcluded      string           `json:"licenseConcluded,omitempty"`
	LicenseDeclared       string           `json:"licenseDeclared,omitempty"`
	CopyrightText         string           `json:"copyrightText,omitempty"`
	SourceInfo            string           `json:"sourceInfo,omitempty"`
	PrimaryPackagePurpose string           `json:"primaryPackagePurpose,omitempty"`
	ExternalRefs          []spdxExternal   `json:"externalRefs,omitempty"`
	Annotations           []spdxAnnotation `json:"annotations,omitempty"`
}

type spdxExternal struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type spdxAnnotation struct {
	AnnotationDate string `json:"annotationDate"`
	AnnotationType string `json:"annotationType"`
	Annotator      string `json:"annotator"`
	Comment        string `json:"comment"`
}

type spdxRelationship struct {
	SPDXElementID      string `json:"spdxElementId"`
	RelationshipType   string `json:"relationshipType"`
	RelatedSPDXElement string `json:"relatedSpdxElement"`
}

const (
	spdxRootID = "SPDXRef-Artifact"
	spdxOSID   = "SPDXRef-OperatingSystem"
	noAssert   = "NOASSERTION"
)

// spdxRef makes a valid SPDX identifier from a package ID.
func spdxRef(id string) string {
	var b strings.Builder
	b.WriteString("SPDXRef-Package-")
	for _, r := range id {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return b.String()
}

// WriteSPDX writes inv as SPDX 2.3 JSON.
func WriteSPDX(w io.Writer, inv *Inventory) error {
	return WriteSPDXOptions(w, inv, WriteOptions{})
}

// WriteSPDXOptions writes inv as SPDX 2.3 JSON with options. Ward's fields
// without an SPDX home (ecosystem, layer, path, ...) are package
// annotations "ward:name=value", so that Read restores the inventory.
func WriteSPDXOptions(w io.Writer, inv *Inventory, o WriteOptions) error {
	created := o.time()
	annot := func(kvs []kv) []spdxAnnotation {
		var out []spdxAnnotation
		for _, p := range kvs {
			out = append(out, spdxAnnotation{AnnotationDate: created, AnnotationType: "OTHER", Annotator: "Tool: ward", Comment: p.Name + "=" + p.Value})
		}
		return out
	}
	name := inv.Target
	if name == "" {
		name = "unknown"
	}
	doc := spdxDoc{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT", Name: name,
		DocumentNamespace: "https://wardsec.dev/spdx/" + url.PathEscape(name) + "-" + o.serial(),
		CreationInfo:      spdxCreationInfo{Created: created, Creators: []string{"Tool: ward-" + o.toolVersion()}},
		DocumentDescribes: []string{spdxRootID},
		Packages:          []spdxPackage{},
	}
	root := spdxPackage{SPDXID: spdxRootID, Name: name, DownloadLocation: noAssert, PrimaryPackagePurpose: spdxPurpose(inv.ArtifactType),
		Annotations: annot(inventoryProps(inv))}
	if inv.Digest != "" {
		root.VersionInfo = inv.Digest
	}
	doc.Packages = append(doc.Packages, root)
	doc.Relationships = append(doc.Relationships, spdxRelationship{"SPDXRef-DOCUMENT", "DESCRIBES", spdxRootID})
	if inv.OS != nil {
		doc.Packages = append(doc.Packages, spdxPackage{SPDXID: spdxOSID, Name: strings.ToLower(inv.OS.Family), VersionInfo: inv.OS.Version,
			DownloadLocation: noAssert, PrimaryPackagePurpose: "OPERATING_SYSTEM"})
		doc.Relationships = append(doc.Relationships, spdxRelationship{spdxRootID, "CONTAINS", spdxOSID})
	}
	refs := map[string]string{}
	dupNext := map[string]int{}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		id := spdxRef(p.ID)
		if p.ID == "" {
			id = spdxRef(fmt.Sprint(i))
		}
		// Number duplicates from where the last duplicate of this ID
		// stopped: restarting at 2 was quadratic on an SBOM whose 100k
		// components all have the same bom-ref.
		n := dupNext[p.ID]
		if n < 2 {
			n = 2
		}
		for ; ; n++ {
			if _, dup := refs[id]; !dup {
				break
			}
			id = spdxRef(fmt.Sprintf("%s-%d", p.ID, n))
		}
		dupNext[p.ID] = n
		refs[p.ID] = id
		refs[id] = id
		sp := spdxPackage{SPDXID: id, Name: p.Name, VersionInfo: p.Version, DownloadLocation: noAssert,
			LicenseConcluded: noAssert, LicenseDeclared: spdxLicense(p.Licenses), PrimaryPackagePurpose: "LIBRARY",
			Annotations: annot(packageProps(p))}
		if p.Type == TypeBinary {
			sp.PrimaryPackagePurpose = "APPLICATION"
		}
		if p.SourceName != "" {
			sp.SourceInfo = "built from source package " + p.SourceName + " " + p.SourceVersion
		}
		if p.PURL != "" {
			sp.ExternalRefs = []spdxExternal{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: p.PURL}}
		}
		doc.Packages = append(doc.Packages, sp)
		doc.Relationships = append(doc.Relationships, spdxRelationship{spdxRootID, "CONTAINS", id})
	}
	for _, r := range inv.Relationships {
		from, to := refs[r.From], refs[r.To]
		if from == "" || to == "" {
			continue
		}
		typ := "DEPENDS_ON"
		if r.Type == RelContains {
			typ = "CONTAINS"
		}
		doc.Relationships = append(doc.Relationships, spdxRelationship{from, typ, to})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&doc); err != nil {
		return fmt.Errorf("write spdx: %w", err)
	}
	return nil
}

func spdxPurpose(artifactType string) string {
	switch artifactType {
	case "container_image":
		return "CONTAINER"
	case "filesystem":
		return "SOURCE"
	case "rootfs":
		return "OPERATING_SYSTEM"
	}
	return "OTHER"
}

// spdxLicense renders licences as a declared licence expression when each
// is a known SPDX identifier or an expression of them, else NOASSERTION.
func spdxLicense(ls []string) string {
	if len(ls) == 0 {
		return noAssert
	}
	var parts []string
	for _, l := range ls {
		if !isSPDXExpression(l) {
			return noAssert
		}
		for _, tok := range strings.Fields(strings.NewReplacer("(", " ", ")", " ").Replace(l)) {
			if tok != "AND" && tok != "OR" && tok != "WITH" && !spdxIDs[strings.TrimSuffix(tok, "+")] {
				return noAssert
			}
		}
		if len(ls) > 1 && strings.ContainsAny(l, " ") {
			l = "(" + l + ")"
		}
		parts = append(parts, l)
	}
	return strings.Join(parts, " AND ")
}

func readSPDX(b []byte) (*Inventory, error) {
	var doc spdxDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("spdx: %w", jsonPos(b, err))
	}
	inv := &Inventory{Target: doc.Name, ArtifactType: "sbom", Packages: []Package{}}
	described := map[string]bool{}
	for _, id := range doc.DocumentDescribes {
		described[id] = true
	}
	for _, r := range doc.Relationships {
		if r.SPDXElementID == "SPDXRef-DOCUMENT" && r.RelationshipType == "DESCRIBES" {
			described[r.RelatedSPDXElement] = true
		}
	}
	split := func(as []spdxAnnotation) ([]kv, bool) {
		var out []kv
		for _, a := range as {
			if k, v, ok := strings.Cut(a.Comment, "="); ok && strings.HasPrefix(k, propPrefix) {
				out = append(out, kv{k, v})
			}
		}
		return out, len(out) > 0
	}
	idOf := map[string]string{} // SPDXID -> package ID
	for _, sp := range doc.Packages {
		props, ward := split(sp.Annotations)
		if sp.SPDXID == spdxRootID || (described[sp.SPDXID] && !ward) {
			if sp.SPDXID == spdxRootID {
				applyInventoryProps(inv, props)
			}
			continue
		}
		if sp.PrimaryPackagePurpose == "OPERATING_SYSTEM" {
			if inv.OS == nil && sp.SPDXID != spdxOSID {
				inv.OS = &OS{Family: sp.Name, Version: sp.VersionInfo}
			}
			continue
		}
		p := Package{ID: sp.SPDXID, Name: sp.Name, Version: sp.VersionInfo}
		for _, r := range sp.ExternalRefs {
			if r.ReferenceType == "purl" {
				p.PURL = r.ReferenceLocator
			}
		}
		if ward {
			for _, kv := range props {
				applyPackageProp(&p, kv.Name, kv.Value)
			}
		} else {
			if l := sp.LicenseDeclared; l != "" && l != noAssert && l != "NONE" {
				p.Licenses = []string{l}
			}
			p.Ecosystem = EcosystemFromPURL(p.PURL)
			p.Type = typeFromPURL(p.PURL)
		}
		idOf[sp.SPDXID] = p.ID
		inv.Packages = append(inv.Packages, p)
	}
	for _, r := range doc.Relationships {
		from, ok1 := idOf[r.SPDXElementID]
		to, ok2 := idOf[r.RelatedSPDXElement]
		if !ok1 || !ok2 {
			continue
		}
		switch r.RelationshipType {
		case "DEPENDS_ON":
			inv.Relationships = append(inv.Relationships, Relationship{From: from, To: to, Type: RelDependsOn})
		case "DEPENDENCY_OF":
			inv.Relationships = append(inv.Relationships, Relationship{From: to, To: from, Type: RelDependsOn})
		case "CONTAINS":
			inv.Relationships = append(inv.Relationships, Relationship{From: from, To: to, Type: RelContains})
		}
	}
	setDependsOn(inv)
	return inv, nil
}
