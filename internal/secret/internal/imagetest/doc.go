// Package imagetest holds the end-to-end test of secret scanning over
// container images through the orchestrator (internal/scan). It is a
// separate package so that the secret package's own tests do not depend on
// the orchestrator's dependency tree.
package imagetest
