package cli

import (
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/wardsec/ward/internal/artifact"
	"github.com/wardsec/ward/internal/ignore"
)

// skipFlags are --skip-dirs and --skip-files, as Trivy users know them.
type skipFlags struct {
	dirs, files []string
}

func (s *skipFlags) register(fl *pflag.FlagSet) {
	fl.StringSliceVar(&s.dirs, "skip-dirs", nil, `directories not scanned, globs relative to the target ("**" crosses directories, a name without "/" matches at any depth; repeatable or comma-separated)`)
	fl.StringSliceVar(&s.files, "skip-files", nil, `files not scanned, globs relative to the target (as --skip-dirs)`)
}

// pathSkip is nil when no flag is given.
func (s *skipFlags) pathSkip() (*ignore.PathSkip, error) {
	ps, err := ignore.NewPathSkip(s.dirs, s.files)
	if err != nil {
		return nil, usagef("--skip-dirs/--skip-files: %v", err)
	}
	return ps, nil
}

// addImageSrcFlag registers --image-src.
func addImageSrcFlag(fl *pflag.FlagSet, v *[]string) {
	fl.StringSliceVar(v, "image-src", []string{artifact.SourceRemote}, "where an image reference without a prefix is looked up, in order: "+strings.Join(artifact.ImageSources, ", ")+" (docker: the Docker Engine API at $DOCKER_HOST or /var/run/docker.sock; podman: the containers storage; containerd: its content store)")
}

func checkImageSrc(srcs []string) error {
	for _, s := range srcs {
		if !slices.Contains(artifact.ImageSources, s) {
			return usagef("--image-src: unknown source %q (want %s)", s, strings.Join(artifact.ImageSources, ", "))
		}
	}
	return nil
}
