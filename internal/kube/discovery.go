package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
)

// Catalog is what discovery found: the resources the server serves, by
// "resource.group" (preferred version), and the groups that failed.
type Catalog struct {
	byName map[string]Resource
	// Errors lists group versions discovery could not read.
	Errors []error
}

// Lookup returns the resource "pods" or "deployments.apps" if served.
func (c *Catalog) Lookup(name string) (Resource, bool) {
	r, ok := c.byName[name]
	return r, ok
}

// HasGroup reports whether any resource of group is served.
func (c *Catalog) HasGroup(group string) bool {
	for _, r := range c.byName {
		if r.Group == group {
			return true
		}
	}
	return false
}

// Names lists the served resources, sorted.
func (c *Catalog) Names() []string {
	out := make([]string, 0, len(c.byName))
	for n := range c.byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// NewCatalog builds a catalog from resources (tests, or callers that know
// what the server serves).
func NewCatalog(rs ...Resource) *Catalog {
	c := &Catalog{byName: map[string]Resource{}}
	for _, r := range rs {
		c.byName[r.String()] = r
	}
	return c
}

// Discover asks the server which resources it serves (preferred versions
// only). A failure of some groups (an unavailable aggregated API) is
// recorded in Catalog.Errors and the rest is usable.
func (c *Client) Discover(ctx context.Context) (*Catalog, error) {
	_ = ctx // discovery.DiscoveryInterface takes no context
	lists, err := c.disc.ServerPreferredResources()
	cat := &Catalog{byName: map[string]Resource{}}
	if err != nil {
		var gerr *discovery.ErrGroupDiscoveryFailed
		if !errors.As(err, &gerr) {
			return nil, fmt.Errorf("discovery at %s: %w", c.Host(), wrapStatus("/apis", err))
		}
		for gv, e := range gerr.Groups {
			cat.Errors = append(cat.Errors, fmt.Errorf("discovery of %s: %w", gv, e))
		}
		sort.Slice(cat.Errors, func(i, j int) bool { return cat.Errors[i].Error() < cat.Errors[j].Error() })
	}
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil {
			continue
		}
		for _, ar := range l.APIResources {
			if strings.Contains(ar.Name, "/") || !hasVerb(ar.Verbs, "list") {
				continue
			}
			r := Resource{Group: gv.Group, Version: gv.Version, Resource: ar.Name, Kind: ar.Kind, Namespaced: ar.Namespaced}
			cat.byName[r.String()] = r
		}
	}
	return cat, nil
}

func hasVerb(vs metav1.Verbs, v string) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// wrapStatus turns client-go's status errors into *APIError.
func wrapStatus(endpoint string, err error) error {
	var se interface{ Status() metav1.Status }
	if errors.As(err, &se) {
		st := se.Status()
		return &APIError{Endpoint: endpoint, Code: int(st.Code), Reason: st.Reason, Message: st.Message}
	}
	return err
}

// Apply writes obj (a JSON-serialisable object with apiVersion, kind and
// metadata.name) with server-side apply, field manager "ward", so repeated
// scans update the same objects.
func (c *Client) Apply(ctx context.Context, r Resource, obj any) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("apply %s: %w", r, err)
	}
	var u unstructured.Unstructured
	if err := u.UnmarshalJSON(data); err != nil {
		return fmt.Errorf("apply %s: %w", r, err)
	}
	gvr := schema.GroupVersionResource{Group: r.Group, Version: r.Version, Resource: r.Resource}
	ri := c.dyn.Resource(gvr)
	endpoint := r.Path(u.GetNamespace()) + "/" + u.GetName()
	force := true
	opts := metav1.PatchOptions{FieldManager: "ward", Force: &force}
	if r.Namespaced {
		_, err = ri.Namespace(u.GetNamespace()).Patch(ctx, u.GetName(), types.ApplyPatchType, data, opts)
	} else {
		_, err = ri.Patch(ctx, u.GetName(), types.ApplyPatchType, data, opts)
	}
	if err != nil {
		return fmt.Errorf("apply %s: %w", endpoint, wrapStatus(endpoint, err))
	}
	return nil
}
