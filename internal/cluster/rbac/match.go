package rbac

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
)

// The functions below follow k8s.io/component-helpers/auth/rbac/validation
// (VerbMatches, APIGroupMatches, ResourceMatches, ResourceNameMatches,
// NonResourceURLMatches) and plugin/pkg/auth/authorizer/rbac RuleAllows.

func verbMatches(rule *rbacv1.PolicyRule, verb string) bool {
	for _, v := range rule.Verbs {
		if v == rbacv1.VerbAll || v == verb {
			return true
		}
	}
	return false
}

func apiGroupMatches(rule *rbacv1.PolicyRule, group string) bool {
	for _, g := range rule.APIGroups {
		if g == rbacv1.APIGroupAll || g == group {
			return true
		}
	}
	return false
}

// resourceMatches matches combined ("pods/exec") against the rule's
// resources: "*", the exact combined name, or "*/subresource".
func resourceMatches(rule *rbacv1.PolicyRule, combined, subresource string) bool {
	for _, r := range rule.Resources {
		if r == rbacv1.ResourceAll || r == combined {
			return true
		}
		if subresource == "" {
			continue
		}
		if len(r) == len(subresource)+2 && strings.HasPrefix(r, "*/") && strings.HasSuffix(r, subresource) {
			return true
		}
	}
	return false
}

func resourceNameMatches(rule *rbacv1.PolicyRule, name string) bool {
	return len(rule.ResourceNames) == 0 || slices.Contains(rule.ResourceNames, name)
}

func nonResourceURLMatches(rule *rbacv1.PolicyRule, url string) bool {
	for _, u := range rule.NonResourceURLs {
		if u == rbacv1.NonResourceAll || u == url {
			return true
		}
		if strings.HasSuffix(u, "*") && strings.HasPrefix(url, strings.TrimRight(u, "*")) {
			return true
		}
	}
	return false
}

// RuleAllows reports whether rule allows r, exactly as the RBAC authorizer.
func RuleAllows(r Request, rule *rbacv1.PolicyRule) bool {
	if rule == nil {
		return false
	}
	if r.IsResourceRequest() {
		combined := r.Resource
		if r.Subresource != "" {
			combined += "/" + r.Subresource
		}
		return verbMatches(rule, r.Verb) && apiGroupMatches(rule, r.APIGroup) &&
			resourceMatches(rule, combined, r.Subresource) && resourceNameMatches(rule, r.Name)
	}
	return verbMatches(rule, r.Verb) && nonResourceURLMatches(rule, r.NonResourceURL)
}

// ruleCovers reports whether rule allows verb on group/resource[/sub] for
// at least one object name (resourceNames only narrow it). It is what the
// risk checks ask: "can this subject exec into some pod".
//
// A create of a top-level resource carries no object name in the
// authorizer's attributes, so a rule limited by resourceNames never allows it.
func ruleCovers(rule *rbacv1.PolicyRule, verb, group, resource, sub string) bool {
	if !verbMatches(rule, verb) || !apiGroupMatches(rule, group) {
		return false
	}
	if (verb == "create" || verb == "deletecollection") && sub == "" && len(rule.ResourceNames) > 0 {
		return false
	}
	for _, r := range rule.Resources {
		if r == rbacv1.ResourceAll {
			return true
		}
		if sub == "" {
			if r == resource {
				return true
			}
			continue
		}
		// r == resource+"/"+sub, or r == "*/"+sub, without building strings.
		if n := len(r) - len(sub) - 1; n > 0 && r[n] == '/' && r[n+1:] == sub && (r[:n] == resource || r[:n] == "*") {
			return true
		}
	}
	return false
}
