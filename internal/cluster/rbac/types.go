package rbac

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// Subject kinds, as in rbac.authorization.k8s.io/v1 subjects.
const (
	KindUser           = rbacv1.UserKind
	KindGroup          = rbacv1.GroupKind
	KindServiceAccount = rbacv1.ServiceAccountKind
)

// Well-known identities.
const (
	UserAnonymous          = "system:anonymous"
	GroupUnauthenticated   = "system:unauthenticated"
	GroupAuthenticated     = "system:authenticated"
	GroupServiceAccounts   = "system:serviceaccounts"
	groupSAPrefix          = "system:serviceaccounts:"
	serviceAccountUserPfx  = "system:serviceaccount:"
	bootstrappingLabel     = "kubernetes.io/bootstrapping"
	bootstrappingRBACValue = "rbac-defaults"
)

// Subject is a user, a group or a service account. For a service account
// Namespace is set; for users and groups it is empty.
type Subject struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

// ServiceAccount returns the subject of service account ns/name.
func ServiceAccount(ns, name string) Subject {
	return Subject{Kind: KindServiceAccount, Namespace: ns, Name: name}
}

// User returns the subject of a user name; system:serviceaccount:NS:NAME
// becomes the service account subject, as the authorizer treats both alike.
func User(name string) Subject {
	if ns, sa, ok := SplitServiceAccountUser(name); ok {
		return ServiceAccount(ns, sa)
	}
	return Subject{Kind: KindUser, Name: name}
}

// Group returns the subject of a group name.
func Group(name string) Subject { return Subject{Kind: KindGroup, Name: name} }

// String renders the subject as its user or group name:
// "system:serviceaccount:ns:name", "User jane", "Group dev".
func (s Subject) String() string {
	switch s.Kind {
	case KindServiceAccount:
		return serviceAccountUserPfx + s.Namespace + ":" + s.Name
	default:
		return s.Kind + " " + s.Name
	}
}

// key is the map key of a subject.
func (s Subject) key() string {
	return s.Kind + "\x00" + s.Namespace + "\x00" + s.Name
}

// UserName is the name the API server authenticates the subject as (users
// and service accounts; a group's name for groups).
func (s Subject) UserName() string {
	if s.Kind == KindServiceAccount {
		return serviceAccountUserPfx + s.Namespace + ":" + s.Name
	}
	return s.Name
}

// SplitServiceAccountUser splits system:serviceaccount:NS:NAME.
func SplitServiceAccountUser(user string) (ns, name string, ok bool) {
	rest, found := strings.CutPrefix(user, serviceAccountUserPfx)
	if !found {
		return "", "", false
	}
	ns, name, found = strings.Cut(rest, ":")
	if !found || ns == "" || name == "" || strings.Contains(name, ":") {
		return "", "", false
	}
	return ns, name, true
}

// UserInfo is an authenticated identity: a user name and its groups.
type UserInfo struct {
	Name   string
	Groups []string
}

// Identity returns the identity the API server gives a subject: a service
// account is in system:serviceaccounts, system:serviceaccounts:NS and
// system:authenticated; a user is in system:authenticated (and
// system:anonymous is in system:unauthenticated). Other group memberships of
// users are not visible in the cluster and are not added. A group subject
// yields an identity holding just that group.
func Identity(s Subject) UserInfo {
	switch s.Kind {
	case KindServiceAccount:
		return UserInfo{Name: s.UserName(), Groups: []string{GroupServiceAccounts, groupSAPrefix + s.Namespace, GroupAuthenticated}}
	case KindGroup:
		return UserInfo{Groups: []string{s.Name}}
	default:
		if s.Name == UserAnonymous {
			return UserInfo{Name: s.Name, Groups: []string{GroupUnauthenticated}}
		}
		return UserInfo{Name: s.Name, Groups: []string{GroupAuthenticated}}
	}
}

// Request is one authorization question, as the API server's authorizer
// attributes: a resource request (Resource set) or a non-resource request
// (NonResourceURL set).
type Request struct {
	Verb        string `json:"verb"`
	APIGroup    string `json:"api_group,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	// Namespace is empty for cluster-scoped resources and for requests across
	// all namespaces (list --all-namespaces); then only ClusterRoleBindings apply.
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// NonResourceURL is the path of a non-resource request (/healthz, /metrics).
	NonResourceURL string `json:"non_resource_url,omitempty"`
}

// IsResourceRequest reports whether r asks about a resource.
func (r Request) IsResourceRequest() bool { return r.NonResourceURL == "" }

// String renders the request like kubectl auth can-i.
func (r Request) String() string {
	if !r.IsResourceRequest() {
		return r.Verb + " " + r.NonResourceURL
	}
	var b strings.Builder
	b.WriteString(r.Verb + " " + r.Resource)
	if r.Subresource != "" {
		b.WriteString("/" + r.Subresource)
	}
	if r.APIGroup != "" {
		b.WriteString("." + r.APIGroup)
	}
	if r.Name != "" {
		b.WriteString(" " + r.Name)
	}
	if r.Namespace != "" {
		b.WriteString(" in namespace " + r.Namespace)
	} else {
		b.WriteString(" cluster-wide")
	}
	return b.String()
}

// ObjectRef names an RBAC or core object.
type ObjectRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	UID       string `json:"uid,omitempty"`
}

func (o ObjectRef) String() string {
	if o.Namespace != "" {
		return o.Kind + "/" + o.Namespace + "/" + o.Name
	}
	return o.Kind + "/" + o.Name
}

// Grant is one chain that allows a request: a binding names the subject and
// refers to a role whose rule matches.
type Grant struct {
	Binding ObjectRef `json:"binding"`
	// SubjectIndex is the index in the binding's subjects.
	SubjectIndex int       `json:"subject_index"`
	Role         ObjectRef `json:"role"`
	// RuleIndex is the index of the rule in Role's effective rules.
	RuleIndex int               `json:"rule_index"`
	Rule      rbacv1.PolicyRule `json:"rule"`
	// AggregatedFrom is the ClusterRole the rule came from when Role is an
	// aggregated ClusterRole whose rules Ward computed.
	AggregatedFrom string `json:"aggregated_from,omitempty"`
	// Namespace is where the grant applies; empty means cluster-wide.
	Namespace string `json:"namespace,omitempty"`
}

// String renders binding -> role -> rule.
func (g Grant) String() string {
	s := g.Binding.String() + " -> " + g.Role.String() + fmt.Sprintf(" rule %d", g.RuleIndex)
	if g.AggregatedFrom != "" {
		s += " (aggregated from ClusterRole/" + g.AggregatedFrom + ")"
	}
	return s
}

// SubjectGrants is a subject and every chain that grants it a request.
type SubjectGrants struct {
	Subject Subject `json:"subject"`
	Grants  []Grant `json:"grants"`
}

// ServiceAccountInfo is the part of a ServiceAccount the graph uses.
type ServiceAccountInfo struct {
	Namespace string
	Name      string
	UID       string
	// AutomountServiceAccountToken is the service account's setting (nil: unset).
	AutomountServiceAccountToken *bool
}

// ServiceAccountFromCore extracts the ServiceAccountInfo of sa.
func ServiceAccountFromCore(sa *corev1.ServiceAccount) ServiceAccountInfo {
	if sa == nil {
		return ServiceAccountInfo{}
	}
	return ServiceAccountInfo{Namespace: sa.Namespace, Name: sa.Name, UID: string(sa.UID), AutomountServiceAccountToken: sa.AutomountServiceAccountToken}
}

// PodInfo is the part of a Pod the graph uses.
type PodInfo struct {
	Namespace string
	Name      string
	UID       string
	// ServiceAccountName; empty means "default", as the API server defaults it.
	ServiceAccountName string
	// AutomountServiceAccountToken is the pod's setting (nil: unset).
	AutomountServiceAccountToken *bool
	NodeName                     string
	// Owner is the controlling owner (e.g. "ReplicaSet/web-5d4f"), for messages.
	Owner string
	// Finished pods (phase Succeeded or Failed) hold no mounted token any
	// more: the automount check and exec moves skip them.
	Finished bool
}

// PodFromCore extracts the PodInfo of pod.
func PodFromCore(pod *corev1.Pod) PodInfo {
	if pod == nil {
		return PodInfo{}
	}
	p := PodInfo{Namespace: pod.Namespace, Name: pod.Name, UID: string(pod.UID),
		ServiceAccountName: pod.Spec.ServiceAccountName, AutomountServiceAccountToken: pod.Spec.AutomountServiceAccountToken,
		NodeName: pod.Spec.NodeName, Finished: pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed}
	for _, o := range pod.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			p.Owner = o.Kind + "/" + o.Name
		}
	}
	return p
}

// serviceAccount returns the pod's service account name with the default.
func (p PodInfo) serviceAccount() string {
	if p.ServiceAccountName == "" {
		return "default"
	}
	return p.ServiceAccountName
}

// SecretInfo is the metadata of a Secret (never its data): the graph uses
// it to know which service accounts have long-lived token secrets that
// whoever reads secrets in the namespace can take.
type SecretInfo struct {
	Namespace string
	Name      string
	Type      corev1.SecretType
	// ServiceAccountName is the kubernetes.io/service-account.name annotation.
	ServiceAccountName string
}

// SecretFromCore extracts the SecretInfo of s (metadata only).
func SecretFromCore(s *corev1.Secret) SecretInfo {
	if s == nil {
		return SecretInfo{}
	}
	return SecretInfo{Namespace: s.Namespace, Name: s.Name, Type: s.Type, ServiceAccountName: s.Annotations[corev1.ServiceAccountNameKey]}
}

// Input is everything the graph is built from. Slices are read, not kept.
type Input struct {
	Roles               []rbacv1.Role
	ClusterRoles        []rbacv1.ClusterRole
	RoleBindings        []rbacv1.RoleBinding
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
	ServiceAccounts     []ServiceAccountInfo
	Pods                []PodInfo
	Secrets             []SecretInfo
}

// ObjectError is an object the graph could not fully use. The graph is
// still built from everything else.
type ObjectError struct {
	Object ObjectRef
	Field  string
	Err    error
}

func (e *ObjectError) Error() string {
	s := e.Object.String()
	if e.Field != "" {
		s += " " + e.Field
	}
	return s + ": " + e.Err.Error()
}

func (e *ObjectError) Unwrap() error { return e.Err }
