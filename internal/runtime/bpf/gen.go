// Package bpf holds the C sources of Ward's BPF programs (src/: the sensor,
// and the syscall and capability learner) and the
// objects bpf2go generated from them (committed, so building Ward needs no
// clang). It has no logic of its own: internal/runtime/sensor loads and
// drives it.
//
// Regenerate with `go generate ./internal/runtime/bpf` (needs clang, llvm,
// libbpf-dev and bpftool: scripts/deps-runtime.sh installs them). CO-RE
// relocations make the object portable across kernels with BTF.
package bpf

//go:generate sh -c "bpftool btf dump file /sys/kernel/btf/vmlinux format c > src/vmlinux.h"
//go:generate go tool bpf2go -cc clang -target amd64 -type spec -type ofilter Sensor src/sensor.bpf.c -- -Isrc -O2 -g -Wall -Werror
//go:generate go tool bpf2go -cc clang -target amd64 -type usage Learn src/learn.bpf.c -- -Isrc -O2 -g -Wall -Werror
