package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/baseline"
	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/sensor"
	"github.com/wardsec/ward/internal/runtime/watch"
)

// baselineTypes are the event types learning and drift checking need on
// top of the rules' (exec, files, network, privilege changes).
var baselineTypes = func() []event.Type {
	var out []event.Type
	for _, t := range event.AllTypes() {
		switch t {
		case event.TypeRead, event.TypeWrite, event.TypeRecvfrom, event.TypeRecvmsg, event.TypeSwitch,
			event.TypeMmap, event.TypeMprotect, event.TypeIoctl:
			continue // data path: high rate, nothing a profile records
		}
		out = append(out, t)
	}
	return out
}()

func newRuntimeLearnCmd(g *Globals) *cobra.Command {
	var (
		duration       time.Duration
		stable         time.Duration
		filter         baseline.Filter
		output         string
		events         string
		hash           bool
		host           bool
		merge          bool
		kernelSyscalls bool
		ringBytes      int
		readyFile      string
	)
	cmd := &cobra.Command{
		Use:   "learn",
		Short: "Learn behavioural profiles of containers (executables, files, network, syscalls) from live or recorded events",
		Long: `Learn watches the host with the eBPF sensor (or reads a recorded event file
with --events) and builds one profile per workload identity: the Kubernetes
workload (namespace/name, from the pod name and labels) when known, else the
container image reference. A profile lists the executables run (with their
sha256 with --hash), parent→child exec edges, file paths read and written
(collapsed to stable prefixes), listening ports, inbound and outbound peers
(with DNS names seen in the event stream), the syscalls observed and the
capabilities inferred from them. docs/baselines.md documents the format.

--output FILE writes a single profile (the filter must select one
workload); --output DIR (an existing directory, or a path ending in /)
writes one file per identity. --merge folds the new observations into the
existing profiles there (profiles are mergeable across replicas).`,
		Example: `  ward runtime learn --duration 10m --image registry.example/app:1 --output app.yaml
  ward runtime learn --duration 1h --output profiles/ --merge
  ward runtime learn --events recorded.wevt --k8s shop/web --output web.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output == "" {
				return usagef("--output is required (a profile file, or a directory for one file per workload)")
			}
			if events == "" && duration <= 0 {
				return usagef("--duration is required when learning live (or give --events FILE)")
			}
			if filter.K8s != "" && strings.Count(filter.K8s, "/") != 1 {
				return usagef("--k8s: want namespace/workload, not %q", filter.K8s)
			}
			l := baseline.NewLearner(baseline.LearnOptions{Filter: filter, HashExecutables: hash && events == "", Host: host})
			var n uint64
			if events != "" {
				var err error
				if n, err = learnFile(cmd.Context(), events, l); err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
			} else {
				ctx, started, stop := watchContext(cmd.Context(), duration, readyFile)
				defer stop()
				var stableAt time.Time
				st, err := watch.Run(ctx, watch.Options{
					Sensor:     sensor.Options{RingBufferBytes: ringBytes, LearnSyscalls: kernelSyscalls},
					Logger:     g.Logger,
					NoSnapshot: false,
					OnStart: func(s watch.Started) {
						if !g.Quiet {
							fmt.Fprintf(g.Stderr, "runtime learn: sensor attached; learning for %s\n", duration)
						}
						if err := started(s); err != nil {
							stop()
						}
					},
					OnEvent: func(ev *event.Event, st *event.State) {
						l.Observe(ev, st)
						if stable > 0 && l.Stable(ev.TS, stable) && stableAt.IsZero() {
							stableAt = time.Now()
							stop()
						}
					},
				})
				if err != nil && !errors.Is(err, context.Canceled) {
					return sensorError(err)
				}
				n = st.Sensor.Events
				for _, u := range st.Usage {
					l.AddKernelUsage(baseline.KernelUsage{ContainerID: u.ContainerID, Syscalls: u.Syscalls, Capabilities: u.Capabilities})
				}
			}
			ps := l.Profiles()
			if len(ps) == 0 {
				return &ExitError{Code: ExitScanError, Err: fmt.Errorf("no workload matched: %d events seen, no profile learned", n)}
			}
			files, err := writeProfiles(output, ps, merge)
			if err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			if !g.Quiet {
				fmt.Fprintf(g.Stderr, "runtime learn: %d events, %d profiles: %s\n", n, len(ps), strings.Join(files, ", "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.DurationVar(&duration, "duration", 0, "learn this long, counted from when the sensor is attached")
	f.DurationVar(&stable, "stable", 0, "stop early once no profile gained an entry for this long (0: learn for the whole --duration)")
	f.StringVar(&filter.Container, "container", "", "learn only this container (id or id prefix)")
	f.StringVar(&filter.Image, "image", "", "learn only containers of this image (reference or digest)")
	f.StringVar(&filter.K8s, "k8s", "", "learn only this Kubernetes workload (namespace/workload)")
	f.StringVarP(&output, "output", "o", "", "profile file, or directory for one profile per workload")
	f.StringVar(&events, "events", "", "learn from a recorded event file (ward runtime record) instead of the live sensor")
	f.BoolVar(&hash, "hash", false, "record the sha256 of executables (read from /proc/PID/exe at exec time)")
	f.BoolVar(&host, "host", false, "also learn host processes (identity \"host\")")
	f.BoolVar(&kernelSyscalls, "kernel-syscalls", true, "learn every system call and capability check of the containers in the kernel (raw tracepoints sys_enter and cap_capable), not only the traced events")
	f.BoolVar(&merge, "merge", false, "merge into existing profiles of the same identity instead of replacing them")
	f.IntVar(&ringBytes, "ring-buffer", 8<<20, "ring buffer size in bytes (rounded up to a power of two)")
	f.StringVar(&readyFile, "ready-file", "", readyFileUsage)
	return cmd
}

func learnFile(ctx context.Context, name string, l *baseline.Learner) (uint64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, fmt.Errorf("--events: %w", err)
	}
	defer f.Close()
	rd := event.NewReader(f)
	if _, err := rd.Header(); err != nil {
		return 0, fmt.Errorf("%s: %w", name, err)
	}
	st := event.NewState(event.Options{})
	var ev event.Event
	var n uint64
	for {
		if err := rd.Read(&ev); err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, fmt.Errorf("%s: %w", name, err)
		}
		if n%4096 == 0 && ctx.Err() != nil {
			return n, ctx.Err()
		}
		n++
		st.Apply(&ev)
		l.Observe(&ev, st)
	}
}

// writeProfiles writes ps to output (a file for one profile, or a
// directory) and returns the files written.
func writeProfiles(output string, ps []*baseline.Profile, merge bool) ([]string, error) {
	dir := strings.HasSuffix(output, "/") || strings.HasSuffix(output, string(os.PathSeparator))
	if fi, err := os.Stat(output); err == nil && fi.IsDir() {
		dir = true
	}
	if !dir && len(ps) > 1 {
		var keys []string
		for _, p := range ps {
			keys = append(keys, p.Identity.Key())
		}
		return nil, fmt.Errorf("--output %s: %d workloads seen (%s): give a directory, or filter with --container, --image or --k8s",
			output, len(ps), strings.Join(keys, ", "))
	}
	if dir {
		if err := os.MkdirAll(output, 0o755); err != nil {
			return nil, fmt.Errorf("--output: %w", err)
		}
	}
	var files []string
	for _, p := range ps {
		name := output
		if dir {
			name = filepath.Join(output, baseline.FileName(p.Identity.Key()))
		}
		if merge {
			if old, err := baseline.LoadFile(name); err == nil {
				if err := old.Merge(p); err != nil {
					return files, err
				}
				p = old
			} else if !errors.Is(err, os.ErrNotExist) {
				return files, err
			}
		}
		data, err := p.Marshal()
		if err != nil {
			return files, err
		}
		if err := writeFileAtomic(name, data); err != nil {
			return files, fmt.Errorf("writing profile: %w", err)
		}
		files = append(files, name)
	}
	return files, nil
}

func newRuntimeProfileCmd(g *Globals) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "profile seccomp|apparmor|networkpolicy|securitycontext PROFILE",
		Short: "Generate a seccomp profile, AppArmor profile, NetworkPolicy or securityContext patch from a learned profile",
		Long: `Generate least-privilege artefacts from a profile written by ward runtime learn:

  seccomp          OCI/Docker seccomp JSON: default action SCMP_ACT_ERRNO (EPERM),
                   the learned syscalls plus the base set every process needs
                   (docs/baselines.md), for x86-64/x86/x32/aarch64/arm
  apparmor         AppArmor profile: executables (mrix), reads (r), writes (rw),
                   network families, capabilities
  networkpolicy    Kubernetes NetworkPolicy (Kubernetes workloads with pod labels):
                   ingress to the listening ports from observed peers, egress to
                   observed peers and ports, DNS allowed
  securitycontext  container securityContext patch: runAsNonRoot,
                   readOnlyRootFilesystem, allowPrivilegeEscalation: false,
                   capabilities drop ALL plus the inferred ones`,
		Example: `  ward runtime profile seccomp app.yaml -o app-seccomp.json
  podman run --security-opt seccomp=app-seccomp.json registry.example/app:1`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var gen func(*baseline.Profile) ([]byte, error)
			switch args[0] {
			case "seccomp":
				gen = baseline.GenerateSeccomp
			case "apparmor":
				gen = func(p *baseline.Profile) ([]byte, error) { return baseline.GenerateAppArmor(p), nil }
			case "networkpolicy":
				gen = baseline.GenerateNetworkPolicy
			case "securitycontext":
				gen = baseline.GenerateSecurityContext
			default:
				return usagef("unknown artefact %q: want seccomp, apparmor, networkpolicy or securitycontext", args[0])
			}
			p, err := baseline.LoadFile(args[1])
			if err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			data, err := gen(p)
			if err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			if output == "" || output == "-" {
				_, err = g.Stdout.Write(data)
				return err
			}
			if err := writeFileAtomic(output, data); err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	return cmd
}
