variable "admin_cidr" {
  description = "Who may reach SSH and the Kubernetes API."
  default     = "0.0.0.0/0"
}

locals {
  name = "shop"
}

resource "aws_eks_cluster" "main" {
  name     = local.name
  role_arn = "arn:aws:iam::123456789012:role/eks-cluster"

  vpc_config {
    subnet_ids          = ["subnet-0a1b2c", "subnet-3d4e5f"]
    public_access_cidrs = [var.admin_cidr]
  }
}

resource "aws_ecr_repository" "app" {
  name = "${local.name}/app"
}

resource "aws_s3_bucket" "assets" {
  bucket = "${local.name}-assets"
  acl    = "public-read"
}

resource "aws_security_group" "bastion" {
  name = "${local.name}-bastion"

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.admin_cidr]
  }
}

resource "aws_iam_policy" "deployer" {
  name = "${local.name}-deployer"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }]
  })
}

module "nodes" {
  source  = "./modules/nodes"
  cluster = aws_eks_cluster.main.name
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
        host_network = true
        container {
          name  = "api"
          image = "example/api:latest"
          security_context {
            privileged = true
          }
        }
      }
    }
  }
}
