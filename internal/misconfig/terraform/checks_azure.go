package terraform

import "strings"

func azureRules() []rule {
	aks := []string{"azurerm_kubernetes_cluster"}
	return []rule{
		{meta("WARD-TF-037", high, "AKS API server reachable from the internet",
			"The cluster is not private and authorizes no IP ranges (or 0.0.0.0/0) on its API server.",
			"Set `private_cluster_enabled = true`, or `api_server_access_profile { authorized_ip_ranges = [...] }` with specific ranges.", nsaM("network-exposure")),
			aks, func(c *rctx) {
				pc := c.b.Attr("private_cluster_enabled")
				if pc.IsTrue() || pc.Set && !pc.Known() {
					return
				}
				ranges := c.b.Attr("api_server_authorized_ip_ranges")
				if ap := c.b.Block("api_server_access_profile"); ap != nil {
					ranges = ap.Attr("authorized_ip_ranges")
				}
				if !ranges.Set {
					missing(c, c.b, "api_server_access_profile.authorized_ip_ranges", msgf(c, "public API server without authorized IP ranges"))
					return
				}
				items, ok := ranges.Strs()
				if !ok {
					return
				}
				if len(items) == 0 {
					c.report(ranges.Rng, ranges.Path, msgf(c, "authorized IP ranges are empty"))
				} else if i := worldIdx(ranges); i >= 0 {
					c.report(ranges.ElemRange(i), ranges.Path, msgf(c, "API server is open to %s", items[i]))
				}
			}},
		{meta("WARD-TF-038", high, "AKS Kubernetes RBAC disabled",
			"Without RBAC every authenticated identity has full access to the cluster.",
			"Set `role_based_access_control_enabled = true` (the default).", nsaM("rbac")),
			aks, func(c *rctx) {
				if v := c.b.Attr("role_based_access_control_enabled"); v.IsFalse() {
					c.report(v.Rng, v.Path, msgf(c, "RBAC is disabled"))
				}
				if b := c.b.Block("role_based_access_control"); b != nil {
					if v := b.Attr("enabled"); v.IsFalse() {
						c.report(v.Rng, v.Path, msgf(c, "RBAC is disabled"))
					}
				}
			}},
		{meta("WARD-TF-039", med, "AKS network policy not configured",
			"Without a network policy engine (azure, calico, cilium) Kubernetes NetworkPolicies are not enforced.",
			"Set `network_profile { network_plugin = \"azure\" network_policy = \"azure\" }` (or calico/cilium).", nsaM("network-separation")),
			aks, func(c *rctx) {
				if c.b.Dynamic("network_profile") {
					return
				}
				np := c.b.Block("network_profile")
				if np == nil {
					missing(c, c.b, "network_profile", msgf(c, "no network_profile: network policies are not enforced"))
					return
				}
				if v := np.Attr("network_policy"); !v.Set {
					missing(c, np, v.Path, msgf(c, "network_policy is not set"))
				}
			}},
		{meta("WARD-TF-040", med, "AKS local accounts enabled",
			"Local accounts provide a static cluster-admin credential that bypasses Entra ID and cannot be audited per user.",
			"Set `local_account_disabled = true` with Entra ID (azure_active_directory_role_based_access_control) integration.", nsaM("rbac")),
			aks, func(c *rctx) {
				v := c.b.Attr("local_account_disabled")
				if !v.Set {
					missing(c, c.b, v.Path, msgf(c, "local accounts are enabled (local_account_disabled not set)"))
				} else if v.IsFalse() {
					c.report(v.Rng, v.Path, msgf(c, "local accounts are enabled"))
				}
			}},
		{meta("WARD-TF-041", med, "AKS control-plane logs not exported",
			"No azurerm_monitor_diagnostic_setting sends the cluster's kube-audit and kube-apiserver logs anywhere.",
			"Add an `azurerm_monitor_diagnostic_setting` with target_resource_id = the cluster id and the kube-audit/kube-apiserver categories.", nsaM("audit-logging")),
			aks, func(c *rctx) {
				if len(c.related("azurerm_monitor_diagnostic_setting", "")) == 0 {
					missing(c, c.b, "", msgf(c, "no diagnostic setting exports control-plane logs"))
				}
			}},
		{meta("WARD-TF-061", med, "AKS secrets not encrypted with a customer key (KMS)",
			"Without key_management_service, Kubernetes Secrets in etcd are encrypted only with platform-managed keys.",
			"Add `key_management_service { key_vault_key_id = azurerm_key_vault_key.aks.id }` to enable KMS etcd encryption.", nsaM("secrets")),
			aks, func(c *rctx) {
				if !c.b.HasBlock("key_management_service") {
					missing(c, c.b, "key_management_service", msgf(c, "KMS etcd encryption is not configured"))
				}
			}},
		{meta("WARD-TF-042", high, "ACR admin user enabled",
			"The registry admin user is a shared static credential with push and pull rights.",
			"Set `admin_enabled = false` and use Entra ID identities (AcrPull/AcrPush roles).", nsaM("image-scanning")),
			[]string{"azurerm_container_registry"}, func(c *rctx) {
				if v := c.b.Attr("admin_enabled"); v.IsTrue() {
					c.report(v.Rng, v.Path, msgf(c, "the admin user is enabled"))
				}
			}},
		{meta("WARD-TF-043", med, "ACR reachable from public networks",
			"public_network_access_enabled defaults to true: the registry accepts connections from any network.",
			"Set `public_network_access_enabled = false` and use private endpoints (Premium SKU), or network_rule_set with default_action = \"Deny\".", nsaM("network-exposure")),
			[]string{"azurerm_container_registry"}, func(c *rctx) {
				v := c.b.Attr("public_network_access_enabled")
				if v.IsFalse() || v.Set && !v.Known() {
					return
				}
				if rs := c.b.Block("network_rule_set"); rs != nil {
					if s, ok := rs.Attr("default_action").Str(); ok && s == "Deny" {
						return
					}
				}
				if v.Set {
					c.report(v.Rng, v.Path, msgf(c, "public network access is enabled"))
				} else {
					missing(c, c.b, v.Path, msgf(c, "public network access is enabled by default"))
				}
			}},
		{meta("WARD-TF-044", high, "ACR anonymous pull enabled",
			"Anyone on the internet can pull images from the registry without credentials.",
			"Set `anonymous_pull_enabled = false`.", nsaM("image-scanning")),
			[]string{"azurerm_container_registry"}, func(c *rctx) {
				if v := c.b.Attr("anonymous_pull_enabled"); v.IsTrue() {
					c.report(v.Rng, v.Path, msgf(c, "anonymous pull is enabled"))
				}
			}},
		{meta("WARD-TF-045", high, "Storage account allows public blob access",
			"allow_nested_items_to_be_public (allow_blob_public_access) = true lets containers be made public.",
			"Set `allow_nested_items_to_be_public = false`.",
		), []string{"azurerm_storage_account"}, func(c *rctx) {
			for _, a := range []string{"allow_nested_items_to_be_public", "allow_blob_public_access"} {
				if v := c.b.Attr(a); v.IsTrue() {
					c.report(v.Rng, v.Path, msgf(c, "%s = true", a))
				}
			}
		}},
		{meta("WARD-TF-046", high, "Storage account accepts unencrypted HTTP",
			"With HTTPS-only traffic disabled, data and SAS tokens can travel in clear text.",
			"Set `https_traffic_only_enabled = true` (the default).",
		), []string{"azurerm_storage_account"}, func(c *rctx) {
			for _, a := range []string{"https_traffic_only_enabled", "enable_https_traffic_only"} {
				if v := c.b.Attr(a); v.IsFalse() {
					c.report(v.Rng, v.Path, msgf(c, "%s = false", a))
				}
			}
		}},
		{meta("WARD-TF-047", med, "Storage account allows TLS below 1.2",
			"TLS 1.0 and 1.1 are deprecated and have known weaknesses.",
			"Set `min_tls_version = \"TLS1_2\"`.",
		), []string{"azurerm_storage_account"}, func(c *rctx) {
			v := c.b.Attr("min_tls_version")
			if s, ok := v.Str(); ok && (s == "TLS1_0" || s == "TLS1_1") {
				c.report(v.Rng, v.Path, msgf(c, "min_tls_version = %s", s))
			}
		}},
		{meta("WARD-TF-048", high, "Storage container is public",
			"container_access_type blob or container allows anonymous reads of the container's blobs.",
			"Set `container_access_type = \"private\"` (the default).",
		), []string{"azurerm_storage_container"}, func(c *rctx) {
			v := c.b.Attr("container_access_type")
			if s, ok := v.Str(); ok && (s == "blob" || s == "container") {
				c.report(v.Rng, v.Path, msgf(c, "container_access_type = %q allows anonymous access", s))
			}
		}},
		{meta("WARD-TF-049", high, "Network security group opens an admin port to the internet",
			"An inbound Allow rule from Internet/*/0.0.0.0/0 reaches SSH, RDP, WinRM, the Kubernetes API, etcd, the kubelet or the Docker API.",
			"Restrict source_address_prefix to known ranges, or use Azure Bastion / just-in-time access.", nsaM("network-exposure")),
			[]string{"azurerm_network_security_rule", "azurerm_network_security_group"}, func(c *rctx) {
				if c.r.Type == "azurerm_network_security_rule" {
					nsgRule(c, c.b)
					return
				}
				for _, r := range c.b.Blocks("security_rule") {
					nsgRule(c, r)
				}
			}},
	}
}

// nsgRule checks one NSG rule body.
func nsgRule(c *rctx, b *Body) {
	if d, ok := b.Attr("direction").Str(); !ok || !strings.EqualFold(d, "Inbound") {
		return
	}
	if a, ok := b.Attr("access").Str(); !ok || !strings.EqualFold(a, "Allow") {
		return
	}
	if p, ok := b.Attr("protocol").Str(); ok && !(strings.EqualFold(p, "Tcp") || p == "*") {
		return
	}
	src := ""
	if s, ok := b.Attr("source_address_prefix").Str(); ok && isWorld(s) {
		src = s
	}
	if v := b.Attr("source_address_prefixes"); src == "" && v.Set {
		if i := worldIdx(v); i >= 0 {
			items, _ := v.Strs()
			src = items[i]
		}
	}
	if src == "" {
		return
	}
	for _, a := range []string{"destination_port_range", "destination_port_ranges"} {
		v := b.Attr(a)
		items, ok := v.Strs()
		if !ok {
			continue
		}
		for i, p := range items {
			from, to, ok := portRange(p)
			if !ok {
				continue
			}
			if port, name := adminIn(from, to); name != "" {
				at := v.Rng
				if a == "destination_port_ranges" {
					at = v.ElemRange(i)
				}
				c.report(at, v.Path, msgf(c, "%s (port %d) is open to %s", name, port, src))
				return
			}
		}
	}
}
