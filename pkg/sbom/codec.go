package sbom

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/package-url/packageurl-go"
)

// MaxSBOMBytes bounds what Read accepts.
const MaxSBOMBytes = 512 << 20

// WriteOptions make SBOM output reproducible (tests, golden files).
type WriteOptions struct {
	// Time is the creation time; zero means now.
	Time time.Time
	// Serial is the document UUID; "" means random.
	Serial string
	// ToolVersion is Ward's version, recorded as the creating tool.
	ToolVersion string
}

func (o WriteOptions) time() string {
	t := o.Time
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format(time.RFC3339)
}

func (o WriteOptions) serial() string {
	if o.Serial != "" {
		return o.Serial
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (o WriteOptions) toolVersion() string {
	if o.ToolVersion == "" {
		return "dev"
	}
	return o.ToolVersion
}

// Format names.
const (
	FormatCycloneDX = "cyclonedx"
	FormatSPDX      = "spdx"
)

// Read decodes a CycloneDX JSON or SPDX JSON document (auto-detected) into
// an inventory. Ward's own SBOMs read back to the inventory they were
// written from; other tools' SBOMs yield their packages with ecosystems
// derived from PURLs.
func Read(r io.Reader) (*Inventory, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSBOMBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read sbom: %w", err)
	}
	if len(b) > MaxSBOMBytes {
		return nil, fmt.Errorf("sbom larger than %d bytes", MaxSBOMBytes)
	}
	var probe struct {
		BOMFormat   string `json:"bomFormat"`
		SPDXVersion string `json:"spdxVersion"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return nil, fmt.Errorf("sbom: not JSON: %w", jsonPos(b, err))
	}
	switch {
	case probe.BOMFormat == "CycloneDX":
		return readCycloneDX(b)
	case strings.HasPrefix(probe.SPDXVersion, "SPDX-"):
		return readSPDX(b)
	}
	return nil, errors.New("sbom: neither CycloneDX (bomFormat) nor SPDX (spdxVersion) JSON")
}

// jsonPos adds line:col to JSON syntax and type errors.
func jsonPos(b []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return err
	}
	line := 1 + bytes.Count(b[:off], []byte{'\n'})
	col := int(off) - bytes.LastIndexByte(b[:off], '\n')
	return fmt.Errorf("%d:%d: %w", line, col, err)
}

// property names shared by both formats (CycloneDX properties, SPDX
// annotations "name=value").
const (
	propPrefix       = "ward:"
	propEcosystem    = "ward:ecosystem"
	propType         = "ward:type"
	propSourceName   = "ward:source_name"
	propSourceVer    = "ward:source_version"
	propArch         = "ward:arch"
	propPath         = "ward:path"
	propLine         = "ward:line"
	propLayerDigest  = "ward:layer_digest"
	propLayerDiffID  = "ward:layer_diff_id"
	propLayerCreated = "ward:layer_created_by"
	propDirect       = "ward:direct"
	propDev          = "ward:dev"
	propUnpinned     = "ward:unpinned"
	propLicense      = "ward:license"
	propID           = "ward:id"
	propArtifactType = "ward:artifact_type"
	propDigest       = "ward:digest"
	propTarget       = "ward:target"
	propOSFamily     = "ward:os:family"
	propOSName       = "ward:os:name"
	propOSVersion    = "ward:os:version"
	propOSCodename   = "ward:os:codename"
	propOSDistroless = "ward:os:distroless"
	propOSCPE        = "ward:os:cpe"
	propLayer        = "ward:layer:" // ward:layer:<i>:<field>
)

type kv struct{ Name, Value string }

// packageProps lists a package's fields that have no standard place.
func packageProps(p *Package) []kv {
	var out []kv
	add := func(k, v string) {
		if v != "" {
			out = append(out, kv{k, v})
		}
	}
	add(propID, p.ID)
	add(propEcosystem, p.Ecosystem)
	add(propType, p.Type)
	add(propSourceName, p.SourceName)
	add(propSourceVer, p.SourceVersion)
	add(propArch, p.Arch)
	add(propPath, p.Path)
	if p.Line > 0 {
		add(propLine, strconv.Itoa(p.Line))
	}
	add(propLayerDigest, p.LayerDigest)
	add(propLayerDiffID, p.LayerDiffID)
	add(propLayerCreated, p.LayerCreatedBy)
	if p.Direct {
		add(propDirect, "true")
	}
	if p.Dev {
		add(propDev, "true")
	}
	if p.Unpinned {
		add(propUnpinned, "true")
	}
	for _, l := range p.Licenses {
		add(propLicense, l)
	}
	return out
}

// applyPackageProp sets one property on p; false if unknown.
func applyPackageProp(p *Package, k, v string) {
	switch k {
	case propID:
		p.ID = v
	case propEcosystem:
		p.Ecosystem = v
	case propType:
		p.Type = v
	case propSourceName:
		p.SourceName = v
	case propSourceVer:
		p.SourceVersion = v
	case propArch:
		p.Arch = v
	case propPath:
		p.Path = v
	case propLine:
		p.Line, _ = strconv.Atoi(v)
	case propLayerDigest:
		p.LayerDigest = v
	case propLayerDiffID:
		p.LayerDiffID = v
	case propLayerCreated:
		p.LayerCreatedBy = v
	case propDirect:
		p.Direct = v == "true"
	case propDev:
		p.Dev = v == "true"
	case propUnpinned:
		p.Unpinned = v == "true"
	case propLicense:
		p.Licenses = append(p.Licenses, v)
	}
}

// inventoryProps lists the inventory-level fields (target, OS, layers).
func inventoryProps(inv *Inventory) []kv {
	var out []kv
	add := func(k, v string) {
		if v != "" {
			out = append(out, kv{k, v})
		}
	}
	add(propTarget, inv.Target)
	add(propArtifactType, inv.ArtifactType)
	add(propDigest, inv.Digest)
	if o := inv.OS; o != nil {
		add(propOSFamily, o.Family)
		add(propOSName, o.Name)
		add(propOSVersion, o.Version)
		add(propOSCodename, o.Codename)
		add(propOSCPE, o.CPE)
		if o.Distroless {
			add(propOSDistroless, "true")
		}
	}
	for _, l := range inv.Layers {
		pre := propLayer + strconv.Itoa(l.Index) + ":"
		add(pre+"digest", l.Digest)
		add(pre+"diff_id", l.DiffID)
		add(pre+"created_by", l.CreatedBy)
		if l.Size > 0 {
			add(pre+"size", strconv.FormatInt(l.Size, 10))
		}
	}
	return out
}

// applyInventoryProps is the inverse of inventoryProps.
func applyInventoryProps(inv *Inventory, props []kv) {
	layers := map[int]*Layer{}
	maxIdx := -1
	osv := func() *OS {
		if inv.OS == nil {
			inv.OS = &OS{}
		}
		return inv.OS
	}
	for _, p := range props {
		switch {
		case p.Name == propTarget:
			inv.Target = p.Value
		case p.Name == propArtifactType:
			inv.ArtifactType = p.Value
		case p.Name == propDigest:
			inv.Digest = p.Value
		case p.Name == propOSFamily:
			osv().Family = p.Value
		case p.Name == propOSName:
			osv().Name = p.Value
		case p.Name == propOSVersion:
			osv().Version = p.Value
		case p.Name == propOSCodename:
			osv().Codename = p.Value
		case p.Name == propOSCPE:
			osv().CPE = p.Value
		case p.Name == propOSDistroless:
			osv().Distroless = p.Value == "true"
		case strings.HasPrefix(p.Name, propLayer):
			rest := strings.TrimPrefix(p.Name, propLayer)
			is, field, ok := strings.Cut(rest, ":")
			i, err := strconv.Atoi(is)
			if !ok || err != nil || i < 0 || i > 100000 {
				continue
			}
			l := layers[i]
			if l == nil {
				l = &Layer{Index: i}
				layers[i] = l
			}
			if i > maxIdx {
				maxIdx = i
			}
			switch field {
			case "digest":
				l.Digest = p.Value
			case "diff_id":
				l.DiffID = p.Value
			case "created_by":
				l.CreatedBy = p.Value
			case "size":
				l.Size, _ = strconv.ParseInt(p.Value, 10, 64)
			}
		}
	}
	for i := 0; i <= maxIdx; i++ {
		if l, ok := layers[i]; ok {
			inv.Layers = append(inv.Layers, *l)
		}
	}
}

// EcosystemFromPURL derives the OSV ecosystem from a PURL, for SBOMs
// written by other tools ("pkg:deb/debian/x@1?distro=debian-12" ->
// "Debian:12").
func EcosystemFromPURL(s string) string {
	u, err := packageurl.FromString(s)
	if err != nil {
		return ""
	}
	q := u.Qualifiers.Map()
	distroVersion := func() string {
		d := q["distro"]
		if i := strings.LastIndexByte(d, '-'); i >= 0 {
			d = d[i+1:]
		}
		return d
	}
	switch u.Type {
	case "npm":
		return "npm"
	case "pypi":
		return "PyPI"
	case "golang":
		return "Go"
	case "maven":
		return "Maven"
	case "cargo":
		return "crates.io"
	case "gem":
		return "RubyGems"
	case "composer":
		return "Packagist"
	case "nuget":
		return "NuGet"
	case "hex":
		return "Hex"
	case "pub":
		return "Pub"
	case "deb":
		v := distroVersion()
		name := "Debian"
		if u.Namespace == "ubuntu" {
			name = "Ubuntu"
		}
		if v == "" {
			return name
		}
		if name == "Debian" {
			v, _, _ = strings.Cut(v, ".")
		}
		return name + ":" + v
	case "apk":
		switch u.Namespace {
		case "wolfi":
			return "Wolfi"
		case "chainguard":
			return "Chainguard"
		}
		v := distroVersion()
		if v == "" {
			return "Alpine"
		}
		parts := strings.SplitN(v, ".", 3)
		if len(parts) >= 2 {
			v = parts[0] + "." + parts[1]
		}
		return "Alpine:v" + strings.TrimPrefix(v, "v")
	case "rpm":
		v := distroVersion()
		major, _, _ := strings.Cut(v, ".")
		name := map[string]string{"almalinux": "AlmaLinux", "rocky": "Rocky Linux", "redhat": "Red Hat", "centos": "CentOS",
			"oracle": "Oracle Linux", "amazon": "Amazon Linux", "opensuse": "openSUSE", "suse": "SUSE"}[u.Namespace]
		if name == "" {
			return ""
		}
		if major == "" {
			return name
		}
		return name + ":" + major
	}
	return ""
}

// typeFromPURL guesses the package type of a foreign SBOM's component.
func typeFromPURL(s string) string {
	switch {
	case strings.HasPrefix(s, "pkg:deb/"), strings.HasPrefix(s, "pkg:apk/"), strings.HasPrefix(s, "pkg:rpm/"):
		return TypeOS
	case s != "":
		return TypeLibrary
	}
	return ""
}

// dependsOn indexes the depends-on relationships by the depending ID, in
// their order.
func dependsOn(inv *Inventory) map[string][]string {
	deps := map[string][]string{}
	for _, r := range inv.Relationships {
		if r.Type == RelDependsOn {
			deps[r.From] = append(deps[r.From], r.To)
		}
	}
	return deps
}

// setDependsOn fills each package's DependsOn from the depends-on
// relationships, in their order. Indexed by package ID: the nested loop it
// replaces was quadratic, minutes for a 200k-component SBOM.
func setDependsOn(inv *Inventory) {
	deps := dependsOn(inv)
	for i := range inv.Packages {
		p := &inv.Packages[i]
		p.DependsOn = append(p.DependsOn, deps[p.ID]...)
	}
}
