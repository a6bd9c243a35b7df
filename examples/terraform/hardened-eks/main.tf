variable "office_cidr" {
  default = "203.0.113.0/24"
}

locals {
  name      = "shop"
  log_types = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
}

resource "aws_kms_key" "eks" {
  description         = "EKS secrets envelope encryption"
  enable_key_rotation = true
}

resource "aws_eks_cluster" "main" {
  name                      = local.name
  role_arn                  = "arn:aws:iam::123456789012:role/eks-cluster"
  enabled_cluster_log_types = local.log_types

  vpc_config {
    subnet_ids              = ["subnet-0a1b2c", "subnet-3d4e5f"]
    endpoint_private_access = true
    endpoint_public_access  = false
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = aws_kms_key.eks.arn
    }
  }
}

resource "aws_launch_template" "nodes" {
  name_prefix = "${local.name}-nodes"
  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
}

resource "aws_ecr_repository" "app" {
  name                 = "${local.name}/app"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
}

# ward:ignore WARD-TF-012 static assets; SSE-S3 default encryption is enough here
resource "aws_s3_bucket" "assets" {
  bucket = "${local.name}-assets"
}

resource "aws_s3_bucket_public_access_block" "assets" {
  bucket                  = aws_s3_bucket.assets.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_security_group" "bastion" {
  name = "${local.name}-bastion"
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.office_cidr]
  }
}

data "aws_iam_policy_document" "deployer" {
  statement {
    actions   = ["eks:DescribeCluster", "ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "deployer" {
  name   = "${local.name}-deployer"
  policy = data.aws_iam_policy_document.deployer.json
}

resource "kubernetes_deployment_v1" "api" {
  metadata {
    name = "api"
  }
  spec {
    selector {
      match_labels = { app = "api" }
    }
    template {
      metadata {
        labels = { app = "api" }
      }
      spec {
        security_context {
          run_as_non_root = true
          run_as_user     = 10001
        }
        container {
          name  = "api"
          image = "example/api:1.4.2@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31"
          security_context {
            allow_privilege_escalation = false
            read_only_root_filesystem  = true
            capabilities {
              drop = ["ALL"]
            }
          }
          resources {
            limits = {
              cpu    = "500m"
              memory = "256Mi"
            }
          }
        }
      }
    }
  }
}
