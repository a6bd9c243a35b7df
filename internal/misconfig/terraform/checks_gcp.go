package terraform

import (
	"strconv"
	"strings"
)

func publicMember(m string) bool {
	return m == "allUsers" || m == "allAuthenticatedUsers"
}

// publicIAM reports members allUsers/allAuthenticatedUsers in a
// *_iam_member (member) or *_iam_binding (members) resource.
func publicIAM(c *rctx, what string) {
	if v := c.b.Attr("member"); v.Set {
		if s, ok := v.Str(); ok && publicMember(s) {
			c.report(v.Rng, v.Path, msgf(c, "%s is granted to %s", what, s))
		}
	}
	if v := c.b.Attr("members"); v.Set {
		if items, ok := v.Strs(); ok {
			for i, s := range items {
				if publicMember(s) {
					c.report(v.ElemRange(i), v.Path, msgf(c, "%s is granted to %s", what, s))
				}
			}
		}
	}
}

// nodeConfigs returns the node_config blocks of a cluster or node pool.
func nodeConfigs(b *Body) []*Body {
	out := b.Blocks("node_config")
	for _, np := range b.Blocks("node_pool") {
		out = append(out, np.Blocks("node_config")...)
	}
	return out
}

func gcpRules() []rule {
	gke := []string{"google_container_cluster"}
	return []rule{
		{meta("WARD-TF-020", high, "GKE legacy ABAC enabled",
			"Legacy ABAC grants broad, static permissions and bypasses RBAC.",
			"Set `enable_legacy_abac = false` (the default) and use RBAC.", nsaM("rbac")),
			gke, func(c *rctx) {
				if v := c.b.Attr("enable_legacy_abac"); v.IsTrue() {
					c.report(v.Rng, v.Path, msgf(c, "legacy ABAC is enabled"))
				}
			}},
		{meta("WARD-TF-021", high, "GKE basic authentication enabled",
			"A static username/password for the cluster API is a long-lived credential that cannot be rotated safely.",
			"Remove username/password from master_auth; use Google identities and RBAC.", nsaM("rbac")),
			gke, func(c *rctx) {
				ma := c.b.Block("master_auth")
				if ma == nil {
					return
				}
				for _, a := range []string{"username", "password"} {
					v := ma.Attr(a)
					if s, ok := v.Str(); ok && s != "" {
						c.report(v.Rng, v.Path, msgf(c, "basic authentication %s is set", a))
						return
					}
				}
			}},
		{meta("WARD-TF-022", med, "GKE client certificate issued",
			"A client certificate for the cluster is a long-lived admin credential.",
			"Set `master_auth { client_certificate_config { issue_client_certificate = false } }`.", nsaM("rbac")),
			gke, func(c *rctx) {
				if ma := c.b.Block("master_auth"); ma != nil {
					if cc := ma.Block("client_certificate_config"); cc != nil {
						if v := cc.Attr("issue_client_certificate"); v.IsTrue() {
							c.report(v.Rng, v.Path, msgf(c, "a client certificate is issued"))
						}
					}
				}
			}},
		{meta("WARD-TF-023", high, "GKE control plane reachable from the internet",
			"The cluster has a public endpoint and no master authorized networks (or authorizes 0.0.0.0/0).",
			"Enable a private endpoint, or add `master_authorized_networks_config` with specific CIDRs.", nsaM("network-exposure")),
			gke, func(c *rctx) {
				if pc := c.b.Block("private_cluster_config"); pc != nil && pc.Attr("enable_private_endpoint").IsTrue() {
					return
				}
				if c.b.Dynamic("master_authorized_networks_config") {
					return
				}
				man := c.b.Block("master_authorized_networks_config")
				if man == nil {
					missing(c, c.b, "master_authorized_networks_config", msgf(c, "public endpoint without master authorized networks"))
					return
				}
				for _, cb := range man.Blocks("cidr_blocks") {
					v := cb.Attr("cidr_block")
					if s, ok := v.Str(); ok && isWorld(s) {
						c.report(v.Rng, v.Path, msgf(c, "master authorized networks include %s", s))
					}
				}
			}},
		{meta("WARD-TF-024", med, "GKE network policy not enabled",
			"Without network policy enforcement, Kubernetes NetworkPolicies are ignored and every pod can reach every other pod.",
			"Set `network_policy { enabled = true }` or `datapath_provider = \"ADVANCED_DATAPATH\"` (Dataplane V2).", nsaM("network-separation")),
			gke, func(c *rctx) {
				if s, ok := c.b.Attr("datapath_provider").Str(); ok && s == "ADVANCED_DATAPATH" {
					return
				}
				if c.b.Attr("datapath_provider").Set && !c.b.Attr("datapath_provider").Known() {
					return
				}
				np := c.b.Block("network_policy")
				if np == nil {
					missing(c, c.b, "network_policy", msgf(c, "network policy is not enabled"))
					return
				}
				if v := np.Attr("enabled"); !v.IsTrue() && (!v.Set || v.Known()) {
					c.report(np.Def, np.Path, msgf(c, "network policy is not enabled"))
				}
			}},
		{meta("WARD-TF-025", high, "GKE nodes expose the legacy metadata API",
			"Legacy metadata endpoints or GCE_METADATA mode let pods read node credentials and kube-env.",
			"Use `workload_metadata_config { mode = \"GKE_METADATA\" }` and keep `disable-legacy-endpoints = \"true\"`.", nsaM("pod-security")),
			[]string{"google_container_cluster", "google_container_node_pool"}, func(c *rctx) {
				for _, nc := range nodeConfigs(c.b) {
					md := nc.Attr("metadata")
					if md.Known() && (md.V.Type().IsMapType() || md.V.Type().IsObjectType()) {
						m := md.V.AsValueMap()
						if v, ok := m["disable-legacy-endpoints"]; ok && v.IsKnown() && !v.IsNull() {
							if s := strings.ToLower(valStr(v)); s == "false" {
								c.report(md.FindString(func(x string) bool { return x == "disable-legacy-endpoints" }), md.Path, msgf(c, "legacy metadata endpoints are enabled"))
							}
						}
					}
					if wm := nc.Block("workload_metadata_config"); wm != nil {
						for _, a := range []string{"mode", "node_metadata"} {
							v := wm.Attr(a)
							if s, ok := v.Str(); ok && (s == "GCE_METADATA" || s == "EXPOSE" || s == "UNSPECIFIED") {
								c.report(v.Rng, v.Path, msgf(c, "workload metadata mode %s exposes the node's metadata", s))
							}
						}
					}
				}
			}},
		{meta("WARD-TF-026", med, "GKE logging or monitoring disabled",
			"With logging_service or monitoring_service set to \"none\", control-plane and workload logs are not collected.",
			"Use `logging.googleapis.com/kubernetes` and `monitoring.googleapis.com/kubernetes` (the defaults).", nsaM("audit-logging")),
			gke, func(c *rctx) {
				for _, a := range []string{"logging_service", "monitoring_service"} {
					v := c.b.Attr(a)
					if s, ok := v.Str(); ok && s == "none" {
						c.report(v.Rng, v.Path, msgf(c, "%s = \"none\"", a))
					}
				}
			}},
		{meta("WARD-TF-027", med, "GKE secrets not encrypted with Cloud KMS",
			"Application-layer secrets encryption is off: Secrets in etcd are protected only by Google's default encryption.",
			"Add `database_encryption { state = \"ENCRYPTED\" key_name = google_kms_crypto_key.gke.id }`.", nsaM("secrets")),
			gke, func(c *rctx) {
				if c.b.Dynamic("database_encryption") {
					return
				}
				de := c.b.Block("database_encryption")
				if de == nil {
					missing(c, c.b, "database_encryption", msgf(c, "application-layer secrets encryption is not configured"))
					return
				}
				if v := de.Attr("state"); v.Known() {
					if s, _ := v.Str(); s != "ENCRYPTED" {
						c.report(v.Rng, v.Path, msgf(c, "database_encryption state is %s", s))
					}
				}
			}},
		{meta("WARD-TF-028", med, "GKE shielded nodes disabled",
			"Shielded GKE nodes provide verifiable node identity and integrity; disabling them eases node impersonation.",
			"Remove `enable_shielded_nodes = false` (shielded nodes are the default).", nsaM("pod-security")),
			gke, func(c *rctx) {
				if v := c.b.Attr("enable_shielded_nodes"); v.IsFalse() {
					c.report(v.Rng, v.Path, msgf(c, "shielded nodes are disabled"))
				}
			}},
		{meta("WARD-TF-029", low, "GKE node auto-repair or auto-upgrade disabled",
			"Nodes that are not auto-upgraded miss security patches; unhealthy nodes stay in service without auto-repair.",
			"Set `management { auto_repair = true, auto_upgrade = true }`.", nsaM("upgrades")),
			[]string{"google_container_node_pool"}, func(c *rctx) {
				if m := c.b.Block("management"); m != nil {
					for _, a := range []string{"auto_repair", "auto_upgrade"} {
						if v := m.Attr(a); v.IsFalse() {
							c.report(v.Rng, v.Path, msgf(c, "%s = false", a))
						}
					}
				}
			}},
		{meta("WARD-TF-030", high, "Cloud Storage bucket is public",
			"allUsers or allAuthenticatedUsers is granted access to the bucket (GCR images live in such buckets too).",
			"Remove allUsers/allAuthenticatedUsers bindings; grant access to specific principals.", nsaM("image-scanning")),
			[]string{"google_storage_bucket_iam_member", "google_storage_bucket_iam_binding", "google_storage_bucket_access_control", "google_storage_default_object_access_control"}, func(c *rctx) {
				if v := c.b.Attr("entity"); v.Set {
					if s, ok := v.Str(); ok && publicMember(s) {
						c.report(v.Rng, v.Path, msgf(c, "access is granted to %s", s))
					}
					return
				}
				publicIAM(c, "bucket access")
			}},
		{meta("WARD-TF-031", med, "Cloud Storage uniform bucket-level access disabled",
			"Without uniform bucket-level access, object ACLs can make individual objects public.",
			"Set `uniform_bucket_level_access = true`.",
		), []string{"google_storage_bucket"}, func(c *rctx) {
			v := c.b.Attr("uniform_bucket_level_access")
			if !v.Set {
				missing(c, c.b, v.Path, msgf(c, "uniform bucket-level access is not enabled"))
			} else if v.IsFalse() {
				c.report(v.Rng, v.Path, msgf(c, "uniform bucket-level access is disabled"))
			}
		}},
		{meta("WARD-TF-032", low, "Cloud Storage public access prevention not enforced",
			"public_access_prevention = \"enforced\" guarantees the bucket can never be made public by a later IAM change.",
			"Set `public_access_prevention = \"enforced\"`.",
		), []string{"google_storage_bucket"}, func(c *rctx) {
			v := c.b.Attr("public_access_prevention")
			if !v.Set {
				missing(c, c.b, v.Path, msgf(c, "public access prevention is not enforced"))
			} else if s, ok := v.Str(); ok && s != "enforced" {
				c.report(v.Rng, v.Path, msgf(c, "public_access_prevention = %q", s))
			}
		}},
		{meta("WARD-TF-033", high, "Artifact Registry repository is public",
			"allUsers or allAuthenticatedUsers can read (or write) the container repository.",
			"Grant repository roles to specific principals only.", nsaM("image-scanning")),
			[]string{"google_artifact_registry_repository_iam_member", "google_artifact_registry_repository_iam_binding"}, func(c *rctx) {
				publicIAM(c, "repository access")
			}},
		{meta("WARD-TF-034", low, "Artifact Registry vulnerability scanning disabled",
			"Images pushed to the repository are not scanned for vulnerabilities.",
			"Remove `enablement_config = \"DISABLED\"` from vulnerability_scanning_config.", nsaM("image-scanning")),
			[]string{"google_artifact_registry_repository"}, func(c *rctx) {
				if vs := c.b.Block("vulnerability_scanning_config"); vs != nil {
					if v := vs.Attr("enablement_config"); v.Known() {
						if s, _ := v.Str(); s == "DISABLED" {
							c.report(v.Rng, v.Path, msgf(c, "vulnerability scanning is disabled"))
						}
					}
				}
			}},
		{meta("WARD-TF-035", high, "GCP firewall opens an admin port to the internet",
			"An ingress firewall rule allows SSH, RDP, the Kubernetes API, etcd, the kubelet or the Docker API from 0.0.0.0/0.",
			"Restrict source_ranges to known CIDRs (or use IAP TCP forwarding: 35.235.240.0/20).", nsaM("network-exposure")),
			[]string{"google_compute_firewall"}, func(c *rctx) {
				if d, ok := c.b.Attr("direction").Str(); ok && d != "INGRESS" {
					return
				}
				if c.b.Attr("disabled").IsTrue() {
					return
				}
				src := c.b.Attr("source_ranges")
				wi := worldIdx(src)
				if wi < 0 {
					return
				}
				cidrs, _ := src.Strs()
				for _, al := range c.b.Blocks("allow") {
					proto, ok := al.Attr("protocol").Str()
					if !ok || (proto != "tcp" && proto != "all" && proto != "6") {
						continue
					}
					ports := al.Attr("ports")
					if !ports.Set {
						c.report(al.Def, al.Path, msgf(c, "all ports are open to %s", cidrs[wi]))
						continue
					}
					items, ok := ports.Strs()
					if !ok {
						continue
					}
					for i, p := range items {
						from, to, ok := portRange(p)
						if !ok {
							continue
						}
						if port, name := adminIn(from, to); name != "" {
							c.report(ports.ElemRange(i), ports.Path, msgf(c, "%s (port %d) is open to %s", name, port, cidrs[wi]))
						}
					}
				}
			}},
		{meta("WARD-TF-036", med, "Primitive owner/editor role granted on the project",
			"roles/owner and roles/editor grant broad write access to every resource in the project.",
			"Grant predefined or custom roles with only the permissions needed.", nsaM("rbac")),
			[]string{"google_project_iam_member", "google_project_iam_binding"}, func(c *rctx) {
				v := c.b.Attr("role")
				if s, ok := v.Str(); ok && (s == "roles/owner" || s == "roles/editor") {
					c.report(v.Rng, v.Path, msgf(c, "grants %s", s))
				}
			}},
	}
}

// portRange reads "22", "20-25" or "*".
func portRange(p string) (int64, int64, bool) {
	p = strings.TrimSpace(p)
	if p == "*" {
		return 0, 65535, true
	}
	a, b, isRange := strings.Cut(p, "-")
	from, err := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	if !isRange {
		return from, from, true
	}
	to, err := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return from, to, true
}
