package terraform

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

var iamPolicyTypes = []string{"aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy", "aws_iam_group_policy", "data.aws_iam_policy_document"}

func awsRules() []rule {
	return []rule{
		{meta("WARD-TF-001", high, "EKS API endpoint is public to the internet",
			"The EKS control-plane endpoint is publicly reachable (endpoint_public_access defaults to true) from any address.",
			"Set `vpc_config { endpoint_public_access = false, endpoint_private_access = true }`, or restrict `public_access_cidrs` to known ranges.",
			nsaM("network-exposure")),
			[]string{"aws_eks_cluster"}, func(c *rctx) {
				vpc := c.b.Block("vpc_config")
				if vpc == nil {
					return
				}
				pub := vpc.Attr("endpoint_public_access")
				if pub.IsFalse() || pub.Set && !pub.Known() {
					return
				}
				cidrs := vpc.Attr("public_access_cidrs")
				if !cidrs.Set {
					at := vpc.Def
					if pub.Set {
						at = pub.Rng
					}
					c.report(at, vpc.join("endpoint_public_access"), msgf(c, "API endpoint is public and public_access_cidrs is not set (0.0.0.0/0)"))
					return
				}
				if i := worldIdx(cidrs); i >= 0 {
					c.report(cidrs.ElemRange(i), cidrs.Path, msgf(c, "API endpoint is public to 0.0.0.0/0"))
				}
			}},
		{meta("WARD-TF-002", high, "EKS secrets are not envelope-encrypted with KMS",
			"Kubernetes Secrets in etcd are not encrypted with a customer KMS key.",
			"Add `encryption_config { resources = [\"secrets\"] provider { key_arn = aws_kms_key.eks.arn } }`.",
			nsaM("secrets")),
			[]string{"aws_eks_cluster"}, func(c *rctx) {
				if c.b.Dynamic("encryption_config") {
					return
				}
				ec := c.b.Block("encryption_config")
				if ec == nil {
					missing(c, c.b, "encryption_config", msgf(c, "no encryption_config for secrets"))
					return
				}
				res := ec.Attr("resources")
				if items, ok := res.Strs(); ok && !contains(items, "secrets") {
					c.report(res.Rng, res.Path, msgf(c, "encryption_config does not cover secrets"))
				}
			}},
		{meta("WARD-TF-003", med, "EKS control-plane logging incomplete",
			"The api, audit and authenticator control-plane logs are needed to investigate cluster activity.",
			"Set `enabled_cluster_log_types = [\"api\", \"audit\", \"authenticator\", \"controllerManager\", \"scheduler\"]`.",
			nsaM("audit-logging")),
			[]string{"aws_eks_cluster"}, func(c *rctx) {
				v := c.b.Attr("enabled_cluster_log_types")
				if !v.Set {
					missing(c, c.b, v.Path, msgf(c, "control-plane logging is disabled"))
					return
				}
				items, ok := v.Strs()
				if !ok {
					return
				}
				var miss []string
				for _, t := range []string{"api", "audit", "authenticator"} {
					if !contains(items, t) {
						miss = append(miss, t)
					}
				}
				if len(miss) > 0 {
					c.report(v.Rng, v.Path, msgf(c, "control-plane log types missing: %s", strings.Join(miss, ", ")))
				}
			}},
		{meta("WARD-TF-004", high, "EKS node group SSH open to the internet",
			"remote_access with an SSH key but no source_security_group_ids opens port 22 on the nodes to 0.0.0.0/0.",
			"Set `source_security_group_ids` in remote_access, or remove remote_access and use SSM Session Manager.",
			nsaM("network-exposure")),
			[]string{"aws_eks_node_group"}, func(c *rctx) {
				ra := c.b.Block("remote_access")
				if ra == nil || !ra.Attr("ec2_ssh_key").Set || ra.Attr("source_security_group_ids").Set {
					return
				}
				c.report(ra.Def, ra.Path, msgf(c, "SSH to the nodes is open to 0.0.0.0/0"))
			}},
		{meta("WARD-TF-005", high, "Instance metadata service allows IMDSv1",
			"Without http_tokens = \"required\", pods and processes on nodes can use IMDSv1, which SSRF bugs exploit to steal node credentials.",
			"Add `metadata_options { http_tokens = \"required\"; http_put_response_hop_limit = 1 }`.",
			nsaM("pod-security")),
			[]string{"aws_launch_template", "aws_instance", "aws_launch_configuration"}, func(c *rctx) {
				if c.b.Dynamic("metadata_options") {
					return
				}
				mo := c.b.Block("metadata_options")
				if mo == nil {
					missing(c, c.b, "metadata_options", msgf(c, "no metadata_options: IMDSv1 is enabled"))
					return
				}
				if ep, ok := mo.Attr("http_endpoint").Str(); ok && ep == "disabled" {
					return
				}
				tok := mo.Attr("http_tokens")
				if !tok.Set {
					missing(c, mo, tok.Path, msgf(c, "http_tokens is not set to required"))
				} else if s, ok := tok.Str(); ok && s != "required" {
					c.report(tok.Rng, tok.Path, msgf(c, "http_tokens = %q allows IMDSv1", s))
				}
			}},
		{meta("WARD-TF-006", med, "ECR image scan on push disabled",
			"Images pushed to the repository are not scanned for vulnerabilities.",
			"Add `image_scanning_configuration { scan_on_push = true }` (or registry-level enhanced scanning).",
			nsaM("image-scanning")),
			[]string{"aws_ecr_repository"}, func(c *rctx) {
				for _, o := range c.r.mod.Resources {
					if o.Type == "aws_ecr_registry_scanning_configuration" {
						return
					}
				}
				isc := c.b.Block("image_scanning_configuration")
				if isc == nil {
					missing(c, c.b, "image_scanning_configuration", msgf(c, "scan on push is not enabled"))
					return
				}
				if v := isc.Attr("scan_on_push"); v.IsFalse() {
					c.report(v.Rng, v.Path, msgf(c, "scan_on_push = false"))
				} else if !v.Set {
					missing(c, isc, v.Path, msgf(c, "scan_on_push is not set"))
				}
			}},
		{meta("WARD-TF-007", med, "ECR image tags are mutable",
			"Mutable tags let anyone with push access replace an image that is already deployed under the same tag.",
			"Set `image_tag_mutability = \"IMMUTABLE\"`.",
			nsaM("image-scanning")),
			[]string{"aws_ecr_repository"}, func(c *rctx) {
				v := c.b.Attr("image_tag_mutability")
				if !v.Set {
					missing(c, c.b, v.Path, msgf(c, "image_tag_mutability defaults to MUTABLE"))
				} else if s, ok := v.Str(); ok && s == "MUTABLE" {
					c.report(v.Rng, v.Path, msgf(c, "image tags are MUTABLE"))
				}
			}},
		{meta("WARD-TF-008", high, "ECR repository policy allows public access",
			"A repository policy that allows Principal \"*\" without a condition lets anyone pull (or push) images.",
			"Restrict the Principal to specific accounts or roles, or add a condition (aws:PrincipalOrgID).",
			nsaM("image-scanning")),
			[]string{"aws_ecr_repository_policy", "aws_ecrpublic_repository_policy"}, func(c *rctx) {
				publicPolicy(c, "policy")
			}},
		{meta("WARD-TF-009", high, "S3 bucket ACL grants public access",
			"A canned ACL of public-read, public-read-write or authenticated-read exposes the bucket's objects.",
			"Use `acl = \"private\"` (or BucketOwnerEnforced object ownership) and grant access through IAM.",
		), []string{"aws_s3_bucket", "aws_s3_bucket_acl"}, func(c *rctx) {
			v := c.b.Attr("acl")
			if s, ok := v.Str(); ok && (s == "public-read" || s == "public-read-write" || s == "authenticated-read") {
				c.report(v.Rng, v.Path, msgf(c, "canned ACL %q makes the bucket public", s))
			}
		}},
		{meta("WARD-TF-010", med, "S3 public access block not fully enabled",
			"Each of block_public_acls, block_public_policy, ignore_public_acls and restrict_public_buckets defaults to false.",
			"Set all four settings to true.",
		), []string{"aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"}, func(c *rctx) {
			for _, a := range []string{"block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"} {
				v := c.b.Attr(a)
				if !v.Set {
					missing(c, c.b, v.Path, msgf(c, "%s is not set (defaults to false)", a))
				} else if v.IsFalse() {
					c.report(v.Rng, v.Path, msgf(c, "%s = false", a))
				}
			}
		}},
		{meta("WARD-TF-011", low, "S3 bucket has no public access block",
			"No aws_s3_bucket_public_access_block (or account-level block) protects the bucket against public ACLs and policies.",
			"Add an `aws_s3_bucket_public_access_block` for the bucket with all four settings true.",
		), []string{"aws_s3_bucket"}, func(c *rctx) {
			for _, o := range c.r.mod.Resources {
				if o.Type == "aws_s3_account_public_access_block" {
					return
				}
			}
			if len(c.related("aws_s3_bucket_public_access_block", "bucket")) == 0 {
				missing(c, c.b, "", msgf(c, "no aws_s3_bucket_public_access_block refers to this bucket"))
			}
		}},
		{meta("WARD-TF-012", low, "S3 bucket without explicit server-side encryption",
			"The bucket has no server-side encryption configuration of its own (only the provider default SSE-S3 applies, with no control over the key).",
			"Add `aws_s3_bucket_server_side_encryption_configuration` with `sse_algorithm = \"aws:kms\"` and a customer key.",
		), []string{"aws_s3_bucket"}, func(c *rctx) {
			if c.b.HasBlock("server_side_encryption_configuration") {
				return
			}
			if len(c.related("aws_s3_bucket_server_side_encryption_configuration", "bucket")) == 0 {
				missing(c, c.b, "", msgf(c, "no server-side encryption configuration"))
			}
		}},
		{meta("WARD-TF-013", high, "S3 bucket policy allows public access",
			"A bucket policy statement that allows Principal \"*\" without a condition makes the objects public.",
			"Restrict the Principal, or add conditions such as aws:SourceVpce or aws:PrincipalOrgID.",
		), []string{"aws_s3_bucket_policy"}, func(c *rctx) {
			publicPolicy(c, "policy")
		}},
		{meta("WARD-TF-014", high, "Security group opens an admin port to the internet",
			"SSH, RDP, the Kubernetes API, etcd, the kubelet or the Docker API are reachable from 0.0.0.0/0 or ::/0.",
			"Restrict the source to known CIDRs or a security group; reach nodes through a bastion or SSM.",
			nsaM("network-exposure")),
			[]string{"aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule"}, func(c *rctx) {
				for _, r := range awsIngress(c) {
					if r.all {
						continue // reported by WARD-TF-015
					}
					if p, name := adminIn(r.from, r.to); name != "" {
						c.report(r.at, r.path, msgf(c, "%s (port %d) is open to %s", name, p, r.cidr))
					}
				}
			}},
		{meta("WARD-TF-015", high, "Security group opens all ports to the internet",
			"All ports (protocol -1 or 0-65535) are reachable from 0.0.0.0/0 or ::/0.",
			"Allow only the ports the service needs, from known sources.",
			nsaM("network-exposure")),
			[]string{"aws_security_group", "aws_security_group_rule", "aws_vpc_security_group_ingress_rule"}, func(c *rctx) {
				for _, r := range awsIngress(c) {
					if r.all {
						c.report(r.at, r.path, msgf(c, "all ports are open to %s", r.cidr))
					}
				}
			}},
		{meta("WARD-TF-016", high, "IAM policy allows all actions (\"*\")",
			"An Allow statement with Action \"*\" grants full administrative access.",
			"List the specific actions needed (least privilege).",
			nsaM("rbac")),
			iamPolicyTypes, func(c *rctx) {
				iamWildcards(c, true)
			}},
		{meta("WARD-TF-017", med, "IAM policy allows all actions of a service",
			"An Allow statement with Action \"service:*\" grants every current and future action of the service.",
			"List the specific actions needed (least privilege).",
			nsaM("rbac")),
			iamPolicyTypes, func(c *rctx) {
				iamWildcards(c, false)
			}},
		{meta("WARD-TF-018", crit, "IAM role can be assumed by anyone",
			"A trust policy with Principal \"*\" and no condition lets any AWS account assume the role.",
			"Set the Principal to the specific accounts, services or roles that need to assume it, and add conditions (sts:ExternalId).",
			nsaM("rbac")),
			[]string{"aws_iam_role", "data.aws_iam_policy_document"}, func(c *rctx) {
				if c.r.Mode == "data" {
					for _, st := range c.b.Blocks("statement") {
						if e, ok := st.Attr("effect").Str(); ok && e != "Allow" {
							continue
						}
						if len(st.Blocks("condition")) > 0 {
							continue
						}
						for _, p := range st.Blocks("principals") {
							ids := p.Attr("identifiers")
							if items, ok := ids.Strs(); ok {
								if i := indexOf(items, "*"); i >= 0 {
									c.report(ids.ElemRange(i), ids.Path, msgf(c, "principals allow \"*\""))
								}
							}
						}
					}
					return
				}
				publicPolicy(c, "assume_role_policy")
			}},
		{meta("WARD-TF-019", high, "AdministratorAccess attached",
			"The AWS managed AdministratorAccess policy grants every action on every resource.",
			"Attach a least-privilege policy instead.",
			nsaM("rbac")),
			[]string{"aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment", "aws_iam_group_policy_attachment", "aws_iam_policy_attachment"}, func(c *rctx) {
				v := c.b.Attr("policy_arn")
				if s, ok := v.Str(); ok && strings.HasSuffix(s, ":policy/AdministratorAccess") {
					c.report(v.Rng, v.Path, msgf(c, "attaches AdministratorAccess"))
				}
			}},
	}
}

// publicPolicy reports an Allow statement with Principal "*" and no
// Condition in the JSON policy attribute.
func publicPolicy(c *rctx, attr string) {
	v := c.b.Attr(attr)
	d, ok := parsePolicy(v)
	if !ok {
		return
	}
	for _, st := range d.Statement {
		if st.Effect != "Allow" || st.Condition {
			continue
		}
		if contains(st.Principal, "*") {
			c.report(policyRange(c, v, "Principal", "*"), v.Path, msgf(c, "policy allows Principal \"*\" without a condition"))
			return
		}
	}
}

// iamWildcards reports Allow statements with "*" (full) or "svc:*" actions.
func iamWildcards(c *rctx, full bool) {
	if c.r.Mode == "data" {
		for _, st := range c.b.Blocks("statement") {
			if e, ok := st.Attr("effect").Str(); ok && e != "Allow" {
				continue
			}
			acts := st.Attr("actions")
			items, ok := acts.Strs()
			if !ok {
				continue
			}
			f, s := wildcardAction(items)
			if full && f != "" {
				c.report(acts.ElemRange(indexOf(items, f)), acts.Path, msgf(c, "statement allows Action %q", f))
			} else if !full && f == "" && s != "" {
				c.report(acts.ElemRange(indexOf(items, s)), acts.Path, msgf(c, "statement allows Action %q", s))
			}
		}
		return
	}
	v := c.b.Attr("policy")
	d, ok := parsePolicy(v)
	if !ok {
		return
	}
	for _, st := range d.Statement {
		if st.Effect != "Allow" {
			continue
		}
		f, s := wildcardAction(st.Action)
		if full && f != "" {
			c.report(policyRange(c, v, "Action", f), v.Path, msgf(c, "policy allows Action %q", f))
			return
		}
		if !full && f == "" && s != "" {
			c.report(policyRange(c, v, "Action", s), v.Path, msgf(c, "policy allows Action %q", s))
			return
		}
	}
}

type ingress struct {
	from, to int64
	all      bool
	cidr     string
	at       hcl.Range
	path     string
}

// awsIngress returns the world-open ingress rules of a security group
// resource (inline blocks or standalone rules).
func awsIngress(c *rctx) []ingress {
	var out []ingress
	eval := func(b *Body, protoAttr string, cidrAttrs ...string) {
		for _, ca := range cidrAttrs {
			cv := b.Attr(ca)
			i := worldIdx(cv)
			if i < 0 {
				continue
			}
			cidrs, _ := cv.Strs()
			r := ingress{cidr: cidrs[i], at: cv.ElemRange(i), path: cv.Path}
			proto, pok := b.Attr(protoAttr).Str()
			from, fok := b.Attr("from_port").Int()
			to, tok := b.Attr("to_port").Int()
			switch {
			case pok && (proto == "-1" || strings.EqualFold(proto, "all")):
				r.all = true
			case fok && tok:
				r.from, r.to = from, to
				if from <= 0 && to >= 65535 || from == -1 && to == -1 {
					r.all = true
				}
			default:
				continue
			}
			out = append(out, r)
		}
	}
	switch c.r.Type {
	case "aws_security_group":
		for _, in := range c.b.Blocks("ingress") {
			eval(in, "protocol", "cidr_blocks", "ipv6_cidr_blocks")
		}
	case "aws_security_group_rule":
		if t, ok := c.b.Attr("type").Str(); ok && t == "ingress" {
			eval(c.b, "protocol", "cidr_blocks", "ipv6_cidr_blocks")
		}
	case "aws_vpc_security_group_ingress_rule":
		eval(c.b, "ip_protocol", "cidr_ipv4", "cidr_ipv6")
	}
	return out
}

func contains(ss []string, s string) bool { return indexOf(ss, s) >= 0 }

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}
