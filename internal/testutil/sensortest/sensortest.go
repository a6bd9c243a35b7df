// Package sensortest starts Ward's real eBPF sensor (internal/runtime/watch)
// for a test, or skips the test with the measured reason it cannot run
// here. With WARD_REQUIRE_SENSOR set (scripts/test.sh sets it when running
// as root on a kernel with BTF) a sensor that cannot start fails the test
// instead, so a CI machine that should run the real-kernel tests never
// passes them silently.
package sensortest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/wardsec/ward/internal/runtime/sensor"
	"github.com/wardsec/ward/internal/runtime/watch"
)

// StartTimeout bounds how long Start waits for the sensor to attach.
const StartTimeout = 60 * time.Second

// Required reports whether WARD_REQUIRE_SENSOR asks for sensor tests to
// fail rather than skip.
func Required() bool { return os.Getenv("WARD_REQUIRE_SENSOR") != "" }

// SkipOrFail skips t with reason, or fails it when Required.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("WARD_REQUIRE_SENSOR is set: %s", msg)
	}
	t.Skip(msg)
}

// Running is a started sensor.
type Running struct {
	// Started is what the sensor reported when it attached.
	Started watch.Started
	// Took is how long attaching took.
	Took time.Duration
}

// Start runs watch.Run(opts) until the test ends (the sensor is detached
// and its error reported in t.Cleanup). It returns once the sensor is
// attached and every event from then on is seen. When the sensor cannot
// run here (not root, no BTF, unsupported kernel) the test is skipped with
// the sensor's own error and how long the attempt took, or failed when
// Required.
func Start(t testing.TB, opts watch.Options) Running {
	t.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(t, "the eBPF sensor needs root (euid %d)", os.Geteuid())
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		SkipOrFail(t, "the eBPF sensor needs kernel BTF: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan watch.Started, 1)
	done := make(chan error, 1)
	user := opts.OnStart
	opts.OnStart = func(s watch.Started) {
		if user != nil {
			user(s)
		}
		started <- s
	}
	t0 := time.Now()
	go func() {
		_, err := watch.Run(ctx, opts)
		done <- err
	}()
	var r Running
	select {
	case r.Started = <-started:
		r.Took = time.Since(t0)
	case err := <-done:
		cancel()
		took := time.Since(t0).Round(time.Millisecond)
		if errors.Is(err, sensor.ErrNotSupported) {
			SkipOrFail(t, "sensor not supported here (attempt took %s): %v", took, err)
		}
		t.Fatalf("sensor failed to start after %s: %v", took, err)
	case <-time.After(StartTimeout):
		cancel()
		t.Fatalf("sensor did not attach within %s", StartTimeout)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sensor: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("sensor did not stop within 30s")
		}
	})
	return r
}
