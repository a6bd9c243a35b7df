//go:build !(linux && amd64)

package sensor

import (
	"context"
	"fmt"
	"runtime"

	"github.com/wardsec/ward/internal/runtime/event"
)

// Sensor is unavailable on this platform.
type Sensor struct{}

// Supported reports why the sensor cannot run here.
func Supported() error {
	return fmt.Errorf("%w: the eBPF sensor runs on Linux/amd64, not %s/%s", ErrNotSupported, runtime.GOOS, runtime.GOARCH)
}

// New fails: see Supported.
func New(Options) (*Sensor, error) { return nil, Supported() }

// Run fails: see Supported.
func (*Sensor) Run(context.Context, func(*event.Event)) error { return Supported() }

// Stats is empty.
func (*Sensor) Stats() Stats { return Stats{} }

// Close does nothing.
func (*Sensor) Close() error { return nil }

// SeedFDs does nothing.
func (*Sensor) SeedFDs(uint32, []int32) error { return nil }

// FDTrackingReady does nothing.
func (*Sensor) FDTrackingReady() error { return nil }

// Hooks is empty.
func (*Sensor) Hooks() Hooks { return Hooks{} }

// ProbeHooks finds nothing usable: the sensor does not run here.
func ProbeHooks() []HookProbe { return nil }

// Usage fails: see Supported.
func (*Sensor) Usage() ([]Usage, error) { return nil, Supported() }
