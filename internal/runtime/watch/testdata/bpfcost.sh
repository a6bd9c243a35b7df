#!/bin/sh
# Per-program BPF cost of the sensor (docs/runtime-sensor.md, "Where the cost is").
# Needs root, /tmp/wardbin (go build -o /tmp/wardbin ./cmd/ward), /tmp/workload
# (go build -o /tmp/workload ./internal/runtime/watch/testdata/workload) and
# sysctl kernel.bpf_stats_enabled=1.
# usage: bpfcost.sh MODE  -- MODE: watch | learn
# Starts ward, runs 3 x "workload files 200000" on the host, prints per-program
# run_cnt, run_time_ns, ns/run (kernel.bpf_stats_enabled=1), then stops ward.
mode=$1
rm -f /tmp/bc.ready
if [ "$mode" = learn ]; then
  /tmp/wardbin runtime learn --duration 60s --output /tmp/bc-prof/ --ready-file /tmp/bc.ready >/tmp/bc.log 2>&1 &
else
  /tmp/wardbin runtime watch --duration 60s --ready-file /tmp/bc.ready --output /dev/null >/tmp/bc.log 2>&1 &
fi
pid=$!
for i in $(seq 100); do [ -e /tmp/bc.ready ] && break; sleep 0.2; done
for i in 1 2 3; do /usr/bin/time -f "workload user+sys %U+%S s wall %e s" /tmp/workload files 200000; done
bpftool prog show -j | python3 -c '
import json,sys
for p in json.load(sys.stdin):
    n=p.get("name","")
    if n.startswith("ward_") and p.get("run_cnt"):
        print("%-18s run_cnt %10d run_time_ns %12d  %.1f ns/run" % (n,p["run_cnt"],p["run_time_ns"],p["run_time_ns"]/p["run_cnt"]))'
kill $pid; wait $pid 2>/dev/null
