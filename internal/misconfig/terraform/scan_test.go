package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/wardsec/ward/pkg/finding"
)

func scanArchive(t testing.TB, src, sub string) ([]finding.Finding, []finding.ScanError, string) {
	t.Helper()
	dir := t.TempDir()
	materialize(t, txtar.Parse([]byte(src)), dir)
	fs, errs := ScanDir(dir, filepath.Join(dir, sub))
	return fs, errs, dir
}

func summary(fs []finding.Finding, dir string, id string) []string {
	var out []string
	for _, f := range fs {
		if f.RuleID != id {
			continue
		}
		rel, _ := filepath.Rel(dir, f.Location.Path)
		s := fmt.Sprintf("%s:%d:%d %s", filepath.ToSlash(rel), f.Location.StartLine, f.Location.StartColumn, f.Location.Object.Name)
		if f.Suppressed != nil {
			s += " suppressed(" + f.Suppressed.Reason + ")"
		}
		out = append(out, s)
	}
	return out
}

func TestEvaluation(t *testing.T) {
	src := `-- root/main.tf --
variable "ports" {
  default = [22, 443]
}

variable "from_tfvars" {
  default = "10.0.0.0/8"
}

locals {
  everyone = local.world
  world    = "0.0.0.0/0"
  sgs      = { a = 22, b = 8080 }
}

resource "aws_security_group_rule" "count" {
  count             = length(var.ports)
  type              = "ingress"
  from_port         = var.ports[count.index]
  to_port           = var.ports[count.index]
  protocol          = "tcp"
  security_group_id = "sg"
  cidr_blocks       = [local.everyone]
}

resource "aws_security_group_rule" "each" {
  for_each          = local.sgs
  type              = "ingress"
  from_port         = each.value
  to_port           = each.value
  protocol          = "tcp"
  security_group_id = "sg"
  cidr_blocks       = [var.from_tfvars]
}

resource "aws_security_group_rule" "none" {
  count             = 0
  type              = "ingress"
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  security_group_id = "sg"
  cidr_blocks       = ["0.0.0.0/0"]
}

module "net" {
  source = "./modules/net"
  cidr   = local.world
}

module "remote" {
  source = "terraform-aws-modules/vpc/aws"
}
-- root/terraform.tfvars --
from_tfvars = "0.0.0.0/0"
-- root/modules/net/main.tf --
variable "cidr" {
  default = "10.0.0.0/8"
}

resource "aws_security_group_rule" "mod" {
  type              = "ingress"
  from_port         = 3389
  to_port           = 3389
  protocol          = "tcp"
  security_group_id = "sg"
  cidr_blocks       = [var.cidr]
}
`
	fs, errs, dir := scanArchive(t, src, "root")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := strings.Join(summary(fs, dir, "WARD-TF-014"), "\n")
	want := strings.Join([]string{
		"root/main.tf:22:24 count[0]",
		"root/main.tf:32:24 each[\"a\"]",
		"root/modules/net/main.tf:11:24 mod",
	}, "\n")
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestSuppression(t *testing.T) {
	src := `-- m/main.tf --
# ward:ignore WARD-TF-007 tags are re-pushed by the release job
resource "aws_ecr_repository" "a" {
  name = "a"
  image_scanning_configuration {
    scan_on_push = false // ward:ignore WARD-TF-006 scanned by the registry mirror
  }
}

resource "aws_ecr_repository" "b" {
  name                 = "b"
  # ward:ignore WARD-TF-007 legacy
  image_tag_mutability = "MUTABLE"
  image_scanning_configuration {
    scan_on_push = false
  }
}

resource "aws_ecr_repository" "c" {
  name = "c"
}
`
	fs, _, dir := scanArchive(t, src, "m")
	got := append(summary(fs, dir, "WARD-TF-006"), summary(fs, dir, "WARD-TF-007")...)
	want := []string{
		"m/main.tf:5:5 a suppressed(scanned by the registry mirror)",
		"m/main.tf:14:5 b",
		"m/main.tf:18:1 c",
		"m/main.tf:2:1 a suppressed(tags are re-pushed by the release job)",
		"m/main.tf:12:3 b suppressed(legacy)",
		"m/main.tf:18:1 c",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range fs {
		if f.Suppressed != nil && f.Suppressed.Kind != "inline" {
			t.Errorf("kind %q", f.Suppressed.Kind)
		}
	}
}

func TestScanErrors(t *testing.T) {
	src := `-- m/bad.tf --
resource "aws_s3_bucket" "x" {
  bucket = "x"
  acl = 
}
-- m/good.tf --
resource "aws_s3_bucket" "y" {
  bucket = "y"
  acl    = "public-read"
}
-- m/escape.tf --
module "outside" {
  source = "../../../../../etc"
}
`
	fs, errs, dir := scanArchive(t, src, "m")
	var msgs []string
	for _, e := range errs {
		rel, _ := filepath.Rel(dir, e.Path)
		msgs = append(msgs, fmt.Sprintf("%s:%d:%d", filepath.ToSlash(rel), e.Line, e.Column))
		if e.Message == "" {
			t.Error("empty message")
		}
	}
	if strings.Join(msgs, " ") != "m/bad.tf:3:9 m/escape.tf:2:3" {
		t.Errorf("errors %v: %v", msgs, errs)
	}
	if len(summary(fs, dir, "WARD-TF-009")) != 1 {
		t.Errorf("the good file was not scanned: %v", fs)
	}
}

func TestHostileInput(t *testing.T) {
	dir := t.TempDir()
	deep := "a = " + strings.Repeat("[", 1<<20)
	big := "a = \"" + strings.Repeat("x", MaxFileSize) + "\"\n"
	for name, src := range map[string]string{"deep.tf": deep, "big.tf": big} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, errs := ScanDir(dir, dir)
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, fmt.Sprintf("%s:%d:%d %s", filepath.Base(e.Path), e.Line, e.Column, e.Message))
	}
	want := "big.tf:1:1 file is larger than 4194304 bytes|deep.tf:1:517 brackets nested deeper than 512 levels"
	if strings.Join(msgs, "|") != want {
		t.Errorf("got %q", msgs)
	}
}

func TestDetect(t *testing.T) {
	for p, want := range map[string]bool{"main.tf": true, "x/VARS.TF": true, "main.tf.json": false, "a.tfvars": false, "tf": false} {
		if Detect(p) != want {
			t.Errorf("Detect(%q) != %v", p, want)
		}
	}
}

func TestModuleCycle(t *testing.T) {
	src := `-- m/main.tf --
module "self" {
  source = "./"
}
resource "aws_s3_bucket_acl" "b" {
  bucket = "b"
  acl    = "public-read"
}
`
	fs, errs, dir := scanArchive(t, src, "m")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if n := len(summary(fs, dir, "WARD-TF-009")); n != 1 {
		t.Errorf("%d findings, want 1 (deduplicated)", n)
	}
}

func TestExamples(t *testing.T) {
	root := filepath.Join("..", "..", "..", "examples", "terraform")
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Skip("no examples")
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(root, e.Name())
		fs, errs := ScanDir(root, dir)
		if len(errs) > 0 {
			t.Errorf("%s: %v", dir, errs)
		}
		insecure := strings.Contains(e.Name(), "insecure")
		if insecure && len(fs) < 10 {
			t.Errorf("%s: only %d findings", dir, len(fs))
		}
		if !insecure {
			for _, f := range fs {
				if f.Suppressed == nil && f.Severity >= finding.SeverityMedium {
					t.Errorf("%s: %s at %s in a hardened example: %s", dir, f.RuleID, f.Location.Position(), f.Message)
				}
			}
		}
	}
}

// FuzzParse fuzzes the HCL entry point and the evaluation of one module file.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "checks", "*.txtar"))
	for _, p := range files {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			continue
		}
		for _, fl := range ar.Files {
			f.Add(fl.Data)
		}
	}
	f.Add([]byte("locals {\n a = local.b\n b = local.a\n}\nresource \"x\" \"y\" {\n count = 1e9\n}\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "main.tf"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		fs, errs := ScanDir(dir, dir)
		for _, x := range fs {
			if x.Location.StartLine < 1 || x.Location.StartColumn < 1 {
				t.Fatalf("finding without position: %+v", x)
			}
		}
		for _, e := range errs {
			if e.Path == "" {
				t.Fatalf("error without path: %v", e)
			}
		}
	})
}

func TestRootModules(t *testing.T) {
	src := `-- live/prod/main.tf --
module "net" {
  source = "../../modules/net"
}
-- live/dev/main.tf --
module "net" { source = "../../modules/net" }
-- modules/net/main.tf --
module "sub" {
  source = "./sub"
}
-- modules/net/sub/main.tf --
resource "aws_s3_bucket" "x" {}
-- standalone/main.tf --
module "remote" {
  source = "terraform-aws-modules/vpc/aws"
}
`
	dir := t.TempDir()
	materialize(t, txtar.Parse([]byte(src)), dir)
	var dirs []string
	for _, d := range []string{"live/prod", "live/dev", "modules/net", "modules/net/sub", "standalone"} {
		dirs = append(dirs, filepath.Join(dir, d))
	}
	var got []string
	for _, r := range RootModules(dirs) {
		rel, _ := filepath.Rel(dir, r)
		got = append(got, filepath.ToSlash(rel))
	}
	if strings.Join(got, " ") != "live/prod live/dev standalone" {
		t.Errorf("roots %v", got)
	}
}

// TestEvaluationBombs: hostile modules that would build huge values must
// finish quickly with bounded allocation (their values become unknown).
func TestEvaluationBombs(t *testing.T) {
	big := strings.Repeat("x", 60<<10)
	bombs := map[string]string{
		"nested-for": `locals {
  a = [for x in range(1024) : [for y in range(1024) : [for z in range(1024) : z]]]
}`,
		"template-for": `locals {
  s = "` + big + `"
  t = "%{for i in range(1024)}%{for j in range(1024)}${local.s}%{endfor}%{endfor}"
}`,
		"chain": `locals {
  s0 = "` + big + `"
  s1 = "${local.s0}${local.s0}${local.s0}${local.s0}${local.s0}${local.s0}${local.s0}${local.s0}"
  s2 = "${local.s1}${local.s1}${local.s1}${local.s1}${local.s1}${local.s1}${local.s1}${local.s1}"
  s3 = join("", [for i in range(1024) : local.s0])
}`,
		"functions": `locals {
  a = format("%099999999d", 1)
  b = indent(1000000000, "x\ny")
  c = replace("` + big + `", "", "` + big + `")
  d = setproduct(range(1000), range(1000), range(1000))
  e = formatlist("%s` + big + `", range(1024))
}`,
	}
	for name, src := range bombs {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(src+"\nresource \"aws_s3_bucket_acl\" \"b\" {\n  bucket = \"b\"\n  acl    = \"public-read\"\n}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			fs, errs := ScanDir(dir, dir)
			runtime.ReadMemStats(&after)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 512<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			if len(summary(fs, dir, "WARD-TF-009")) != 1 {
				t.Errorf("the rest of the module was not scanned")
			}
		})
	}
}
