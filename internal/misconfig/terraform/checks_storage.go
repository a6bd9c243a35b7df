package terraform

import "strings"

// storageRules are the storage and database encryption and exposure
// checks across AWS, GCP and Azure.
func storageRules() []rule {
	return []rule{
		{meta("WARD-TF-062", high, "Database storage not encrypted",
			"The database's storage, automated backups, read replicas and snapshots are not encrypted at rest: storage_encrypted defaults to false for RDS instances and clusters, Neptune and DocumentDB clusters, and cannot be turned on later without a snapshot restore.",
			"Set `storage_encrypted = true` (and `kms_key_id` to a customer-managed key) when the database is created; for an existing database, restore an encrypted copy of a snapshot.",
		), []string{"aws_db_instance", "aws_rds_cluster", "aws_neptune_cluster", "aws_docdb_cluster"}, func(c *rctx) {
			if c.b.Attr("replicate_source_db").Set || c.b.Attr("replication_source_identifier").Set {
				return // a replica inherits the source's encryption
			}
			if mode, _ := c.b.Attr("engine_mode").Str(); mode == "serverless" {
				return // Aurora Serverless v1 is always encrypted
			}
			v := c.b.Attr("storage_encrypted")
			switch {
			case !v.Set:
				missing(c, c.b, v.Path, msgf(c, "storage_encrypted is not set (defaults to false)"))
			case v.IsFalse():
				c.report(v.Rng, v.Path, msgf(c, "storage_encrypted = false"))
			}
		}},
		{meta("WARD-TF-063", high, "Database instance publicly accessible",
			"publicly_accessible = true gives the database instance a public IP address and DNS name: with a permissive security group, anyone on the internet can reach its port and try credentials.",
			"Set `publicly_accessible = false` and reach the database from inside the VPC (a bastion, SSM port forwarding or a VPN).",
		), []string{"aws_db_instance", "aws_rds_cluster_instance", "aws_neptune_cluster_instance", "aws_redshift_cluster", "aws_dms_replication_instance"}, func(c *rctx) {
			if v := c.b.Attr("publicly_accessible"); v.IsTrue() {
				c.report(v.Rng, v.Path, msgf(c, "publicly_accessible = true"))
			}
		}},
		{meta("WARD-TF-064", high, "EBS volume not encrypted",
			"The volume and its snapshots are stored unencrypted: anyone who can copy a snapshot, or share it by mistake, reads the data. encrypted defaults to false unless EBS encryption by default is enabled for the region.",
			"Set `encrypted = true` (with `kms_key_id` for a customer-managed key), or enable `aws_ebs_encryption_by_default`.",
		), []string{"aws_ebs_volume"}, func(c *rctx) {
			if ebsEncryptedByDefault(c) {
				return
			}
			v := c.b.Attr("encrypted")
			switch {
			case !v.Set:
				missing(c, c.b, v.Path, msgf(c, "encrypted is not set (defaults to false)"))
			case v.IsFalse():
				c.report(v.Rng, v.Path, msgf(c, "encrypted = false"))
			}
		}},
		{meta("WARD-TF-065", low, "Compute disk not encrypted with a customer-managed key",
			"Without disk_encryption_key the disk is encrypted only with a Google-managed key: access to the data cannot be revoked or audited through Cloud KMS.",
			"Add `disk_encryption_key { kms_key_self_link = google_kms_crypto_key.disk.id }`.",
		), []string{"google_compute_disk", "google_compute_region_disk"}, func(c *rctx) {
			if c.b.Dynamic("disk_encryption_key") {
				return
			}
			k := c.b.Block("disk_encryption_key")
			if k == nil {
				missing(c, c.b, "disk_encryption_key", msgf(c, "no disk_encryption_key: only Google-managed encryption"))
				return
			}
			for _, a := range []string{"kms_key_self_link", "raw_key", "rsa_encrypted_key"} {
				if k.Attr(a).Set {
					return
				}
			}
			missing(c, k, "disk_encryption_key.kms_key_self_link", msgf(c, "disk_encryption_key names no key"))
		}},
		{meta("WARD-TF-066", high, "Disk encryption key in plain text",
			"A customer-supplied encryption key written into the configuration is readable by everyone with the repository, the state file or the plan: whoever has it and the disk has the data.",
			"Use a Cloud KMS key (`kms_key_self_link`) instead of a raw key; if a customer-supplied key is required, pass it from a secret store at apply time, never as a literal.",
		), []string{"google_compute_disk", "google_compute_region_disk", "google_compute_instance"}, func(c *rctx) {
			var keys []*Body
			keys = append(keys, c.b.Blocks("disk_encryption_key")...)
			for _, typ := range []string{"boot_disk", "attached_disk"} {
				for _, d := range c.b.Blocks(typ) {
					if v := d.Attr("disk_encryption_key_raw"); v.Known() {
						c.report(v.Rng, v.Path, msgf(c, "%s has a raw encryption key in the configuration", typ))
					}
				}
			}
			for _, k := range keys {
				for _, a := range []string{"raw_key", "rsa_encrypted_key"} {
					if v := k.Attr(a); v.Known() {
						c.report(v.Rng, v.Path, msgf(c, "disk_encryption_key.%s is in the configuration", a))
					}
				}
			}
		}},
		{meta("WARD-TF-067", high, "Azure managed disk encryption disabled",
			"encryption_settings { enabled = false } turns Azure Disk Encryption off for the managed disk: its data and snapshots are not encrypted with keys the owner controls.",
			"Remove `enabled = false`, or enable encryption with a disk encryption set (`disk_encryption_set_id`) or Key Vault keys in `encryption_settings`.",
		), []string{"azurerm_managed_disk"}, func(c *rctx) {
			for _, es := range c.b.Blocks("encryption_settings") {
				if v := es.Attr("enabled"); v.IsFalse() {
					c.report(v.Rng, v.Path, msgf(c, "encryption_settings.enabled = false"))
				}
			}
		}},
		{meta("WARD-TF-068", high, "Cloud SQL instance open to the internet",
			"An authorized network of 0.0.0.0/0 on an instance with a public IPv4 address lets anyone on the internet connect to the database port and try credentials.",
			"Remove the 0.0.0.0/0 authorized network; list specific CIDRs, or set `ipv4_enabled = false` and connect over private IP or the Cloud SQL Auth Proxy.",
		), []string{"google_sql_database_instance"}, func(c *rctx) {
			for _, s := range c.b.Blocks("settings") {
				for _, ip := range s.Blocks("ip_configuration") {
					if ip.Attr("ipv4_enabled").IsFalse() {
						continue
					}
					for _, n := range ip.Blocks("authorized_networks") {
						v := n.Attr("value")
						if cidr, ok := v.Str(); ok && isWorld(cidr) {
							c.report(v.Rng, v.Path, msgf(c, "authorized network %s admits the whole internet", cidr))
						}
					}
				}
			}
		}},
		{meta("WARD-TF-069", high, "Azure database firewall open to the internet",
			"A firewall rule from 0.0.0.0 to 255.255.255.255 admits every IPv4 address to the database server.",
			"Allow only the client CIDRs that need access, or use a private endpoint and `public_network_access_enabled = false`.",
		), []string{"azurerm_sql_firewall_rule", "azurerm_mssql_firewall_rule", "azurerm_postgresql_firewall_rule", "azurerm_mysql_firewall_rule",
			"azurerm_postgresql_flexible_server_firewall_rule", "azurerm_mysql_flexible_server_firewall_rule", "azurerm_mariadb_firewall_rule"}, func(c *rctx) {
			start, _ := c.b.Attr("start_ip_address").Str()
			end := c.b.Attr("end_ip_address")
			if e, ok := end.Str(); ok && strings.TrimSpace(start) == "0.0.0.0" && strings.TrimSpace(e) == "255.255.255.255" {
				c.report(end.Rng, end.Path, msgf(c, "the rule admits every IPv4 address (0.0.0.0-255.255.255.255)"))
			}
		}},
	}
}

// ebsEncryptedByDefault reports an aws_ebs_encryption_by_default in the
// module that is not disabled (enabled defaults to true).
func ebsEncryptedByDefault(c *rctx) bool {
	for _, o := range c.r.mod.Resources {
		if o.Type != "aws_ebs_encryption_by_default" {
			continue
		}
		for _, in := range o.Instances {
			b := &Body{body: o.Block.Body, ctx: in.Ctx, Def: o.Block.DefRange()}
			if !b.Attr("enabled").IsFalse() {
				return true
			}
		}
	}
	return false
}
