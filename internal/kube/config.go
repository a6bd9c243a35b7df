// Package kube is Ward's one Kubernetes client layer: it resolves the
// kubeconfig exactly as kubectl does (--kubeconfig, then the KUBECONFIG list
// merged in order, then ~/.kube/config, then the in-cluster service account
// when running in a pod), and lists objects page by page (limit/continue) as
// raw JSON items that callers decode into k8s.io/api types themselves, so the
// whole cluster is never held as map[string]any. Discovery tells which kinds
// the server serves; the dynamic client writes (PolicyReports).
//
// Only this package talks to an API server. It never logs.
package kube

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// LoadOptions say which kubeconfig and context to use. Empty fields take
// kubectl's defaults.
type LoadOptions struct {
	// Kubeconfig is an explicit file (kubectl --kubeconfig); it wins over
	// the KUBECONFIG list.
	Kubeconfig string
	// Context overrides the current context (kubectl --context).
	Context string
	// Timeout bounds each request (0: 60 s).
	Timeout time.Duration
}

// Config is a resolved connection to one API server.
type Config struct {
	REST *rest.Config
	// Namespace is the context's namespace ("default" when it names none;
	// the pod's namespace in cluster).
	Namespace string
	// Context is the kubeconfig context used ("" in cluster).
	Context string
	// InCluster is true when the pod's service account was used.
	InCluster bool
}

// ErrNoConfig means neither a kubeconfig nor an in-cluster service account
// was found.
var ErrNoConfig = errors.New("no Kubernetes configuration: set --kubeconfig or KUBECONFIG, create ~/.kube/config, or run in a pod")

// LoadConfig resolves the configuration the way kubectl does, with
// clientcmd's deferred loading rules (which fall back to the in-cluster
// configuration when no kubeconfig is found).
func LoadConfig(opts LoadOptions) (*Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = opts.Kubeconfig
	over := &clientcmd.ConfigOverrides{CurrentContext: opts.Context}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, over)
	rc, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, ErrNoConfig
		}
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig namespace: %w", err)
	}
	cfg := &Config{REST: rc, Namespace: ns}
	raw, rerr := cc.RawConfig()
	if rerr == nil && (len(raw.Contexts) > 0 || opts.Context != "") {
		cfg.Context = raw.CurrentContext
		if opts.Context != "" {
			cfg.Context = opts.Context
		}
	} else {
		cfg.InCluster = true
	}
	if opts.Timeout > 0 {
		rc.Timeout = opts.Timeout
	} else if rc.Timeout == 0 {
		rc.Timeout = 60 * time.Second
	}
	// The scan lists many kinds and namespaces; client-go's default of 5 QPS
	// would make a 20,000-object scan take minutes. API Priority and
	// Fairness on the server is the throttle that matters.
	rc.QPS, rc.Burst = 200, 400
	rc.UserAgent = "ward"
	return cfg, nil
}

// anonymousClient is an HTTP client that trusts the server's CA (or skips
// verification as the kubeconfig says) but sends no credentials: the
// control-plane probes use it to see what an anonymous user can do.
func anonymousClient(rc *rest.Config) (*http.Client, error) {
	anon := rest.AnonymousClientConfig(rc)
	return rest.HTTPClientFor(anon)
}
