package web

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/wardsec/ward/pkg/finding"
	"github.com/wardsec/ward/pkg/report"
	"github.com/wardsec/ward/pkg/sbom"
)

// maxSBOMDownload bounds a generated SBOM download: it is built in
// memory first (so an error is a clean error page, not half a file) and
// a document over the bound is refused.
const maxSBOMDownload = 128 << 20

// layerRow is one image layer as the stored inventory knows it: a
// distinct package LayerDiffID and how many packages it introduced.
type layerRow struct {
	DiffID   string
	Digest   string
	Packages int
}

// vulnRow is one stored vulnerability finding of the target.
type vulnRow struct {
	ID        int64
	Status    string
	Severity  string
	VulnID    string
	Package   string
	Installed string
	Fixed     []string
	// VEX is the VEX statement's status and justification when the
	// report marked the finding suppressed by VEX.
	VEX string
	Bad string
}

type imageDetailData struct {
	T        TargetSummary
	Sevs     []string
	HasSBOM  bool
	OS       *sbom.OS
	Layers   []layerRow
	Packages []sbom.Package
	PkgTotal int
	PkgPage  int
	PkgPages int
	PkgPrev  string
	PkgNext  string
	Vulns    []vulnRow
	VulnPage int
	VulnNext string
	VulnTop  string
}

// imageURL is the detail page URL of target with extra query pairs.
func imageURL(target string, kv ...string) string {
	v := url.Values{"target": {target}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "/images/detail?" + v.Encode()
}

// targetParam is the required ?target= of the image pages.
func targetParam(r *http.Request) (string, error) {
	name := r.URL.Query().Get("target")
	if name == "" {
		return "", badRequest("target is required (/images/detail?target=NAME)")
	}
	if len(name) > 4096 {
		return "", badRequest("target name over 4096 bytes")
	}
	return name, nil
}

// pageParam parses an optional 1-based page number.
func pageParam(q url.Values, key string) (int, error) {
	s := q.Get(key)
	if s == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, badRequest("%s must be a page number from 1, not %q", key, s)
	}
	return n, nil
}

// imageDetail shows one target: digest, type, last scan, OS, layers,
// its package inventory (paginated) and open vulnerabilities (paginated,
// with fixed versions and VEX status), and the SBOM downloads.
func (h *Handler) imageDetail(w http.ResponseWriter, r *http.Request, s *session) error {
	name, err := targetParam(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	pkgPage, err := pageParam(q, "pkgpage")
	if err != nil {
		return err
	}
	vulnPage, err := pageParam(q, "vpage")
	if err != nil {
		return err
	}
	t, err := h.st.Target(r.Context(), name)
	if err != nil {
		return err
	}
	d := imageDetailData{T: t, Sevs: severityOrder, PkgPage: pkgPage, VulnPage: vulnPage}
	inv, err := h.st.TargetSBOM(r.Context(), name)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	default:
		d.HasSBOM = true
		d.OS = inv.OS
		d.Layers = layersOf(inv.Packages)
		d.PkgTotal = len(inv.Packages)
		d.PkgPages = max(1, (d.PkgTotal+pageSize-1)/pageSize)
		if pkgPage > d.PkgPages {
			return notFound("package page %d of %s: there are %d", pkgPage, name, d.PkgPages)
		}
		from := (pkgPage - 1) * pageSize
		d.Packages = inv.Packages[from:min(from+pageSize, d.PkgTotal)]
		if pkgPage > 1 {
			d.PkgPrev = imageURL(name, "pkgpage", strconv.Itoa(pkgPage-1))
		}
		if pkgPage < d.PkgPages {
			d.PkgNext = imageURL(name, "pkgpage", strconv.Itoa(pkgPage+1))
		}
	}
	items, next, err := h.st.Findings(r.Context(), FindingFilter{Target: name, Kind: string(finding.KindVulnerability),
		Status: "open", Cursor: q.Get("vcursor"), Limit: pageSize})
	if err != nil {
		return err
	}
	d.Vulns = vulnRows(items)
	if next != "" {
		d.VulnNext = imageURL(name, "vcursor", next, "vpage", strconv.Itoa(vulnPage+1)) + "#vulnerabilities"
	}
	if vulnPage > 1 {
		d.VulnTop = imageURL(name) + "#vulnerabilities"
	}
	h.render(w, r, http.StatusOK, "image_detail.html", s, "Image "+name, "images", d)
	return nil
}

// layersOf counts the packages of each distinct layer, in the order the
// layers first appear in the inventory ("" collects packages with no
// layer recorded).
func layersOf(pkgs []sbom.Package) []layerRow {
	idx := map[string]int{}
	var out []layerRow
	for i := range pkgs {
		p := &pkgs[i]
		j, ok := idx[p.LayerDiffID]
		if !ok {
			j = len(out)
			idx[p.LayerDiffID] = j
			out = append(out, layerRow{DiffID: p.LayerDiffID, Digest: p.LayerDigest})
		}
		out[j].Packages++
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].DiffID != "" && out[b].DiffID == "" })
	return out
}

func vulnRows(items []StoredFinding) []vulnRow {
	out := make([]vulnRow, 0, len(items))
	for _, fr := range rows(items) {
		v := vulnRow{ID: fr.ID, Status: fr.Status, Severity: fr.F.Severity.String(), VulnID: fr.F.RuleID, Bad: fr.Bad}
		if fr.F.Vulnerability != nil {
			v.VulnID = fr.F.Vulnerability.ID
			v.Fixed = fr.F.Vulnerability.FixedVersions
		}
		if p := fr.F.Package; p != nil {
			v.Package, v.Installed = p.Name, p.Version
		}
		if sp := fr.F.Suppressed; sp != nil && sp.Kind == "vex" {
			v.VEX = sp.Reason
			if v.VEX == "" {
				v.VEX = "suppressed"
			}
		}
		out = append(out, v)
	}
	return out
}

// sbomFormats are the downloads: writer, media type and file suffix.
var sbomFormats = map[string]struct {
	write  func(w *bytes.Buffer, inv *sbom.Inventory, o sbom.WriteOptions) error
	media  string
	suffix string
}{
	sbom.FormatCycloneDX: {func(w *bytes.Buffer, inv *sbom.Inventory, o sbom.WriteOptions) error {
		return sbom.WriteCycloneDXOptions(w, inv, o)
	}, "application/vnd.cyclonedx+json", ".cdx.json"},
	sbom.FormatSPDX: {func(w *bytes.Buffer, inv *sbom.Inventory, o sbom.WriteOptions) error {
		return sbom.WriteSPDXOptions(w, inv, o)
	}, "application/spdx+json", ".spdx.json"},
}

// imageSBOM serves the target's stored inventory as a CycloneDX or SPDX
// JSON attachment, written by Ward's own SBOM writers.
func (h *Handler) imageSBOM(w http.ResponseWriter, r *http.Request, s *session) error {
	name, err := targetParam(r)
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	f, ok := sbomFormats[format]
	if !ok {
		return badRequest("format must be %s or %s, not %q", sbom.FormatCycloneDX, sbom.FormatSPDX, format)
	}
	t, err := h.st.Target(r.Context(), name)
	if err != nil {
		return err
	}
	rep, err := h.st.TargetSBOM(r.Context(), name)
	if errors.Is(err, ErrNotFound) {
		return notFound("no package inventory stored for %s (scan it with --list-all-pkgs or `ward image`)", name)
	}
	if err != nil {
		return err
	}
	o := sbom.WriteOptions{ToolVersion: h.opts.Version}
	if t.LastScan != nil {
		o.Time = *t.LastScan
	}
	var buf bytes.Buffer
	if err := f.write(&buf, inventoryOf(rep), o); err != nil {
		return fmt.Errorf("web: sbom of %s: %w", name, err)
	}
	if buf.Len() > maxSBOMDownload {
		return &httpError{code: http.StatusInternalServerError, msg: fmt.Sprintf("the %s SBOM of %s is %d bytes, over the %d-byte download limit", format, name, buf.Len(), maxSBOMDownload)}
	}
	hd := w.Header()
	hd.Set("Content-Type", f.media)
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fileName(name) + f.suffix}))
	hd.Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
	return nil
}

// inventoryOf is the SBOM inventory of a stored report.
func inventoryOf(rep *report.Report) *sbom.Inventory {
	pkgs := rep.Packages
	if pkgs == nil {
		pkgs = []sbom.Package{}
	}
	return &sbom.Inventory{Target: rep.Artifact.Name, ArtifactType: rep.Artifact.Type, Digest: rep.Artifact.Digest, OS: rep.OS, Packages: pkgs}
}

// fileName makes a download file name of a target name: letters, digits,
// '.', '-' and '_' kept, anything else '_', at most 100 bytes.
func fileName(name string) string {
	var b strings.Builder
	for _, c := range name {
		if b.Len() >= 100 {
			break
		}
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), ".")
	if s == "" {
		return "sbom"
	}
	return s
}
