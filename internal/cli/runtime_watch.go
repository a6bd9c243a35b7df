package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/response"
	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/internal/runtime/sensor"
	"github.com/wardsec/ward/internal/runtime/watch"
)

// watchContext stops on SIGINT/SIGTERM. started, called once the sensor
// is attached, starts the --duration clock (0: no limit) and creates the
// --ready-file, so that a script waiting for the file knows every event
// from then on is seen, however long loading took on a busy host.
func watchContext(parent context.Context, duration time.Duration, readyFile string) (ctx context.Context, started func(watch.Started) error, stop func()) {
	sctx, sstop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(sctx)
	var timer *time.Timer
	var mu sync.Mutex
	started = func(s watch.Started) error {
		mu.Lock()
		defer mu.Unlock()
		if duration > 0 {
			timer = time.AfterFunc(duration, cancel)
		}
		if readyFile == "" {
			return nil
		}
		data, _ := json.Marshal(map[string]any{"pid": os.Getpid(), "hooks": s.Hooks})
		return writeFileAtomic(readyFile, append(data, '\n'))
	}
	stop = func() {
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
		sstop()
	}
	return ctx, started, stop
}

func sensorError(err error) error {
	if errors.Is(err, sensor.ErrNotSupported) {
		return &ExitError{Code: ExitScanError, Err: err}
	}
	return &ExitError{Code: ExitScanError, Err: fmt.Errorf("runtime sensor: %w", err)}
}

// actionSink writes response-action audit records: as Falco-shaped alerts
// (rule "Ward response action") on the alert sinks, and as a log line.
type actionSink struct {
	mu       sync.Mutex
	d        *alert.Dispatcher
	hostname string
}

func (s *actionSink) record(ctx context.Context, rec response.Record) {
	a := alert.Alert{
		Time:     rec.Time.Format(time.RFC3339Nano),
		Rule:     "Ward response action",
		Priority: "Notice",
		Output:   rec.Time.Format("15:04:05.000000000") + ": Notice " + rec.String(),
		OutputFields: map[string]any{
			"ward.action": string(rec.Action), "ward.rule": rec.Rule, "ward.result": rec.Result,
			"proc.pid": int64(rec.PID), "container.id": rec.ContainerID, "ward.dry_run": rec.DryRun,
		},
		Tags:     []string{"ward_response"},
		Source:   "ward",
		Hostname: s.hostname,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sink := range s.d.Sinks {
		sink.Send(ctx, &a)
	}
}

func newRuntimeWatchCmd(g *Globals) *cobra.Command {
	var (
		rulePaths   []string
		format      string
		output      string
		webhook     string
		rate        float64
		burst       int
		minPriority string
		policyFile  string
		dryRun      bool
		ringBytes   int
		duration    time.Duration
		statsFile   string
		noFilter    bool
		hook        string
		readyFile   string
		out         outputOptions
		srv         serverFlags
		drift       driftOptions
		capt        captureOptions
	)
	cmd := &cobra.Command{
		Use:   "watch",
		Short: "Watch this host's system events live with the eBPF sensor and print alerts",
		Long: `Watch loads Ward's eBPF sensor (CO-RE raw tracepoints, ring buffer), follows
every process, file descriptor and container on the host, evaluates the rules
(-r, Falco syntax; default: Ward's rules) on each event and prints alerts as
they happen: Falco's JSON alert shape with --format json (one object per
line), Falco's text lines otherwise. Only the event types the rules need are
captured in the kernel, and opens are filtered there by the paths the rules
can match (relative and non-canonical paths and directories always pass;
the closes of fds user space never saw are dropped too): see
--no-kernel-filter. Needs Linux with BTF and root (or CAP_BPF, CAP_PERFMON
and CAP_SYS_RESOURCE).

Response actions are opt-in, per rule name or tag, in a policy file
(--policy): kill the process, pause (freeze) or stop its container. Each
action is itself reported as an alert of rule "Ward response action";
--dry-run reports without acting. SIGINT or SIGTERM detaches the programs and
prints the counters (events, kernel drops, alerts, actions).

  # policy.yaml
  actions:
    - rules: ["Terminal shell in container"]
      action: kill
    - tags: [T1611]
      action: stop
      containers_only: true`,
		Example: `  ward runtime watch -r /etc/falco/falco_rules.yaml --format json
  ward runtime watch --policy policy.yaml --dry-run --webhook http://127.0.0.1:2801/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "json" && format != "text" {
				return usagef("--format: want json or text, not %q", format)
			}
			if hook != "raw_tracepoint" && hook != "tp_btf" {
				return usagef("--sys-exit-hook: want raw_tracepoint or tp_btf, not %q", hook)
			}
			eng, err := loadRuntimeRules(g, rulePaths, minPriority, &out)
			if err != nil {
				var ue *UsageError
				if errors.As(err, &ue) {
					return err
				}
				return &ExitError{Code: ExitScanError, Err: err}
			}
			var pol *response.Policy
			if policyFile != "" {
				if pol, err = response.Load(policyFile); err != nil {
					return usagef("--policy: %v", err)
				}
				if dryRun {
					pol.DryRun = true
				}
			}
			var out io.Writer = g.Stdout
			d := &alert.Dispatcher{Limiter: alert.NewRateLimiter(rate, burst), Clock: time.Now}
			if output != "" {
				s, err := alert.NewFileSink(output, format == "json")
				if err != nil {
					return usagef("--output: %v", err)
				}
				d.Sinks = append(d.Sinks, s)
			} else if format == "json" {
				d.Sinks = append(d.Sinks, alert.NewJSONSink(out))
			} else {
				d.Sinks = append(d.Sinks, alert.NewTextSink(out))
			}
			if webhook != "" {
				if !strings.HasPrefix(webhook, "http://") && !strings.HasPrefix(webhook, "https://") {
					return usagef("--webhook: want an http:// or https:// URL, not %q", webhook)
				}
				d.Sinks = append(d.Sinks, alert.NewWebhook(webhook, alert.WebhookOptions{Logger: g.Logger}))
			}
			up, err := srv.streamer(g)
			if err != nil {
				return err
			}
			if up != nil {
				d.Sinks = append(d.Sinks, up)
			}
			host, _ := os.Hostname()
			acts := &actionSink{d: d, hostname: host}
			ctx, started, stop := watchContext(cmd.Context(), duration, readyFile)
			defer stop()
			if !g.Quiet {
				fmt.Fprintf(g.Stderr, "runtime watch: %d rules enabled, watching %d event types\n", len(eng.Enabled()), len(eng.EventTypes()))
			}
			var readyErr error
			actx, err := capt.context(host, g.Logger)
			if err != nil {
				return err
			}
			onEvent, extraTypes, err := drift.hook(ctx, d, host, actx)
			if err != nil {
				return err
			}
			noKernelFilter := noFilter || onEvent != nil
			onEvent = actx.chain(onEvent)
			st, err := watch.Run(ctx, watch.Options{
				Engine:         eng,
				Sensor:         sensor.Options{RingBufferBytes: ringBytes, RawTracepoint: hook == "raw_tracepoint"},
				Policy:         pol,
				Logger:         g.Logger,
				NoKernelFilter: noKernelFilter,
				OnEvent:        onEvent,
				ExtraTypes:     extraTypes,
				OnStart: func(s watch.Started) {
					if !g.Quiet {
						fmt.Fprintf(g.Stderr, "runtime watch: sensor attached; hooks: %s\n", termSafe(s.Hooks.String(), false))
					}
					if readyErr = started(s); readyErr != nil {
						stop()
					}
				},
				OnMatchState: func(m *rules.Match, st *event.State, recs []response.Record) {
					a := alert.FromMatch(m)
					actx.decorate(&a, m.Event, st, m.Event.PID)
					d.DispatchAlert(ctx, a)
					for _, r := range recs {
						acts.record(ctx, r)
					}
				},
			})
			srv.setSensorStats(st.Sensor.Events, st.Sensor.KernelDrops)
			captures := actx.close()
			closeErr := d.Close()
			if err != nil {
				return sensorError(err)
			}
			if readyErr != nil {
				return &ExitError{Code: ExitScanError, Err: fmt.Errorf("--ready-file: %w", readyErr)}
			}
			sent, sinkErrs, limited := d.Stats()
			var rl uint64
			for _, n := range limited {
				rl += n
			}
			summary := map[string]any{
				"events": st.Sensor.Events, "kernel_drops": st.Sensor.KernelDrops, "truncated": st.Sensor.Truncated,
				"delivered": st.Sensor.Delivered, "decode_errors": st.Sensor.DecodeErrors, "containers": st.Sensor.Containers,
				"alerts": st.Alerts, "alerts_sent": sent, "alerts_rate_limited": rl, "sink_errors": sinkErrs, "actions": st.Actions,
				"processes_created": st.State.ProcessesCreated, "snapshot_processes": st.Proc.Processes,
				"hooks": st.Hooks,
			}
			if captures != nil {
				summary["captures"] = captures
			}
			if !g.Quiet {
				fmt.Fprintf(g.Stderr, "runtime watch: stopped: %d events (%d dropped in the kernel), %d alerts (%d rate-limited), %d actions\n",
					st.Sensor.Events, st.Sensor.KernelDrops, st.Alerts, rl, st.Actions)
			}
			if statsFile != "" {
				data, _ := json.MarshalIndent(summary, "", "  ")
				if err := writeFileAtomic(statsFile, append(data, '\n')); err != nil {
					return &ExitError{Code: ExitScanError, Err: err}
				}
			}
			if closeErr != nil {
				return &ExitError{Code: ExitScanError, Err: closeErr}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&rulePaths, "rules", "r", nil, "rule file or directory (repeatable; later files override earlier ones; a directory loads in Falco's order, see 'ward runtime rules check --help'; default: Ward's rules)")
	f.StringVar(&format, "format", "text", "alert format: json (Falco JSON, one per line) or text")
	f.StringVar(&output, "output", "", "append alerts to this file instead of standard output")
	f.StringVar(&webhook, "webhook", "", "also POST each alert (Falco JSON) to this URL")
	f.Float64Var(&rate, "rate-limit", 0, "at most this many alerts per second per rule (0: unlimited)")
	f.IntVar(&burst, "rate-burst", 10, "alerts per rule allowed in a burst when rate limited")
	f.StringVar(&minPriority, "min-priority", "", "ignore rules less severe than this priority (EMERGENCY ... DEBUG)")
	f.StringVar(&policyFile, "policy", "", "response policy file (kill, pause, stop per rule or tag)")
	f.BoolVar(&dryRun, "dry-run", false, "report response actions without carrying them out")
	f.IntVar(&ringBytes, "ring-buffer", 8<<20, "ring buffer size in bytes (rounded up to a power of two)")
	f.DurationVar(&duration, "duration", 0, "stop after watching this long, counted from when the sensor is attached (0: until SIGINT/SIGTERM)")
	f.StringVar(&statsFile, "stats", "", "write the final counters to this JSON file")
	f.BoolVar(&noFilter, "no-kernel-filter", false, "deliver every open and close to user space (no in-kernel path filter)")
	f.StringVar(&hook, "sys-exit-hook", "tp_btf", "the system call exit hook: tp_btf (reads the registers in place; falls back to raw_tracepoint when the kernel refuses it), or raw_tracepoint")
	f.StringVar(&readyFile, "ready-file", "", readyFileUsage)
	out.register(f)
	drift.register(f)
	capt.register(f)
	srv.register(f, true)
	// --format and --output here mean the alert stream, not a report.
	return cmd
}

// readyFileUsage documents --ready-file of watch and record.
const readyFileUsage = "create this file (JSON: pid, hooks) once the sensor is attached and the /proc snapshot taken, " +
	"for scripts that must not act before events are seen"

func newRuntimeRecordCmd(g *Globals) *cobra.Command {
	var (
		readyFile string
		ringBytes int
		duration  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "record FILE",
		Short: "Record this host's system events to a file for ward runtime replay",
		Long: `Record captures every event type the sensor knows (with a /proc snapshot of
the processes running at start) in Ward's event file format (docs/runtime.md),
until SIGINT/SIGTERM or --duration. The file is written to a temporary name
and renamed into place when recording stops, so a crash never leaves a
half-written file under FILE.`,
		Example: `  ward runtime record --duration 30s events.wevt
  ward runtime replay events.wevt -r falco_rules.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := filepath.Dir(args[0])
			tmp, err := os.CreateTemp(dir, "."+filepath.Base(args[0])+".tmp-*")
			if err != nil {
				return usagef("%v", err)
			}
			defer os.Remove(tmp.Name())
			host, _ := os.Hostname()
			w := event.NewWriter(tmp, host, time.Now().UnixNano())
			ctx, started, stop := watchContext(cmd.Context(), duration, readyFile)
			defer stop()
			var readyErr error
			st, err := watch.Run(ctx, watch.Options{Record: w, Sensor: sensor.Options{RingBufferBytes: ringBytes}, Logger: g.Logger,
				OnStart: func(s watch.Started) {
					if readyErr = started(s); readyErr != nil {
						stop()
					}
				}})
			if err != nil {
				tmp.Close()
				return sensorError(err)
			}
			if readyErr != nil {
				tmp.Close()
				return &ExitError{Code: ExitScanError, Err: fmt.Errorf("--ready-file: %w", readyErr)}
			}
			if err := tmp.Close(); err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			if err := os.Rename(tmp.Name(), args[0]); err != nil {
				return &ExitError{Code: ExitScanError, Err: err}
			}
			if !g.Quiet {
				fmt.Fprintf(g.Stderr, "runtime record: %d events written to %s (%d dropped in the kernel)\n", st.Sensor.Delivered, args[0], st.Sensor.KernelDrops)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&ringBytes, "ring-buffer", 8<<20, "ring buffer size in bytes (rounded up to a power of two)")
	cmd.Flags().DurationVar(&duration, "duration", 0, "stop after recording this long, counted from when the sensor is attached (0: until SIGINT/SIGTERM)")
	cmd.Flags().StringVar(&readyFile, "ready-file", "", readyFileUsage)
	return cmd
}

// writeFileAtomic writes data to a temporary file beside name and renames it.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
