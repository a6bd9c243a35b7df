#!/usr/bin/env bash
# A real Kubernetes API server for Ward's cluster tests (issue 15).
#
#   scripts/testcluster.sh build          build the binaries into the cache (idempotent)
#   scripts/testcluster.sh start          build if needed, start etcd + kube-apiserver on 127.0.0.1;
#                                         the last line of output is the admin kubeconfig's path
#                                         (a no-op that prints it again when already running)
#   scripts/testcluster.sh stop           stop every process start started
#   scripts/testcluster.sh status         exit 0 when running
#   scripts/testcluster.sh kubectl ARGS…  the built kubectl against the running server
#   scripts/testcluster.sh env            print the cluster's file paths as shell assignments
#
# kube-apiserver and kubectl are built from k8s.io/kubernetes at one pinned
# version through the Go module proxy (the 30-odd staging modules replaced by
# their v0.<minor>.<patch> releases), etcd from go.etcd.io/etcd/server/v3's
# etcdmain, into $WARD_TEST_CACHE/k8s-$VERSION (default /var/cache/ward-test),
# once, behind a flock. There is no controller-manager, scheduler or kubelet:
# pods stay Pending, namespaces get no default service account by themselves
# and deleted namespaces stay Terminating (tests create what they need and use
# fresh namespace names).
#
# The server runs with RBAC (--authorization-mode=Node,RBAC), PodSecurity
# admission (on by default), TLS with a generated CA, client-certificate auth
# (admin in system:masters), a static token file (tokens for a plain user and
# for anonymous-like tests) and service-account tokens signed with a generated
# key (so tests can mint expired ones). State lives in $WARD_TESTCLUSTER_DIR
# (default /tmp/ward-testcluster-$UID).
set -euo pipefail

K8S_VERSION=${WARD_K8S_VERSION:-v1.37.2}
ETCD_VERSION=${WARD_ETCD_VERSION:-v3.6.16}
CACHE=${WARD_TEST_CACHE:-/var/cache/ward-test}/k8s-$K8S_VERSION
RUN=${WARD_TESTCLUSTER_DIR:-/tmp/ward-testcluster-$(id -u)}

die() { echo "testcluster: $*" >&2; exit 1; }

have_binaries() {
	[[ -x $CACHE/bin/kube-apiserver && -x $CACHE/bin/kubectl && -x $CACHE/bin/etcd ]]
}

# build_k8s writes a throwaway module that requires k8s.io/kubernetes at
# K8S_VERSION with every staging module replaced by its published release,
# then builds the commands from it.
build_k8s() {
	local src=$CACHE/src-k8s minor
	minor=${K8S_VERSION#v1.}
	mkdir -p "$src"
	(
		cd "$src"
		cat >go.mod <<EOF
module wardtest/k8sbuild

go 1.26
EOF
		cat >tools.go <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF
		# kubernetes' own go.mod lists the staging modules as "=> ./staging/…".
		local gomod
		gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",$/\1/p')
		[[ -f $gomod ]] || die "no go.mod for k8s.io/kubernetes@$K8S_VERSION"
		{
			echo "require k8s.io/kubernetes $K8S_VERSION"
			sed -n 's|^\s*\(k8s.io/[^ ]*\) => ./staging/.*|replace \1 => \1 v0.'"$minor"'|p' "$gomod"
			# the same replace block in its one-line form
			sed -n 's|^replace \(k8s.io/[^ ]*\) => ./staging/.*|replace \1 => \1 v0.'"$minor"'|p' "$gomod"
		} >>go.mod
		# kubernetes pins its dependencies in its own go.mod (the staging ones at
		# v0.0.0, replaced above); copy them so MVS picks the released versions.
		awk '/^require \(/{r=1;next} r&&/^\)/{r=0} r&&NF>=2{print "require "$1" "$2}' "$gomod" >>go.mod
		GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$CACHE/bin/" \
			k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
	)
}

build_etcd() {
	local src=$CACHE/src-etcd
	mkdir -p "$src"
	(
		cd "$src"
		cat >go.mod <<EOF
module wardtest/etcdbuild

go 1.26

require go.etcd.io/etcd/server/v3 $ETCD_VERSION
EOF
		cat >main.go <<'EOF'
// Command etcd is etcd's own main (etcdmain.Main), for Ward's tests.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
		GOFLAGS=-mod=mod go mod tidy >/dev/null
		GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$CACHE/bin/etcd" .
	)
}

build() {
	mkdir -p "$CACHE/bin"
	exec 9>"$CACHE.lock"
	flock 9
	if have_binaries; then
		return 0
	fi
	local log=$CACHE/build.log
	echo "testcluster: building kube-apiserver, kubectl $K8S_VERSION and etcd $ETCD_VERSION into $CACHE (log: $log)" >&2
	if ! { [[ -x $CACHE/bin/etcd ]] || build_etcd; } >>"$log" 2>&1; then
		die "building etcd $ETCD_VERSION failed (see $log)"
	fi
	if ! { [[ -x $CACHE/bin/kube-apiserver && -x $CACHE/bin/kubectl ]] || build_k8s; } >>"$log" 2>&1; then
		die "building kubernetes $K8S_VERSION failed (see $log)"
	fi
	have_binaries || die "build finished without all binaries (see $log)"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

running() { pid_alive "$RUN/etcd.pid" && pid_alive "$RUN/apiserver.pid" && [[ -f $RUN/kubeconfig ]]; }

ready() {
	curl -fsS --max-time 3 --cacert "$RUN/pki/ca.crt" --cert "$RUN/pki/admin.crt" --key "$RUN/pki/admin.key" \
		"https://127.0.0.1:$(cat "$RUN/apiserver.port")/readyz" >/dev/null 2>&1
}

gen_pki() {
	local d=$RUN/pki
	mkdir -p "$d"
	(
		cd "$d"
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=ward-test-ca" 2>/dev/null
		printf '%s\n' 'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc' \
			'extendedKeyUsage=serverAuth' >server.ext
		openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=kube-apiserver" 2>/dev/null
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 3650 -extfile server.ext 2>/dev/null
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=ward-admin" 2>/dev/null
		openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 3650 -extfile client.ext 2>/dev/null
		openssl genrsa -out sa.key 2048 2>/dev/null
		openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
		rm -f ./*.csr
	)
	# Static bearer tokens: users with no rights of their own.
	printf '%s\n' 'ward-test-token-alice,alice,uid-alice,"devs"' 'ward-test-token-bob,bob,uid-bob' >"$RUN/tokens.csv"
}

write_kubeconfig() {
	local port=$1
	printf '%s\n' \
		'apiVersion: v1' 'kind: Config' 'clusters:' '- name: ward-test' '  cluster:' \
		"    server: https://127.0.0.1:$port" "    certificate-authority: $RUN/pki/ca.crt" \
		'users:' '- name: ward-admin' '  user:' \
		"    client-certificate: $RUN/pki/admin.crt" "    client-key: $RUN/pki/admin.key" \
		'- name: alice' '  user:' '    token: ward-test-token-alice' \
		'contexts:' '- name: ward-test' '  context: {cluster: ward-test, user: ward-admin}' \
		'- name: ward-test-alice' '  context: {cluster: ward-test, user: alice}' \
		'current-context: ward-test' >"$RUN/kubeconfig.tmp"
	mv "$RUN/kubeconfig.tmp" "$RUN/kubeconfig"
}

start() {
	mkdir -p "$RUN"
	exec 8>"$RUN.lock"
	flock 8
	if running && ready; then
		echo "$RUN/kubeconfig"
		return 0
	fi
	stop_procs
	build
	[[ -f $RUN/pki/sa.key ]] || gen_pki
	local bin=$CACHE/bin eport pport aport i
	eport=$(free_port)
	pport=$(free_port)
	aport=$(free_port)
	rm -rf "$RUN/etcd-data"
	# The daemons must not inherit the lock descriptors (8, 9): they would
	# hold the lock for as long as they run.
	setsid "$bin/etcd" --name ward-test --data-dir "$RUN/etcd-data" \
		--listen-client-urls "http://127.0.0.1:$eport" --advertise-client-urls "http://127.0.0.1:$eport" \
		--listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "ward-test=http://127.0.0.1:$pport" --unsafe-no-fsync \
		--quota-backend-bytes=8589934592 --log-level=warn \
		>"$RUN/etcd.log" 2>&1 </dev/null 8>&- 9>&- &
	echo $! >"$RUN/etcd.pid"
	for ((i = 0; i < 100; i++)); do
		curl -fsS --max-time 2 "http://127.0.0.1:$eport/health" >/dev/null 2>&1 && break
		pid_alive "$RUN/etcd.pid" || die "etcd exited (see $RUN/etcd.log)"
		sleep 0.2
	done
	echo "$aport" >"$RUN/apiserver.port"
	setsid "$bin/kube-apiserver" \
		--etcd-servers="http://127.0.0.1:$eport" \
		--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$aport" \
		--tls-cert-file="$RUN/pki/server.crt" --tls-private-key-file="$RUN/pki/server.key" \
		--client-ca-file="$RUN/pki/ca.crt" \
		--token-auth-file="$RUN/tokens.csv" \
		--service-account-issuer=https://kubernetes.default.svc.cluster.local \
		--service-account-key-file="$RUN/pki/sa.pub" \
		--service-account-signing-key-file="$RUN/pki/sa.key" \
		--service-cluster-ip-range=10.0.0.0/24 \
		--authorization-mode=Node,RBAC \
		--enable-admission-plugins=NodeRestriction,PodSecurity \
		--endpoint-reconciler-type=none \
		--anonymous-auth=true \
		--allow-privileged=true \
		--max-requests-inflight=800 --max-mutating-requests-inflight=400 \
		--cert-dir="$RUN/pki" \
		>"$RUN/apiserver.log" 2>&1 </dev/null 8>&- 9>&- &
	echo $! >"$RUN/apiserver.pid"
	write_kubeconfig "$aport"
	for ((i = 0; i < 600; i++)); do
		ready && break
		pid_alive "$RUN/apiserver.pid" || die "kube-apiserver exited (see $RUN/apiserver.log)"
		sleep 0.2
	done
	ready || die "kube-apiserver not ready after 120 s (see $RUN/apiserver.log)"
	# The default namespace's service account (no controller-manager creates it).
	"$bin/kubectl" --kubeconfig "$RUN/kubeconfig" create serviceaccount default -n default >/dev/null 2>&1 || true
	echo "$RUN/kubeconfig"
}

stop_one() {
	local f=$1 pid i
	[[ -f $f ]] || return 0
	pid=$(cat "$f")
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$f"
}

stop_procs() {
	stop_one "$RUN/apiserver.pid"
	stop_one "$RUN/etcd.pid"
}

stop() {
	mkdir -p "$RUN"
	exec 8>"$RUN.lock"
	flock 8
	stop_procs
	rm -rf "$RUN/etcd-data" "$RUN/kubeconfig"
}

case ${1:-} in
build) build ;;
start) start ;;
stop) stop ;;
status) running && ready ;;
kubectl)
	shift
	running || die "not running (scripts/testcluster.sh start)"
	exec "$CACHE/bin/kubectl" --kubeconfig "$RUN/kubeconfig" "$@"
	;;
env)
	printf 'WARD_TESTCLUSTER_DIR=%q\nWARD_TESTCLUSTER_BIN=%q\nWARD_TESTCLUSTER_KUBECONFIG=%q\n' "$RUN" "$CACHE/bin" "$RUN/kubeconfig"
	;;
*)
	echo "usage: $0 build|start|stop|status|kubectl ARGS…|env" >&2
	exit 2
	;;
esac
