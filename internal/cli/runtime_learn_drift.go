package cli

import (
	"context"
	"time"

	"github.com/spf13/pflag"

	"github.com/wardsec/ward/internal/baseline"
	"github.com/wardsec/ward/internal/runtime/alert"
	"github.com/wardsec/ward/internal/runtime/event"
)

// driftOptions are the --profiles flags of ward runtime watch.
type driftOptions struct {
	dir      string
	learnFor time.Duration
	hash     bool
}

func (o *driftOptions) register(f *pflag.FlagSet) {
	f.StringVar(&o.dir, "profiles", "", "directory of workload profiles (ward runtime learn): events outside a workload's profile raise \"Ward drift: …\" alerts")
	f.DurationVar(&o.learnFor, "learn-until-stable", 0, "with --profiles, learn workloads that have no profile until their profile gained nothing for this long, then check them too (0: workloads without a profile are not checked)")
	f.BoolVar(&o.hash, "profiles-hash", false, "with --profiles, also check executables' sha256 where the profile records one")
}

// hook returns the watch OnEvent function (nil without --profiles) and the
// event types it needs.
func (o *driftOptions) hook(ctx context.Context, d *alert.Dispatcher, host string, actx *alertContext) (func(*event.Event, *event.State), []event.Type, error) {
	if o.dir == "" {
		if o.learnFor > 0 {
			return nil, nil, usagef("--learn-until-stable needs --profiles DIR")
		}
		return nil, nil, nil
	}
	ps, err := baseline.LoadDir(o.dir)
	if err != nil {
		return nil, nil, usagef("--profiles: %v", err)
	}
	m := baseline.NewMonitor(ps, o.learnFor)
	m.Checker().Hash = o.hash
	return func(ev *event.Event, st *event.State) {
		m.Observe(ev, st, func(dr *baseline.Drift) {
			a := dr.Alert(host)
			actx.decorate(&a, ev, st, dr.Process.PID)
			d.DispatchAlert(ctx, a)
		})
	}, baselineTypes, nil
}
