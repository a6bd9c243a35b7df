package misconfig

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestTerraformCalledModuleScannedOnce: a module called by a root module is
// scanned through its caller only, so each of its findings appears once.
func TestTerraformCalledModuleScannedOnce(t *testing.T) {
	dir := t.TempDir()
	write := func(p, data string) {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.tf", `module "net" {
  source = "./modules/net"
  cidr   = "0.0.0.0/0"
}
`)
	write("modules/net/main.tf", `variable "cidr" {
  type    = string
  default = "10.0.0.0/8"
}

resource "aws_security_group" "ssh" {
  name = "ssh"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.cidr]
  }
}
`)
	fs, errs := Scan(context.Background(), dir, []string{dir}, Options{})
	if len(errs) != 0 {
		t.Fatalf("errors: %+v", errs)
	}
	seen := map[string]int{}
	open := 0
	for _, f := range fs {
		seen[f.Fingerprint]++
		if f.Location.Path == filepath.Join(dir, "modules/net/main.tf") && f.Location.StartLine == 12 {
			open++
		}
	}
	for fp, n := range seen {
		if n > 1 {
			t.Errorf("finding %s reported %d times", fp, n)
		}
	}
	// The caller passes 0.0.0.0/0: the open-SSH finding must come from the
	// module's cidr_blocks line, evaluated with the caller's input.
	if open == 0 {
		for _, f := range fs {
			t.Logf("%s %s:%d %s", f.RuleID, f.Location.Path, f.Location.StartLine, f.Message)
		}
		t.Fatal("no finding on the module's cidr_blocks line with the caller's input")
	}
}
