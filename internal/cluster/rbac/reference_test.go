package rbac

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
)

// appliesTo reports whether a binding subject matches the identity, as
// the authorizer's appliesToUser; ns is the binding's namespace ("" for a
// ClusterRoleBinding), the default for a service account subject without one.
func appliesTo(u *UserInfo, s *rbacv1.Subject, ns string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return u.Name == s.Name
	case rbacv1.GroupKind:
		return slices.Contains(u.Groups, s.Name)
	case rbacv1.ServiceAccountKind:
		saNS := ns
		if s.Namespace != "" {
			saNS = s.Namespace
		}
		if saNS == "" {
			return false
		}
		return u.Name == serviceAccountUserPfx+saNS+":"+s.Name
	}
	return false
}

// referenceAllowed is the authorizer's algorithm written plainly: visit
// ClusterRoleBindings, then the RoleBindings of the request's namespace, and
// check every subject with appliesTo and every rule with RuleAllows.
func referenceAllowed(in *Input, u UserInfo, r Request) bool {
	ns := r.Namespace
	if !r.IsResourceRequest() {
		ns = ""
	}
	roles := map[string][]rbacv1.PolicyRule{}
	for _, c := range in.ClusterRoles {
		roles["ClusterRole/"+c.Name] = c.Rules
	}
	for _, ro := range in.Roles {
		roles["Role/"+ro.Namespace+"/"+ro.Name] = ro.Rules
	}
	check := func(subjects []rbacv1.Subject, bns string, rules []rbacv1.PolicyRule) bool {
		for i := range subjects {
			if appliesTo(&u, &subjects[i], bns) {
				for j := range rules {
					if RuleAllows(r, &rules[j]) {
						return true
					}
				}
			}
		}
		return false
	}
	for _, b := range in.ClusterRoleBindings {
		if check(b.Subjects, "", roles["ClusterRole/"+b.RoleRef.Name]) {
			return true
		}
	}
	if ns == "" {
		return false
	}
	for _, b := range in.RoleBindings {
		if b.Namespace != ns {
			continue
		}
		key := "ClusterRole/" + b.RoleRef.Name
		if b.RoleRef.Kind == "Role" {
			key = "Role/" + ns + "/" + b.RoleRef.Name
		}
		if check(b.Subjects, ns, roles[key]) {
			return true
		}
	}
	return false
}

// TestAllowedMatchesReference checks the indexed graph against the plain
// algorithm on random clusters and requests.
func TestAllowedMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	verbs := []string{"get", "list", "create", "delete", "*", "impersonate"}
	groups := []string{"", "apps", "*"}
	resources := []string{"pods", "secrets", "pods/exec", "*/status", "*", "deployments"}
	nss := []string{"a", "b"}
	users := []string{"u1", "u2", "system:serviceaccount:a:sa1", "system:serviceaccount:b:sa2"}
	randRule := func() rbacv1.PolicyRule {
		if rng.IntN(6) == 0 {
			return rbacv1.PolicyRule{Verbs: []string{pick(verbs...)}, NonResourceURLs: []string{pick("/healthz", "/api/*", "*")}}
		}
		r := rbacv1.PolicyRule{Verbs: []string{pick(verbs...), pick(verbs...)}, APIGroups: []string{pick(groups...)}, Resources: []string{pick(resources...)}}
		if rng.IntN(4) == 0 {
			r.ResourceNames = []string{pick("x", "y")}
		}
		return r
	}
	randSubject := func() rbacv1.Subject {
		switch rng.IntN(4) {
		case 0:
			return rbacv1.Subject{Kind: "User", Name: pick(users...)}
		case 1:
			return rbacv1.Subject{Kind: "Group", Name: pick("g1", "system:authenticated", "system:serviceaccounts", "system:serviceaccounts:a")}
		case 2:
			return rbacv1.Subject{Kind: "ServiceAccount", Name: pick("sa1", "sa2"), Namespace: pick(nss...)}
		}
		return rbacv1.Subject{Kind: "ServiceAccount", Name: pick("sa1", "sa2")} // namespace from the binding
	}
	allowed := 0
	defer func() {
		if allowed < 500 || allowed > 5500 {
			t.Errorf("%d of 6000 random requests allowed: the generator does not exercise both outcomes", allowed)
		}
	}()
	for iter := 0; iter < 200; iter++ {
		var in Input
		for i := 0; i < 4; i++ {
			in.ClusterRoles = append(in.ClusterRoles, cr(fmt.Sprint("c", i), randRule(), randRule()))
			in.Roles = append(in.Roles, nsRole(pick(nss...), fmt.Sprint("r", i), randRule()))
		}
		for i := 0; i < 4; i++ {
			in.ClusterRoleBindings = append(in.ClusterRoleBindings, crb(fmt.Sprint("crb", i), fmt.Sprint("c", rng.IntN(4)), randSubject()))
			kind, name := "ClusterRole", fmt.Sprint("c", rng.IntN(4))
			if rng.IntN(2) == 0 {
				kind, name = "Role", fmt.Sprint("r", rng.IntN(4))
			}
			in.RoleBindings = append(in.RoleBindings, rb(pick(nss...), fmt.Sprint("rb", i), kind, name, randSubject(), randSubject()))
		}
		g, _ := NewGraph(in)
		for q := 0; q < 30; q++ {
			u := Identity(User(pick(users...)))
			if rng.IntN(3) == 0 {
				u.Groups = append(u.Groups, "g1")
			}
			var r Request
			if rng.IntN(6) == 0 {
				r = Request{Verb: pick(verbs...), NonResourceURL: pick("/healthz", "/api/v1", "/metrics")}
			} else {
				res, sub := pick("pods", "secrets", "deployments"), ""
				if rng.IntN(3) == 0 {
					sub = pick("exec", "status")
				}
				r = Request{Verb: pick(verbs...), APIGroup: pick("", "apps"), Resource: res, Subresource: sub,
					Namespace: pick("a", "b", ""), Name: pick("", "x", "y")}
			}
			got, grants := g.Allowed(u, r)
			if got {
				allowed++
			}
			if want := referenceAllowed(&in, u, r); got != want {
				t.Fatalf("iteration %d: Allowed(%+v, %s) = %v, reference %v; grants %v", iter, u, r, got, want, grants)
			}
			// WhoCan lists the subject that names u whenever it is allowed.
			if got {
				found := false
				for _, sg := range g.WhoCan(r) {
					s := sg.Subject
					if (s.Kind == KindGroup && slices.Contains(u.Groups, s.Name)) || (s.Kind != KindGroup && s.UserName() == u.Name) {
						found = true
					}
				}
				if !found {
					t.Fatalf("WhoCan(%s) lacks a subject of %+v", r, u)
				}
			}
		}
	}
}
