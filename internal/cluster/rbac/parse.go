package rbac

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadRequest is returned by ParseRequest.
var ErrBadRequest = errors.New("invalid request")

// ParseRequest reads a `who-can`/`can-i` question as kubectl writes it:
// verb and target, where target is a resource ("pods", "pods/exec",
// "deployments.apps", "deployments.apps/scale", "*") or a non-resource URL
// ("/healthz", "/logs/*"), plus an optional subresource (also accepted in
// target after '/'), namespace and object name. Resource short names (po,
// deploy) need discovery and are the caller's to expand.
func ParseRequest(verb, target, subresource, namespace, name string) (Request, error) {
	verb = strings.TrimSpace(verb)
	if verb == "" || !isToken(verb, true) {
		return Request{}, fmt.Errorf("%w: verb %q", ErrBadRequest, verb)
	}
	if target == "" {
		return Request{}, fmt.Errorf("%w: no resource or URL", ErrBadRequest)
	}
	if len(target) > 512 {
		return Request{}, fmt.Errorf("%w: resource longer than 512 characters", ErrBadRequest)
	}
	if strings.HasPrefix(target, "/") {
		if subresource != "" || namespace != "" || name != "" {
			return Request{}, fmt.Errorf("%w: a non-resource URL %q takes no subresource, namespace or name", ErrBadRequest, target)
		}
		return Request{Verb: verb, NonResourceURL: target}, nil
	}
	res, sub, hasSub := strings.Cut(target, "/")
	if hasSub {
		if subresource != "" && subresource != sub {
			return Request{}, fmt.Errorf("%w: subresource %q given twice (%q)", ErrBadRequest, subresource, target)
		}
		if sub == "" || strings.Contains(sub, "/") {
			return Request{}, fmt.Errorf("%w: resource %q: want RESOURCE[.GROUP][/SUBRESOURCE]", ErrBadRequest, target)
		}
		subresource = sub
	}
	group := ""
	if i := strings.IndexByte(res, '.'); i >= 0 {
		res, group = res[:i], res[i+1:]
		if group == "" {
			return Request{}, fmt.Errorf("%w: resource %q has an empty API group", ErrBadRequest, target)
		}
	}
	if !isToken(res, true) || (group != "" && !isToken(group, false)) || (subresource != "" && !isToken(subresource, true)) {
		return Request{}, fmt.Errorf("%w: resource %q: want RESOURCE[.GROUP][/SUBRESOURCE] in lower case", ErrBadRequest, target)
	}
	if namespace == AllNamespaces {
		// allowed as is
	} else if namespace != "" && !isToken(namespace, false) {
		return Request{}, fmt.Errorf("%w: namespace %q", ErrBadRequest, namespace)
	}
	return Request{Verb: verb, APIGroup: group, Resource: res, Subresource: subresource, Namespace: namespace, Name: name}, nil
}

// isToken accepts lower-case letters, digits, '-' and '.' (or '*' alone
// when star is set).
func isToken(s string, star bool) bool {
	if s == "" {
		return false
	}
	if star && s == "*" {
		return true
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '.' {
			return false
		}
	}
	return true
}
