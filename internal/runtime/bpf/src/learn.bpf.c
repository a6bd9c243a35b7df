// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// Ward's syscall and capability learner: which system calls and which
// capabilities each container uses, kept as bitmaps in a map in the
// kernel (no ring buffer record per call). Loaded and attached only when
// learning (ward runtime learn, watch --learn-syscalls): without it, these
// programs cost nothing.
//
// Design:
//   - sched_process_exec enrols a process (tgid) when its leaf cgroup name
//     (default hierarchy, else the first v1 controller) holds a container
//     ID (a run of 64 hex digits): host processes are never enrolled. The
//     container runtime's own init exec'd on the host before it joined the
//     cgroup, so what it does before the entrypoint's exec is not counted;
//   - sched_process_fork enrols the children of enrolled processes,
//     sched_process_exit forgets them;
//   - raw tracepoint sys_enter: one hash lookup of the calling tgid; for an
//     enrolled process, one more lookup and an atomic OR of the call's bit;
//   - raw tracepoint cap_capable (Linux 6.14+): a capability check of an
//     enrolled process sets the capability's bit in "used" when granted,
//     in "denied" when refused.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define NR_WORDS 8 /* 512 system call numbers */
#define NAME 128

struct usage {
	__u64 sys[NR_WORDS];
	__u64 caps_used;
	__u64 caps_denied;
	/* the leaf cgroup names, "dfl\0v1" as the sensor's P_CGROUP */
	__u8 cgroup[2 * NAME];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);   /* tgid */
	__type(value, __u64); /* cgroup kernfs id: key of learn_usage */
} learn_tasks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, struct usage);
} learn_usage SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct usage);
} learn_scratch SEC(".maps");

/* hex64_at reports whether name[start..start+64) are 64 lower-case hex
 * digits. Branch-free (the verifier sees one path): a byte c is in [lo,hi]
 * when (c-lo)|(hi-c) is not negative. */
__noinline int hex64_at(const struct usage *u, __u32 off)
{
	if (!u || off > NAME + 15)
		return 0;
	const __u8 *name = u->cgroup + off;
	int bad = 0;
#pragma clang loop unroll(disable) vectorize(disable)
	for (int i = 0; i < 64; i++) {
		int c = name[i];
		bad |= ((c - '0') | ('9' - c)) & ((c - 'a') | ('f' - c));
	}
	return bad >= 0;
}

/* has_id reports whether a leaf cgroup name holds a container ID where
 * the runtimes put it: "ID" (cgroupfs), "libpod-ID", "docker-ID.scope",
 * "crio-ID.scope", "cri-containerd-ID.scope". User space checks the name
 * again (sensor.ContainerFromCgroup). */
static __always_inline int has_id(const struct usage *u, __u32 base)
{
	return hex64_at(u, base) || hex64_at(u, base + 5) || hex64_at(u, base + 7) || hex64_at(u, base + 15);
}

/* runtime_image reports whether the program just exec'd is the container
 * runtime's own (runc re-executes itself inside the cgroup before it sets
 * the container up, from a sealed memfd copy of itself): its mounts, pivot_root and capability checks are not the
 * workload's. comm is the new image's name, set by exec. */
static __always_inline int runtime_image(const char *comm)
{
	char c[8] = {};
	bpf_probe_read_kernel(c, sizeof(c), comm);
	if (c[0] == 'r' && c[1] == 'u' && c[2] == 'n' && c[3] == 'c')
		return 1; /* runc, runc_cloned:... */
	if (c[0] == 'c' && c[1] == 'r' && c[2] == 'u' && c[3] == 'n' && c[4] == 0)
		return 1;
	if (c[0] == 'y' && c[1] == 'o' && c[2] == 'u' && c[3] == 'k' && c[4] == 'i')
		return 1;
	if (c[0] == 'm' && c[1] == 'e' && c[2] == 'm' && c[3] == 'f' && c[4] == 'd' && c[5] == ':')
		return 1; /* memfd:runc_cloned:/proc/self/exe */
	if (c[0] >= '0' && c[0] <= '9')
		return 1; /* fexecve of an fd (/dev/fd/N) on older kernels */
	return 0;
}

SEC("raw_tracepoint/sched_process_exec")
int ward_learn_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx->args[0];
	__u32 tgid = BPF_CORE_READ(t, tgid);
	if (runtime_image(t->comm)) {
		bpf_map_delete_elem(&learn_tasks, &tgid);
		return 0;
	}
	if (bpf_map_lookup_elem(&learn_tasks, &tgid))
		return 0;
	__u32 zero = 0;
	struct usage *u = bpf_map_lookup_elem(&learn_scratch, &zero);
	if (!u)
		return 0;
#pragma unroll
	for (int i = 0; i < NR_WORDS; i++)
		u->sys[i] = 0;
	u->caps_used = 0;
	u->caps_denied = 0;
	/* All of it: the ID windows must not see a longer name read before. */
	__u64 *w = (__u64 *)u->cgroup;
#pragma unroll
	for (int i = 0; i < 2 * NAME / 8; i++)
		w[i] = 0;
	struct kernfs_node *dfl = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn);
	struct kernfs_node *v1 = BPF_CORE_READ(t, cgroups, subsys[0], cgroup, kn);
	const char *dn = BPF_CORE_READ(dfl, name);
	const char *vn = BPF_CORE_READ(v1, name);
	if (dn)
		bpf_probe_read_kernel_str(u->cgroup, NAME, dn);
	if (vn)
		bpf_probe_read_kernel_str(u->cgroup + NAME, NAME, vn);
	__u64 key;
	if (has_id(u, 0))
		key = BPF_CORE_READ(dfl, id);
	else if (has_id(u, NAME))
		key = BPF_CORE_READ(v1, id);
	else
		return 0; /* a host process */
	bpf_map_update_elem(&learn_usage, &key, u, BPF_NOEXIST);
	bpf_map_update_elem(&learn_tasks, &tgid, &key, BPF_ANY);
	return 0;
}

SEC("raw_tracepoint/sched_process_fork")
int ward_learn_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	if (ptgid == ctgid)
		return 0;
	__u64 *key = bpf_map_lookup_elem(&learn_tasks, &ptgid);
	if (!key)
		return 0;
	__u64 k = *key;
	bpf_map_update_elem(&learn_tasks, &ctgid, &k, BPF_ANY);
	return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int ward_learn_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx->args[0];
	__u32 tgid = BPF_CORE_READ(t, tgid);
	if (BPF_CORE_READ(t, pid) == tgid)
		bpf_map_delete_elem(&learn_tasks, &tgid);
	return 0;
}

static __always_inline struct usage *current_usage(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 *key = bpf_map_lookup_elem(&learn_tasks, &tgid);
	if (!key)
		return 0;
	return bpf_map_lookup_elem(&learn_usage, key);
}

/* sys_enter(struct pt_regs *regs, long id) */
SEC("raw_tracepoint/sys_enter")
int ward_learn_sys(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 nr = ctx->args[1];
	if (nr >= NR_WORDS * 64)
		return 0;
	struct usage *u = current_usage();
	if (!u)
		return 0;
	__sync_fetch_and_or(&u->sys[(nr >> 6) & (NR_WORDS - 1)], 1ULL << (nr & 63));
	return 0;
}

/* cap_capable(const struct cred *cred, struct user_namespace *target_ns,
 * const struct user_namespace *capable_ns, int cap, int ret) */
SEC("raw_tracepoint/cap_capable")
int ward_learn_cap(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 cap = ctx->args[3];
	int ret = (int)ctx->args[4];
	if (cap >= 64)
		return 0;
	/* Only checks of the caller's own (real) credentials: the kernel
	 * checks some on behalf of another cred (a file's opener, f_cred) or
	 * under overridden credentials (overlayfs acts with its mounter's,
	 * which hold every capability): those are not the workload's. */
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	const struct cred *cred = (const struct cred *)ctx->args[0];
	if (cred != BPF_CORE_READ(t, real_cred))
		return 0;
	struct usage *u = current_usage();
	if (!u)
		return 0;
	/* A check granted in a user namespace other than the cred's own (its
	 * owner has every capability in it) needs no capability of the
	 * container's set. */
	if (ret == 0 && (void *)ctx->args[2] != (void *)BPF_CORE_READ(cred, user_ns))
		return 0;
	if (ret == 0)
		__sync_fetch_and_or(&u->caps_used, 1ULL << cap);
	else
		__sync_fetch_and_or(&u->caps_denied, 1ULL << cap);
	return 0;
}
