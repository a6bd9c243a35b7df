package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/event"
	"github.com/wardsec/ward/internal/runtime/rules"
	"github.com/wardsec/ward/internal/runtime/rules/defaults"
	"github.com/wardsec/ward/pkg/finding"
)

// newRuntimeCmd is `ward runtime`: Falco-compatible runtime detection.
func newRuntimeCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runtime",
		Short: "Runtime threat detection with Falco-compatible rules (watch, record, replay, rule checks)",
		Long: `Evaluate system events against Falco-compatible rules.

Ward reads Falco rule files unchanged (rules, macros, lists, exceptions,
append/override) and ships its own default rule set, used when no -r is
given. Events come from the eBPF sensor (watch, record) or from a recorded
event file (replay). docs/runtime.md documents the event file format, the
supported rule language and the default rules.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	// watch and record (the eBPF sensor, issue 9) live in runtime_watch.go.
	cmd.AddCommand(newRuntimeReplayCmd(g), newRuntimeRulesCmd(g), newRuntimeWatchCmd(g), newRuntimeRecordCmd(g), newRuntimeLearnCmd(g), newRuntimeProfileCmd(g))
	return cmd
}

// outputOptions are the --append-output and --append-field flags of replay
// and watch.
type outputOptions struct {
	container bool
	fields    []string
}

func (o *outputOptions) register(f *pflag.FlagSet) {
	f.BoolVar(&o.container, "append-output", true, "append container_id, container_name, container_image_repository, "+
		"container_image_tag, k8s_pod_name and k8s_ns_name to every alert's text and output_fields, as Falco's default append_output does")
	f.StringArrayVar(&o.fields, "append-field", nil, "add this field (e.g. proc.pid) to every alert's output_fields, "+
		"not to its text (repeatable; Falco's append_output extra_fields)")
}

func (o *outputOptions) entries() []rules.AppendOutput {
	var out []rules.AppendOutput
	if o.container {
		out = append(out, rules.ContainerAppendOutput...)
	}
	if len(o.fields) > 0 {
		out = append(out, rules.AppendOutput{ExtraFields: o.fields})
	}
	return out
}

// loadRuntimeRules loads -r files/directories, or Ward's default rules,
// with the append_output entries of out (nil: none).
func loadRuntimeRules(g *Globals, paths []string, minPriority string, out *outputOptions) (*rules.Engine, error) {
	eng, err := loadRuntimeRuleFiles(g, paths, minPriority, out)
	var ae *rules.AppendOutputError
	if errors.As(err, &ae) {
		return nil, usagef("--append-field: %v", ae.Err)
	}
	return eng, err
}

func loadRuntimeRuleFiles(g *Globals, paths []string, minPriority string, out *outputOptions) (*rules.Engine, error) {
	opts := rules.Options{Logger: g.Logger}
	if out != nil {
		opts.AppendOutput = out.entries()
	}
	if minPriority != "" {
		p, err := rules.ParsePriority(minPriority)
		if err != nil {
			return nil, usagef("--min-priority: %v", err)
		}
		opts.MinPriority = &p
	}
	if len(paths) == 0 {
		name, data := defaults.File()
		return rules.LoadSources([]rules.Source{{Name: name, Data: data}}, opts)
	}
	return rules.Load(paths, opts)
}

func newRuntimeReplayCmd(g *Globals) *cobra.Command {
	var (
		output       outputOptions
		rulePaths    []string
		alertsFile   string
		alertsFormat string
		webhook      string
		rate         float64
		burst        int
		minPriority  string
		hostname     string
		profilesDir  string
	)
	cmd := &cobra.Command{
		Use:   "replay FILE",
		Short: "Evaluate a recorded event file against rules and report alerts",
		Long: `Replay a recorded event file (the format ward runtime record writes, see
docs/runtime.md) through the state engine and the rules, and report every
alert as a finding of kind runtime through the usual report formats.

Alerts can also go out in Falco's JSON alert shape (--alerts FILE, one JSON
object per line, or Falco's text lines with --alerts-format text) and to an
HTTP webhook (--webhook URL: bounded queue, retries with backoff). Each rule
can be rate limited (--rate-limit alerts per second, --rate-burst).

FILE may also be a capture file (ward runtime watch --capture, see
docs/baselines.md): its seed records rebuild the process table and the
container, then its events run through the same rules and, with
--profiles DIR, the same drift monitor as ward runtime watch.`,
		Example: `  ward runtime replay events.wevt
  ward runtime replay events.wevt -r /etc/falco/falco_rules.yaml -r ./my_rules.d
  ward runtime replay events.wevt --alerts alerts.jsonl --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if alertsFormat != "json" && alertsFormat != "text" {
				return usagef("--alerts-format: want json or text, not %q", alertsFormat)
			}
			eng, err := loadRuntimeRules(g, rulePaths, minPriority, &output)
			if err != nil {
				var ue *UsageError
				if errors.As(err, &ue) {
					return err
				}
				return &ExitError{Code: ExitScanError, Err: err}
			}
			f, err := os.Open(args[0])
			if err != nil {
				return usagef("event file: %v", err)
			}
			defer f.Close()
			d := &alert.Dispatcher{Limiter: alert.NewRateLimiter(rate, burst)}
			if alertsFile != "" {
				s, err := alert.NewFileSink(alertsFile, alertsFormat == "json")
				if err != nil {
					return usagef("%v", err)
				}
				d.Sinks = append(d.Sinks, s)
			}
			var wh *alert.Webhook
			if webhook != "" {
				if !strings.HasPrefix(webhook, "http://") && !strings.HasPrefix(webhook, "https://") {
					return usagef("--webhook: want an http:// or https:// URL, not %q", webhook)
				}
				wh = alert.NewWebhook(webhook, alert.WebhookOptions{Logger: g.Logger})
				d.Sinks = append(d.Sinks, wh)
			}
			var res replayResult
			var capExtra map[string]any
			if profilesDir != "" || isCaptureFile(f) {
				res, capExtra, err = replayDrift(cmd.Context(), f, args[0], eng, d, hostname, profilesDir)
				var ue *UsageError
				if errors.As(err, &ue) {
					return err
				}
			} else {
				res, err = replay(cmd.Context(), f, eng, d, hostname)
			}
			closeErr := d.Close()
			target := res.hostname
			if target == "" {
				target = args[0]
			}
			r := g.NewReport(target, "events")
			r.Scanners = []string{"runtime"}
			r.Findings = res.findings
			if err != nil {
				r.Errors = append(r.Errors, finding.ScanError{Target: target, Path: args[0], Scanner: "runtime", Message: err.Error()})
			}
			if closeErr != nil {
				r.Warnings = append(r.Warnings, closeErr.Error())
			}
			sent, sinkErrs, limited := d.Stats()
			dropped := uint64(0)
			for _, n := range limited {
				dropped += n
			}
			stats := res.state
			r.Extra = map[string]any{"runtime": map[string]any{
				"events": res.events, "alerts": res.alerts, "alerts_sent": sent, "alerts_rate_limited": dropped,
				"sink_errors": sinkErrs, "rules_enabled": len(eng.Enabled()), "rule_files": eng.Info().Files,
				"processes_created": stats.ProcessesCreated, "process_evictions": stats.ProcessEvictions,
				"fd_evictions": stats.FDEvictions, "unknown_processes": stats.UnknownProcesses,
			}}
			for k, v := range capExtra {
				r.Extra["runtime"].(map[string]any)[k] = v
			}
			if wh != nil {
				ws := wh.Stats()
				r.Extra["webhook"] = map[string]any{"sent": ws.Sent, "failed": ws.Failed, "dropped": ws.Dropped, "retries": ws.Retries}
			}
			if !g.Quiet {
				fmt.Fprintf(g.Stderr, "runtime replay: %d events, %d alerts (%d rate-limited), %d rules enabled\n",
					res.events, res.alerts, dropped, len(eng.Enabled()))
			}
			return g.Emit(r)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&rulePaths, "rules", "r", nil, "rule file or directory (repeatable; later files override earlier ones; a directory loads in Falco's order, see 'ward runtime rules check --help'; default: Ward's rules)")
	f.StringVar(&alertsFile, "alerts", "", "also append alerts to this file in Falco's shape")
	f.StringVar(&alertsFormat, "alerts-format", "json", "format of --alerts: json (Falco JSON, one per line) or text")
	f.StringVar(&webhook, "webhook", "", "also POST each alert (Falco JSON) to this URL")
	f.Float64Var(&rate, "rate-limit", 0, "at most this many alerts per second per rule (0: unlimited)")
	f.IntVar(&burst, "rate-burst", 10, "alerts per rule allowed in a burst when rate limited")
	f.StringVar(&minPriority, "min-priority", "", "ignore rules less severe than this priority (EMERGENCY ... DEBUG)")
	f.StringVar(&hostname, "hostname", "", "host name for alerts (default: the one recorded in the file)")
	f.StringVar(&profilesDir, "profiles", "", "directory of workload profiles (ward runtime learn): also report drift alerts, as ward runtime watch --profiles does")
	output.register(f)
	return cmd
}

type replayResult struct {
	events   uint64
	alerts   int
	findings []finding.Finding
	hostname string
	state    event.Stats
	// seen maps a fingerprint to its index in findings.
	seen map[string]int
}

// addFinding reports identical alerts (same fingerprint) once, with a count.
func (res *replayResult) addFinding(f finding.Finding) {
	if i, ok := res.seen[f.Fingerprint]; ok {
		fr := res.findings[i].Runtime
		if fr.Extra == nil {
			fr.Extra = map[string]string{}
		}
		n := 1
		fmt.Sscan(fr.Extra["count"], &n)
		fr.Extra["count"] = fmt.Sprint(n + 1)
		return
	}
	if res.seen == nil {
		res.seen = map[string]int{}
	}
	res.seen[f.Fingerprint] = len(res.findings)
	res.findings = append(res.findings, f)
}

// replay runs a recorded file through state and rules.
func replay(ctx context.Context, r io.Reader, eng *rules.Engine, d *alert.Dispatcher, hostname string) (replayResult, error) {
	var res replayResult
	rd := event.NewReader(r)
	hdr, err := rd.Header()
	if err != nil {
		return res, err
	}
	st := event.NewState(event.Options{})
	st.Hostname = hdr.Hostname
	if hostname != "" {
		st.Hostname = hostname
	}
	res.hostname = st.Hostname
	var ev event.Event
	for {
		if err := rd.Read(&ev); err != nil {
			res.state = st.Stats()
			if err == io.EOF {
				return res, nil
			}
			return res, err
		}
		if res.events%4096 == 0 && ctx.Err() != nil {
			return res, ctx.Err()
		}
		res.events++
		st.Apply(&ev)
		eng.Eval(&ev, st, func(m *rules.Match) {
			res.alerts++
			if !d.Dispatch(ctx, m) {
				return
			}
			res.addFinding(alert.Finding(m))
		})
	}
}

func newRuntimeRulesCmd(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Work with runtime rule files",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	var verbose bool
	check := &cobra.Command{
		Use:   "check [FILE|DIR...]",
		Short: "Validate rule files (loaded together, in order) and list what each rule needs",
		Long: `Load rule files as ward runtime replay would (later files override earlier
ones) and report errors with file, line, rule and condition column. For each
rule, list its priority, whether it is enabled, the event types it needs and
(with -v) the fields it reads, then the files in the order they loaded.
Without FILE, checks Ward's default rules.

Files named on the command line load in the order given. A directory's
*.yaml/*.yml files load in Falco's order: falco_rules.yaml (stable) first,
then falco-incubating_rules.yaml, falco-sandbox_rules.yaml and
falco-deprecated_rules.yaml, then the other files by name, and last the
local overrides (NAME.local.yaml, falco_rules.local.yaml first).`,
		Example: `  ward runtime rules check /etc/falco/falco_rules.yaml my_rules.yaml
  ward runtime rules check -v ./rules.d`,
		RunE: func(cmd *cobra.Command, args []string) error {
			eng, err := loadRuntimeRules(g, args, "", nil)
			if err != nil {
				fmt.Fprintf(g.Stderr, "rules check: %s\n", termSafe(err.Error(), true))
				return &ExitError{Code: ExitScanError}
			}
			w := g.Stdout
			for _, r := range eng.Rules() {
				state := "enabled"
				if !r.Enabled {
					state = "disabled"
				}
				if r.Skipped != "" {
					state = "skipped: " + r.Skipped
				}
				types := "all"
				if r.EventTypes != nil {
					var ns []string
					for _, t := range r.EventTypes {
						ns = append(ns, t.String())
					}
					types = strings.Join(ns, ",")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Name, r.Priority, state, types)
				if verbose {
					fmt.Fprintf(w, "\tfields: %s\n", strings.Join(r.Fields, " "))
					if len(r.Tags) > 0 {
						fmt.Fprintf(w, "\ttags: %s\n", strings.Join(r.Tags, " "))
					}
				}
			}
			info := eng.Info()
			var plugins []string
			for _, p := range info.RequiredPlugins {
				plugins = append(plugins, p.Name+" "+p.Version)
			}
			sort.Strings(plugins)
			fmt.Fprintf(w, "%d files: %d rules (%d enabled), %d macros, %d lists, %d unsupported\n",
				len(info.Files), info.Rules, info.Enabled, info.Macros, info.Lists, info.Unsupported)
			fmt.Fprintf(w, "load order: %s\n", termSafe(strings.Join(info.Files, " "), false))
			if len(info.RequiredEngineVersions) > 0 {
				fmt.Fprintf(w, "required engine version: %s (Ward implements %s)\n",
					strings.Join(info.RequiredEngineVersions, ", "), rules.EngineVersion)
			}
			if len(plugins) > 0 {
				fmt.Fprintf(w, "required plugins: %s\n", strings.Join(plugins, ", "))
			}
			var ts []string
			for _, t := range eng.EventTypes() {
				ts = append(ts, t.String())
			}
			fmt.Fprintf(w, "event types needed: %s\n", strings.Join(ts, ","))
			if of := eng.OpenFilter(); of.All {
				fmt.Fprintf(w, "open path filter: none (rule %q needs opens of any path)\n", termSafe(of.Why, false))
			} else {
				fmt.Fprintf(w, "open path filter: prefixes %s; suffixes %s\n", orNone(of.Prefixes), orNone(of.Suffixes))
			}
			for _, warn := range info.Warnings {
				fmt.Fprintf(g.Stderr, "warning: %s\n", termSafe(warn, false))
			}
			return nil
		},
	}
	check.Flags().BoolVarP(&verbose, "verbose", "v", false, "also list each rule's fields and tags")
	cmd.AddCommand(check)
	return cmd
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	return termSafe(strings.Join(s, " "), false)
}
