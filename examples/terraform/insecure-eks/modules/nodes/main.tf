variable "cluster" {}

resource "aws_launch_template" "nodes" {
  name_prefix = "${var.cluster}-nodes"
}

resource "aws_eks_node_group" "default" {
  cluster_name  = var.cluster
  node_role_arn = "arn:aws:iam::123456789012:role/eks-nodes"
  subnet_ids    = ["subnet-0a1b2c"]

  remote_access {
    ec2_ssh_key = "ops"
  }

  scaling_config {
    desired_size = 2
    max_size     = 3
    min_size     = 1
  }
}
