package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/wardsec/ward/internal/testutil/cputime"
)

// genCorpus writes n .tf files (about 90 lines and 6 resources each: EKS,
// S3, security group, IAM, Kubernetes deployment, storage account) into dir.
func genCorpus(tb testing.TB, dir string, n int) int64 {
	tb.Helper()
	var total int64
	for i := 0; i < n; i++ {
		src := fmt.Sprintf(`variable "cidr_%[1]d" {
  default = "0.0.0.0/0"
}

locals {
  name_%[1]d = "svc-%[1]d"
  tags_%[1]d = { team = "t%[1]d", env = "prod" }
}

resource "aws_eks_cluster" "c%[1]d" {
  name     = local.name_%[1]d
  role_arn = "arn:aws:iam::123456789012:role/eks"
  vpc_config {
    subnet_ids          = ["subnet-a", "subnet-b"]
    public_access_cidrs = [var.cidr_%[1]d]
  }
  tags = local.tags_%[1]d
}

resource "aws_s3_bucket" "b%[1]d" {
  bucket = "bucket-%[1]d"
  acl    = "public-read"
}

resource "aws_security_group" "sg%[1]d" {
  name = "sg-%[1]d"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.cidr_%[1]d]
  }
}

resource "aws_iam_policy" "p%[1]d" {
  name = "p-%[1]d"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }]
  })
}

resource "kubernetes_deployment_v1" "d%[1]d" {
  metadata {
    name = local.name_%[1]d
  }
  spec {
    replicas = 2
    selector {
      match_labels = { app = local.name_%[1]d }
    }
    template {
      metadata {
        labels = { app = local.name_%[1]d }
      }
      spec {
        container {
          name  = "app"
          image = "nginx:latest"
          security_context {
            privileged = true
          }
        }
      }
    }
  }
}

resource "azurerm_storage_account" "s%[1]d" {
  name                            = "st%[1]d"
  resource_group_name             = "rg"
  location                        = "westeurope"
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  min_tls_version                 = "TLS1_0"
  allow_nested_items_to_be_public = true
}
`, i)
		total += int64(len(src))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("gen_%04d.tf", i)), []byte(src), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return total
}

// BenchmarkScanDir1000 scans a module of 1,000 generated .tf files
// (6,000 resources) with every check. Target: well under 5 s per op.
func BenchmarkScanDir1000(b *testing.B) {
	runtime.GC()
	dir := b.TempDir()
	size := genCorpus(b, dir, 1000)
	b.SetBytes(size)
	b.ResetTimer()
	var n int
	start := cputime.Process()
	for b.Loop() {
		fs, errs := ScanDir(dir, dir)
		if len(errs) > 0 {
			b.Fatal(errs[0])
		}
		n = len(fs)
	}
	b.ReportMetric(float64(n), "findings/op")
	if c := cputime.Process() - start; c > 0 {
		b.ReportMetric(c.Seconds()/float64(b.N), "cpu-s/op")
	}
}
