package artifact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DockerOptions locate the Docker Engine API of docker: targets (Docker,
// or podman's Docker-compatible service).
type DockerOptions struct {
	// Host is the API endpoint: unix:///path/to.sock (default: $DOCKER_HOST,
	// else unix:///var/run/docker.sock). Only unix sockets are accepted:
	// the engine API is root on the host, and Ward does not reach it over TCP.
	Host string
	// TempDir holds the exported image while it is read ("" is os.TempDir()).
	TempDir string
	// MaxBytes bounds the exported image (default 64 GiB).
	MaxBytes int64
}

// PrefixDocker forces an image of the Docker Engine API (docker:alpine:3.20).
const PrefixDocker = "docker:"

// ErrNoEngine is returned for a docker: target when no engine answers.
var ErrNoEngine = errors.New("no Docker Engine API socket")

func (o DockerOptions) socket() (string, error) {
	h := o.Host
	if h == "" {
		h = os.Getenv("DOCKER_HOST")
	}
	if h == "" {
		h = "unix:///var/run/docker.sock"
	}
	p, ok := strings.CutPrefix(h, "unix://")
	if !ok {
		return "", fmt.Errorf("docker host %q: only unix:// sockets are supported", h)
	}
	if st, err := os.Stat(p); err != nil || st.Mode()&os.ModeSocket == 0 {
		return "", fmt.Errorf("%w at %s", ErrNoEngine, p)
	}
	return p, nil
}

// openDocker exports ref through the engine API (GET /images/{name}/get,
// a docker save tarball) into an unlinked temporary file and reads it as
// an archive: the engine's storage layout is never assumed.
func openDocker(ctx context.Context, nameRef, ref string, do DockerOptions, opts *Options) (Artifact, error) {
	if strings.TrimSpace(ref) == "" {
		return nil, fmt.Errorf("%s: no image named", nameRef)
	}
	sock, err := do.socket()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameRef, err)
	}
	cl := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
		ResponseHeaderTimeout: 2 * time.Minute,
	}}
	defer cl.CloseIdleConnections()
	esc := url.PathEscape(ref)
	// Inspect first: a clear "no such image" instead of an empty export.
	resp, err := dockerGet(ctx, cl, "/images/"+esc+"/json")
	if err != nil {
		return nil, fmt.Errorf("%s: docker engine %s: %w", nameRef, sock, err)
	}
	resp.Body.Close()
	resp, err = dockerGet(ctx, cl, "/images/"+esc+"/get")
	if err != nil {
		return nil, fmt.Errorf("%s: docker engine %s: %w", nameRef, sock, err)
	}
	defer resp.Body.Close()
	f, err := os.CreateTemp(do.TempDir, "ward-docker-*.tar")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", nameRef, err)
	}
	// Unlinked at once: the open file is all that is left, and it goes
	// away with the artifact or the process.
	os.Remove(f.Name())
	max := do.MaxBytes
	if max <= 0 {
		max = 64 << 30
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, max+1))
	if err == nil && n > max {
		err = fmt.Errorf("exported image larger than %d bytes", max)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: docker engine export: %w", nameRef, err)
	}
	a, err := openArchiveFile(nameRef, f, opts)
	if err != nil {
		return nil, err
	}
	return a, nil
}

func dockerGet(ctx context.Context, cl *http.Client, path string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://docker"+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	var msg struct {
		Message string `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if json.Unmarshal(b, &msg) != nil || msg.Message == "" {
		msg.Message = strings.TrimSpace(string(b))
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("no such image (%s)", msg.Message)
	}
	return nil, fmt.Errorf("%s: %s", resp.Status, msg.Message)
}
