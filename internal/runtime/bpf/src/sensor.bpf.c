// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
//
// Ward's runtime sensor: BPF programs that turn system calls and process
// life-cycle events into records of Ward's event format (see
// docs/runtime.md and internal/runtime/event/codec.go), written straight
// into a ring buffer.
//
// Design:
//   - raw tracepoint sys_exit (no tracefs, no kprobes): for the system
//     calls user space asked for (the `syscall_specs` map, filled from the
//     loaded rules; the unused ones cost a test of immediates) one record is
//     built from the arguments (still in the saved user registers) and the
//     result, according to the call's argument spec;
//   - raw tracepoints sched_process_exec / sched_process_fork /
//     sched_process_exit for successful execs (argv, environment, creds,
//     capabilities, tty, namespaced ids, executable flags: memfd, overlayfs
//     upper/lower layer, writable), forks and exits;
//   - CO-RE (BTF) for every kernel structure read;
//   - a full ring buffer drops the record and counts it: the sensor never
//     blocks the host.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SCRATCH 8192   /* records longer than this lose their last parameters */
#define MAX_STR 4096   /* one path */
#define MAX_LIST 4096  /* argv */
#define MAX_ENV 2048   /* environment */
#define HDR 32
#define NR_MAX 512

/* Parameter IDs of the record format (event/codec.go). */
#define P_FD 1
#define P_PATH 2
#define P_PATH2 3
#define P_FLAGS 4
#define P_MODE 5
#define P_ARG 6
#define P_ARG2 7
#define P_ARG3 8
#define P_ADDR 9
#define P_COMM 16
#define P_ARGS 17
#define P_ENV 18
#define P_CREDS 20
#define P_CAPS 21
#define P_TTY 22
#define P_IDS 23
#define P_EXE 24
#define P_CGROUP 25

/* Event types of the record format (event/event.go). */
#define T_EXECVE 1
#define T_CLONE 3
#define T_PROCEXIT 7

/* Argument kinds of a system call spec (sensor/syscalls.go). */
#define K_NONE 0
#define K_FD 1
#define K_PATH 2
#define K_PATH2 3
#define K_FLAGS 4
#define K_MODE 5
#define K_ARG 6
#define K_ARG2 7
#define K_ARG3 8
#define K_SOCKADDR 9      /* struct sockaddr *, length in the next argument */
#define K_SOCKADDR_PLEN 10 /* struct sockaddr *, pointer to length next (accept) */
#define K_PIPEFDS 11      /* int[2] written by the call */
#define K_SOCKADDR_SRC 12 /* like K_SOCKADDR_PLEN but the peer is the source */
#define K_OPENHOW 13      /* struct open_how *: flags and mode (openat2) */
#define K_CURCAPS 14      /* the calling thread's capabilities after the call (capset) */

/* Exec flags (event.ExeWritable...). */
#define EXE_WRITABLE 1
#define EXE_UPPER 2
#define EXE_MEMFD 4
#define EXE_LOWER 8

#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define CLONE_THREAD 0x00010000

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10

/* What the program does beyond building the record (sensor/syscalls.go). */
#define OP_NONE 0
#define OP_OPEN 1  /* an open: the open path filter applies; ret is a new fd */
#define OP_CLOSE 2 /* close: delivered only for fds user space may track */
#define OP_NEWFD 3 /* ret is a new fd */
#define OP_FDARG 4 /* the first argument is an fd user space may add (connect) */
#define OP_PIPE 5  /* two new fds written to the int[2] of the first argument */

struct spec {
	__u16 type;
	__u8 kinds[6];
	__u8 op;
};

/* The open path filter (rules.OpenFilter): an open of a canonical absolute
 * path that starts with no prefix, ends with no suffix and is not a
 * directory on the way to a prefix is dropped in the kernel. */
#define NPAT 32
#define PATW 8 /* a pattern holds up to 8 words (64 bytes) */
#define PATHBUF 256
/* PHASH: the bucket of a path's first eight bytes in ofilter.pcand (the
 * sensor package computes the same: prefixHash). */
#define PHASH(w) ((__u32)(((w) * 0x9E3779B97F4A7C15ULL) >> 56))

struct pat {
	__u64 w[PATW];
	__u32 len;
	__u32 pad;
};

struct ofilter {
	__u32 on;
	__u32 np;
	__u32 ns;
	__u32 pshort;     /* the prefixes shorter than 8 bytes: candidates for every path (in the first cache line, with the counts) */
	__u32 cand[256];  /* by last byte: the suffixes (bit i: suf[i]) ending with it */
	__u32 cand2[256]; /* by the byte before: the suffixes that can end with it (all for a 1-byte suffix) */
	__u32 pcand[256]; /* by first-word hash (PHASH): the prefixes of 8 bytes or more whose first word hashes there */
	struct pat pre[NPAT];
	struct pat suf[NPAT];
};

struct pathbuf {
	__u8 d[PATHBUF + 8];
};

/* fdtrack: per process (tgid), the fds user space may have in its fd
 * table: bit n for fd n < 63, bit 63 for any fd >= 63. A close of an fd
 * whose bit is clear cannot change user space's state and is dropped. */
#define FD_HIGH 63

struct buf {
	__u8 data[SCRATCH * 2];
};

/* Counters: see sensor.Stats. */
#define C_EVENTS 0
#define C_DROPS 1
#define C_TRUNCATED 2

/* Configuration: [0] the sensor's own tgid (ignored), [1] the amount of
 * unread data (bytes) above which a record wakes the reader up; below it
 * records are written without a wakeup and the reader polls (it checks the
 * ring at least every few milliseconds), which saves a context switch per
 * event under load. */
#define CFG_SELF 0
#define CFG_WAKEUP 1
/* [2] non-zero: a tracking map update failed, closes_all ran (user space
 * then leaves close unfiltered). */
#define CFG_CLOSES_ALL 2
#define NR_CLOSE 3
#define NR_OPEN 2
#define NR_OPENAT 257
#define NR_CREAT 85

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NR_MAX);
	__type(key, __u32);
	__type(value, struct spec);
} syscall_specs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct buf);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} ward_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ofilter);
} open_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u64);
} fdtrack SEC(".maps");

/* fdslots: the same bits, at index tgid, for every tgid below its size
 * (user space sizes it to the kernel's pid_max): every close looks its
 * process up, and an array lookup is inlined where a hash lookup costs a
 * call and a hash. fdtrack holds the tgids above (pid_max raised after the
 * sensor started). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, __u64);
} fdslots SEC(".maps");

struct ectx {
	struct buf *b;
	__u32 off;
	__u16 n;
};

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int ignored(__u32 tgid)
{
	__u32 k = CFG_SELF;
	__u64 *self = bpf_map_lookup_elem(&ward_config, &k);
	return self && *self == tgid;
}

static __always_inline void put_hdr(struct ectx *e, __u32 o, __u16 id, __u16 size)
{
	o &= SCRATCH - 1;
	*(__u16 *)&e->b->data[o] = id;
	*(__u16 *)&e->b->data[o + 2] = size;
}

/* room reports whether size more bytes fit; it counts the truncation. */
static __always_inline int room(struct ectx *e, __u32 size)
{
	if (e->off + size > SCRATCH) {
		count(C_TRUNCATED);
		return 0;
	}
	return 1;
}

static __always_inline void put_u64(struct ectx *e, __u16 id, __u64 v)
{
	if (!room(e, 12))
		return;
	__u32 o = e->off & (SCRATCH - 1);
	put_hdr(e, o, id, 8);
	*(__u64 *)&e->b->data[o + 4] = v;
	e->off = o + 12;
	e->n++;
}

static __always_inline void put_u32(struct ectx *e, __u16 id, __u32 v)
{
	if (!room(e, 8))
		return;
	__u32 o = e->off & (SCRATCH - 1);
	put_hdr(e, o, id, 4);
	*(__u32 *)&e->b->data[o + 4] = v;
	e->off = o + 8;
	e->n++;
}

static __always_inline void put_ustr(struct ectx *e, __u16 id, const void *ptr)
{
	if (!ptr || !room(e, 16))
		return;
	__u32 o = e->off & (SCRATCH - 1);
	long n = bpf_probe_read_user_str(&e->b->data[o + 4], MAX_STR, ptr);
	if (n <= 1)
		return;
	n -= 1; /* the terminating NUL */
	n &= MAX_STR - 1;
	if (e->off + 4 + n > SCRATCH) {
		count(C_TRUNCATED);
		return;
	}
	put_hdr(e, o, id, n);
	e->off = o + 4 + n;
	e->n++;
}

static __always_inline void put_kstr(struct ectx *e, __u16 id, const void *ptr, __u32 max)
{
	if (!ptr || !room(e, 16))
		return;
	__u32 o = e->off & (SCRATCH - 1);
	if (max > MAX_STR)
		max = MAX_STR;
	long n = bpf_probe_read_kernel_str(&e->b->data[o + 4], max, ptr);
	if (n <= 1)
		return;
	n -= 1;
	n &= MAX_STR - 1;
	if (e->off + 4 + n > SCRATCH) {
		count(C_TRUNCATED);
		return;
	}
	put_hdr(e, o, id, n);
	e->off = o + 4 + n;
	e->n++;
}

/* put_umem copies a user memory range (argv, environment: NUL-separated lists). */
static __always_inline void put_umem(struct ectx *e, __u16 id, __u64 start, __u64 end, __u32 max)
{
	if (!start || end <= start || !room(e, 16))
		return;
	__u64 size = end - start;
	if (size > max - 1)
		size = max - 1;
	if (e->off + 4 + size > SCRATCH) {
		size = SCRATCH - 4 - e->off;
		count(C_TRUNCATED);
	}
	size &= MAX_LIST - 1;
	if (size == 0)
		return;
	__u32 o = e->off & (SCRATCH - 1);
	if (bpf_probe_read_user(&e->b->data[o + 4], size, (void *)start) != 0)
		return;
	put_hdr(e, o, id, size);
	e->off = o + 4 + size;
	e->n++;
}

static __always_inline int begin(struct ectx *e, __u16 type, __s64 res, __u32 tgid, __u32 tid)
{
	__u32 zero = 0;
	e->b = bpf_map_lookup_elem(&scratch, &zero);
	if (!e->b)
		return 0;
	e->off = HDR;
	e->n = 0;
	*(__u16 *)&e->b->data[4] = type;
	*(__u64 *)&e->b->data[8] = bpf_ktime_get_ns();
	*(__u32 *)&e->b->data[16] = tgid;
	*(__u32 *)&e->b->data[20] = tid;
	*(__s64 *)&e->b->data[24] = res;
	return 1;
}

static __always_inline int finish(struct ectx *e)
{
	__u32 len = e->off;
	if (len < HDR || len > SCRATCH)
		return 0;
	*(__u32 *)&e->b->data[0] = len;
	*(__u16 *)&e->b->data[6] = e->n;
	__u32 k = CFG_WAKEUP;
	__u64 *wake = bpf_map_lookup_elem(&ward_config, &k);
	__u64 flags = BPF_RB_NO_WAKEUP;
	if (!wake || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= *wake)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, e->b->data, len & (2 * SCRATCH - 1), flags) != 0) {
		count(C_DROPS);
		return 0;
	}
	count(C_EVENTS);
	return 1;
}

/* closes_all makes every close delivered: close's spec loses OP_CLOSE (its
 * op is what the close path reads; user space sets OP_CLOSE once its fd
 * tracking is ready), and CFG_CLOSES_ALL tells user space why. */
static __always_inline void closes_all(void)
{
	__u32 k = NR_CLOSE;
	struct spec *sp = bpf_map_lookup_elem(&syscall_specs, &k);
	if (sp && sp->op == OP_CLOSE)
		sp->op = OP_NONE;
	k = CFG_CLOSES_ALL;
	__u64 *v = bpf_map_lookup_elem(&ward_config, &k);
	if (v)
		*v = 1;
}

/* mark_fd records that user space may now have fd in tgid's table. */
/* or_fd_bits adds bits to tgid's entry, creating it; 0 when the map is full. */
/* fd_bits finds tgid's fd bits: its slot, or its fdtrack entry (NULL
 * when it has none). */
static __always_inline __u64 *fd_bits(__u32 tgid)
{
	__u64 *v = bpf_map_lookup_elem(&fdslots, &tgid);
	if (v)
		return v;
	return bpf_map_lookup_elem(&fdtrack, &tgid);
}

/* set_fd_bits replaces tgid's fd bits; 0 when the map is full. */
static __always_inline int set_fd_bits(__u32 tgid, __u64 bits)
{
	__u64 *v = bpf_map_lookup_elem(&fdslots, &tgid);
	if (v) {
		*v = bits;
		return 1;
	}
	if (!bits) {
		bpf_map_delete_elem(&fdtrack, &tgid);
		return 1;
	}
	return bpf_map_update_elem(&fdtrack, &tgid, &bits, BPF_ANY) == 0;
}

static __always_inline int or_fd_bits(__u32 tgid, __u64 bits)
{
	__u64 *v = fd_bits(tgid);
	if (!v && bpf_map_update_elem(&fdtrack, &tgid, &bits, BPF_NOEXIST) == 0)
		return 1;
	if (!v)
		v = bpf_map_lookup_elem(&fdtrack, &tgid); /* created meanwhile */
	if (!v)
		return 0;
	__sync_fetch_and_or(v, bits);
	return 1;
}

static __always_inline void mark_fd(__u32 tgid, __s64 fd)
{
	if (fd < 0)
		return;
	if (!or_fd_bits(tgid, 1ULL << (fd < FD_HIGH ? fd : FD_HIGH)))
		closes_all(); /* the map is full: stay correct, stop filtering closes */
}

/* close_wanted says whether a close of fd by tgid must be delivered, and
 * clears the fd's bit when it is. Only for OP_CLOSE (fd tracking ready):
 * the test costs no map read beyond the process's bits. */
static __always_inline int close_wanted(__u32 tgid, __s64 fd)
{
	if (fd < 0)
		return 0;
	__u64 *v = fd_bits(tgid);
	if (!v)
		return 0;
	if (fd >= FD_HIGH)
		return (*v >> FD_HIGH) & 1;
	__u64 bit = 1ULL << fd;
	if (!(*v & bit))
		return 0;
	__sync_fetch_and_and(v, ~bit);
	return 1;
}

#define O_DIRECTORY_ 0200000
#define O_PATH_ 010000000

/* low_bytes keeps the first n bytes of a little-endian word (all for n >= 8). */
static __always_inline __u64 low_bytes(__u64 x, __u32 n)
{
	return n < 8 ? x & ((1ULL << (n * 8)) - 1) : x;
}

/* prefix_rest compares bytes 8..m of the path and the pattern. */
__noinline int prefix_rest(const struct pathbuf *pb, __u32 m, const struct pat *q)
{
	if (!pb || !q)
		return 1;
#pragma unroll
	for (int i = 1; i < PATW; i++) {
		__u32 off = i * 8;
		if (off >= m)
			break;
		__u32 rem = m - off;
		if (low_bytes(*(const __u64 *)(pb->d + off), rem) != low_bytes(q->w[i], rem))
			return 0;
	}
	return 1;
}

/* suffix_hit: the path (n bytes) ends with the pattern. */
__noinline int suffix_hit(const struct pathbuf *pb, __u32 n, const struct pat *q)
{
	if (!pb || !q)
		return 1;
	const __u8 *d = pb->d;
	__u32 L = q->len;
	if (L == 0 || L > PATW * 8)
		return 1;
	if (L > n)
		return 0;
	const __u8 *qb = (const __u8 *)q->w;
	for (__u32 i = 1; i <= PATW * 8; i++) {
		if (i > L)
			return 1;
		if (d[(n - i) & (PATHBUF - 1)] != qb[(L - i) & (PATW * 8 - 1)])
			return 0;
	}
	return 1;
}

#define ONES 0x0101010101010101ULL
#define LOW7 0x7f7f7f7f7f7f7f7fULL

/* zero_bytes has the top bit set in each byte of x that is zero (exactly:
 * no false positives). */
static __always_inline __u64 zero_bytes(__u64 x)
{
	__u64 t = (x & LOW7) + LOW7;
	return ~(t | x | LOW7);
}

/* open_wanted applies the open path filter to a path in user memory. The
 * helpers are global functions so that the verifier checks each once. */
__noinline int open_wanted(__u64 upath, __u64 flags)
{
	__u32 zero = 0;
	struct ofilter *f = bpf_map_lookup_elem(&open_filter, &zero);
	if (!f || !f->on)
		return 1;
	if (flags & (O_DIRECTORY_ | O_PATH_))
		return 1; /* a directory: a base for later *at calls and fchdir */
	if (!upath)
		return 1;
	/* The path on the stack: a per-CPU map would cost every open a lookup
	 * and, on a kernel that flushes the TLB at each system call (PTI
	 * without PCID), a page walk. The helper's size covers the whole
	 * buffer, so that every byte the compares read is initialised. */
	struct pathbuf buf;
	struct pathbuf *pb = &buf;
	long r = bpf_probe_read_user_str(pb->d, sizeof(pb->d), (const void *)upath);
	if (r <= 1 || r >= PATHBUF)
		return 1; /* unreadable, empty or longer than the buffer */
	__u32 n = r - 1;
	const __u8 *d = pb->d;
	if (d[0] != '/' || d[(n - 1) & (PATHBUF - 1)] == '/')
		return 1; /* relative (or dirfd-relative), or a trailing slash */
	/* Prefixes: the path starts with the pattern, or is a directory on the
	 * way to it (the pattern continues with '/' right after the path), which
	 * later *at calls and fchdir can use as a base. A path of 8 bytes or more
	 * can only meet a prefix of 8 bytes or more that has the same first
	 * word: pcand, by the word's hash, names those (and pshort the short
	 * prefixes), so most paths compare with none. */
	__u32 np = f->np, ns = f->ns;
	__u64 w0 = *(const __u64 *)d;
	__u32 pm = n < 8 ? 0xffffffffU : f->pcand[PHASH(w0)] | f->pshort;
	for (__u32 i = 0; i < NPAT; i++) {
		if (i >= np || !(pm >> i))
			break;
		if (!((pm >> i) & 1))
			continue;
		const struct pat *q = &f->pre[i];
		__u32 L = q->len;
		if (L == 0 || L > PATW * 8)
			return 1;
		__u32 m = n < L ? n : L;
		if (low_bytes(w0, m) != low_bytes(q->w[0], m))
			continue;
		if (m > 8 && !prefix_rest(pb, m, q))
			continue;
		if (n >= L || ((const __u8 *)q->w)[n & (PATW * 8 - 1)] == '/')
			return 1;
	}
	/* Suffixes: only those that can end with the path's last two bytes (a
	 * path here has at least two: '/' and a last byte that is not). */
	__u32 cand = f->cand[d[(n - 1) & (PATHBUF - 1)]] & f->cand2[d[(n - 2) & (PATHBUF - 1)]];
	for (__u32 i = 0; i < NPAT; i++) {
		if (i >= ns || !(cand >> i))
			break;
		if (((cand >> i) & 1) && suffix_hit(pb, n, &f->suf[i]))
			return 1;
	}
	/* "/." and "//" make a path non-canonical: user space cleans it, and
	 * the compares above may have missed what it names. Eight bytes at a
	 * time: a '/' whose next byte is '/' or '.'. */
	for (__u32 k = 0; k < PATHBUF / 8; k++) {
		__u32 off = k * 8;
		if (off >= n)
			break;
		/* Aligned reads only (the verifier's rule for the stack): the
		 * next bytes are this word shifted and the next word's first. */
		__u64 w = *(const __u64 *)(d + off);
		__u64 nx = w >> 8 | *(const __u64 *)(d + off + 8) << 56;
		__u64 bad = zero_bytes(w ^ (ONES * '/')) & (zero_bytes(nx ^ (ONES * '/')) | zero_bytes(nx ^ (ONES * '.')));
		if (low_bytes(bad, n - off))
			return 1;
	}
	return 0;
}

/* put_sockaddr writes P_ADDR (and P_PATH for AF_UNIX) from a user sockaddr. */
static __always_inline void put_sockaddr(struct ectx *e, const void *uaddr, __u32 len, int source)
{
	if (!uaddr || len < 2 || !room(e, 44))
		return;
	__u16 family = 0;
	if (bpf_probe_read_user(&family, 2, uaddr) != 0)
		return;
	__u8 ip[16] = {};
	__u16 port = 0;
	if (family == AF_INET) {
		struct sockaddr_in sin = {};
		if (bpf_probe_read_user(&sin, sizeof(sin), uaddr) != 0)
			return;
		port = __builtin_bswap16(sin.sin_port);
		ip[10] = 0xff;
		ip[11] = 0xff;
		__builtin_memcpy(&ip[12], &sin.sin_addr.s_addr, 4);
	} else if (family == AF_INET6) {
		struct sockaddr_in6 sin6 = {};
		if (bpf_probe_read_user(&sin6, sizeof(sin6), uaddr) != 0)
			return;
		port = __builtin_bswap16(sin6.sin6_port);
		__builtin_memcpy(ip, &sin6.sin6_addr, 16);
	} else if (family == AF_UNIX) {
		put_ustr(e, P_PATH, (const char *)uaddr + 2);
	} else {
		return;
	}
	if (!room(e, 44))
		return;
	__u32 o = e->off & (SCRATCH - 1);
	put_hdr(e, o, P_ADDR, 40);
	__u8 *p = &e->b->data[o + 4];
	*(__u16 *)p = family;
	p[2] = 0;
	p[3] = 0;
	__builtin_memset(p + 4, 0, 36);
	if (source) {
		__builtin_memcpy(p + 4, ip, 16);
		*(__u16 *)(p + 20) = port;
	} else {
		__builtin_memcpy(p + 22, ip, 16);
		*(__u16 *)(p + 38) = port;
	}
	e->off = o + 44;
	e->n++;
}

static __always_inline void put_caps(struct ectx *e, const struct cred *cred)
{
	if (!room(e, 28))
		return;
	__u32 o = e->off & (SCRATCH - 1);
	put_hdr(e, o, P_CAPS, 24);
	__u8 *p = &e->b->data[o + 4];
	__u64 c = 0;
	bpf_core_read(&c, 8, &cred->cap_effective);
	*(__u64 *)p = c;
	c = 0;
	bpf_core_read(&c, 8, &cred->cap_permitted);
	*(__u64 *)(p + 8) = c;
	c = 0;
	bpf_core_read(&c, 8, &cred->cap_inheritable);
	*(__u64 *)(p + 16) = c;
	e->off = o + 28;
	e->n++;
}

static __always_inline void put_arg(struct ectx *e, __u8 kind, __u64 v, __u64 next, __s64 ret)
{
	switch (kind) {
	case K_FD:
		put_u64(e, P_FD, v);
		break;
	case K_PATH:
		put_ustr(e, P_PATH, (const void *)v);
		break;
	case K_PATH2:
		put_ustr(e, P_PATH2, (const void *)v);
		break;
	case K_FLAGS:
		put_u32(e, P_FLAGS, (__u32)v);
		break;
	case K_MODE:
		put_u32(e, P_MODE, (__u32)v);
		break;
	case K_ARG:
		put_u64(e, P_ARG, v);
		break;
	case K_ARG2:
		put_u64(e, P_ARG2, v);
		break;
	case K_ARG3:
		put_u64(e, P_ARG3, v);
		break;
	case K_SOCKADDR:
		put_sockaddr(e, (const void *)v, (__u32)next, 0);
		break;
	case K_SOCKADDR_PLEN:
	case K_SOCKADDR_SRC: {
		__u32 len = 0;
		if (ret < 0 || !next || bpf_probe_read_user(&len, 4, (const void *)next) != 0)
			break;
		put_sockaddr(e, (const void *)v, len, kind == K_SOCKADDR_SRC);
		break;
	}
	case K_OPENHOW: {
		__u64 how[2] = {};
		if (!v || bpf_probe_read_user(how, sizeof(how), (const void *)v) != 0)
			break;
		put_u32(e, P_FLAGS, (__u32)how[0]);
		put_u32(e, P_MODE, (__u32)how[1]);
		break;
	}
	case K_CURCAPS:
		put_caps(e, BPF_CORE_READ((struct task_struct *)bpf_get_current_task(), real_cred));
		break;
	case K_PIPEFDS: {
		int fds[2] = {};
		if (ret != 0 || !v || bpf_probe_read_user(fds, sizeof(fds), (const void *)v) != 0)
			break;
		put_u64(e, P_ARG, (__u64)(__s64)fds[0]);
		put_u64(e, P_ARG2, (__u64)(__s64)fds[1]);
		break;
	}
	}
}

#define NR_EXECVE 59
#define NR_EXECVEAT 322

/* prefilter decides, from the first three arguments only, whether a close or
 * an open is wanted (the other calls always are). A global function: the
 * verifier checks it once, and the caller learns nothing from its result
 * that would split its own states. */
__noinline int prefilter(__u64 op_tgid, __u64 a0, __u64 a1, __u64 a2, __u64 kinds)
{
	__u32 op = op_tgid >> 32;
	__u32 tgid = (__u32)op_tgid;
	if (op == OP_CLOSE)
		return close_wanted(tgid, (__s64)a0);
	if (op != OP_OPEN)
		return 1;
	__u64 a[3] = {a0, a1, a2};
	__u64 upath = 0, flags = 0;
#pragma unroll
	for (int i = 0; i < 3; i++) {
		__u8 k = (kinds >> (8 * i)) & 0xff;
		if (k == K_PATH)
			upath = a[i];
		else if (k == K_FLAGS)
			flags = a[i];
		else if (k == K_OPENHOW && a[i])
			bpf_probe_read_user(&flags, sizeof(flags), (const void *)a[i]);
	}
	return open_wanted(upath, flags);
}

/* The saved user registers of x86-64 struct pt_regs from r10 to orig_ax,
 * in their order: one read gets the system call number and all six
 * arguments. */
struct regs_tail {
	__u64 r10, r9, r8, ax, cx, dx, si, di, orig_ax;
};

/* WANTED(k) is bits 64k..64k+63 of the wanted system calls' bitmap (bit
 * nr: syscall_specs[nr] is set). The object holds a marker (0x5741524457414e0k,
 * "WARDWAN" and k) that the sensor package replaces with the bitmap in the
 * instructions before loading (patchWanted), so the test costs no memory
 * access. NR_MAX is 512: eight words. */
#define WANTED(k) ({ __u64 _w; asm volatile("%0 = 0x5741524457414e0" #k " ll" : "=r"(_w)); _w; })

/* SELF_TGID() is the sensor's own tgid (ward_config[CFG_SELF]), patched in
 * the same way (marker "WARDSLF\0"): the sys_exit programs read no map for it. */
#define SELF_TGID() ({ __u64 _s; asm volatile("%0 = 0x57415244534c4600 ll" : "=r"(_s)); _s; })

/* The arguments, result and ids of one system call, for emit. */
struct sysargs {
	__u64 a[6];
	__s64 ret;
	__u64 id;
	struct spec s;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sysargs);
} sysargs_buf SEC(".maps");

/* emit builds and writes the record of a wanted system call (sa->s: its
 * spec) and notes the fds it gives user space. A global
 * function: its stack is not added to the open filter's, which holds the
 * path (the verifier bounds the stack of a chain of calls). */
__noinline int emit(const struct sysargs *sa)
{
	if (!sa)
		return 0;
	struct spec s = sa->s;
	__u32 tgid = sa->id >> 32;
	__s64 ret = sa->ret;
	struct ectx e;
	if (!begin(&e, s.type, ret, tgid, (__u32)sa->id))
		return 0;
#pragma unroll
	for (int i = 0; i < 6; i++) {
		if (s.kinds[i] != K_NONE)
			put_arg(&e, s.kinds[i], sa->a[i], i < 5 ? sa->a[i + 1] : 0, ret);
	}
	if (!finish(&e))
		return 0;
	switch (s.op) {
	case OP_OPEN:
	case OP_NEWFD:
		mark_fd(tgid, ret);
		break;
	case OP_FDARG:
		mark_fd(tgid, (__s64)sa->a[0]);
		break;
	case OP_PIPE: {
		int fds[2] = {};
		if (ret == 0 && bpf_probe_read_user(fds, sizeof(fds), (const void *)sa->a[0]) == 0) {
			mark_fd(tgid, fds[0]);
			mark_fd(tgid, fds[1]);
		}
		break;
	}
	}
	return 1;
}

/* on_sys_exit is the body of both sys_exit programs. Exactly one of regs
 * and rt is set: regs is a BTF pointer the program reads directly (tp_btf),
 * rt the registers already copied (raw tracepoint). On x86-64 the saved
 * user registers still hold the arguments when the call returns (only ax
 * changes), so no entry probe is needed. */
static __always_inline int on_sys_exit(struct pt_regs *regs, const struct regs_tail *rt, __s64 ret)
{
	/* Most system calls are not wanted: a test of immediates and out. */
	__u64 nr = rt ? rt->orig_ax : regs->orig_ax;
	if (nr >= NR_MAX)
		return 0;
	/* The wanted system calls' bitmap, in immediates (WANTED): a map
	 * read here would cost most system calls a TLB miss. */
	__u64 w;
	switch (nr >> 6) {
	case 0: w = WANTED(0); break;
	case 1: w = WANTED(1); break;
	case 2: w = WANTED(2); break;
	case 3: w = WANTED(3); break;
	case 4: w = WANTED(4); break;
	case 5: w = WANTED(5); break;
	case 6: w = WANTED(6); break;
	default: w = WANTED(7); break;
	}
	if (!((w >> (nr & 63)) & 1))
		return 0;
	__u64 a0 = rt ? rt->di : regs->di;
	__u64 a1 = rt ? rt->si : regs->si;
	__u64 a2 = rt ? rt->dx : regs->dx;
	/* The calls most programs make most often, open and close, are mostly
	 * dropped: their tests come first and read no spec (their arguments'
	 * places are fixed: sensor/syscalls_linux_amd64.go, which a test
	 * checks against these numbers). */
	int fast_open = nr == NR_OPENAT || nr == NR_OPEN || nr == NR_CREAT;
	if (fast_open) {
		__u64 upath = nr == NR_OPENAT ? a1 : a0;
		__u64 flags = nr == NR_OPENAT ? a2 : nr == NR_OPEN ? a1 : 0;
		if (!open_wanted(upath, flags))
			return 0;
	}
	/* The ids: from the task's BTF pointer (tp_btf), or by the pid/tgid
	 * helper (raw tracepoint); after the open filter, which needs none. */
	__u64 id;
	if (rt) {
		id = bpf_get_current_pid_tgid();
	} else {
		struct task_struct *t = bpf_get_current_task_btf();
		id = (__u64)t->tgid << 32 | (__u32)t->pid;
	}
	__u32 tgid = id >> 32;
	__u32 key = nr;
	struct spec *sp = bpf_map_lookup_elem(&syscall_specs, &key);
	if (!sp || sp->type == 0)
		return 0;
	if (nr == NR_CLOSE) {
		/* close's op is OP_CLOSE once fd tracking is ready (closes_all). */
		if (sp->op == OP_CLOSE && !close_wanted(tgid, (__s64)a0))
			return 0;
	} else if (!fast_open) {
		__u64 kinds = sp->kinds[0] | (__u64)sp->kinds[1] << 8 | (__u64)sp->kinds[2] << 16;
		if (!prefilter((__u64)sp->op << 32 | tgid, a0, a1, a2, kinds))
			return 0;
	}
	if (tgid == SELF_TGID())
		return 0; /* the sensor's own process */
	/* A successful exec is reported by sched_process_exec, with the new image. */
	if ((nr == NR_EXECVE || nr == NR_EXECVEAT) && ret == 0)
		return 0;
	/* emit's arguments in a per-CPU map, not on the stack: the open
	 * filter's stack and this program's are added up by the verifier. */
	__u32 zero = 0;
	struct sysargs *sa = bpf_map_lookup_elem(&sysargs_buf, &zero);
	if (!sa)
		return 0;
	sa->a[0] = a0;
	sa->a[1] = a1;
	sa->a[2] = a2;
	if (rt) {
		sa->a[3] = rt->r10;
		sa->a[4] = rt->r8;
		sa->a[5] = rt->r9;
	} else {
		sa->a[3] = regs->r10;
		sa->a[4] = regs->r8;
		sa->a[5] = regs->r9;
	}
	sa->ret = ret;
	sa->id = id;
	sa->s = *sp;
	emit(sa);
	return 0;
}

/* tp_btf/sys_exit(struct pt_regs *regs, long ret): the registers are read
 * in place, without a helper call; the default. ward_sys_exit_raw is for
 * kernels that refuse it (sensor.Options.RawTracepoint forces it). */
SEC("tp_btf/sys_exit")
int ward_sys_exit(__u64 *ctx)
{
	return on_sys_exit((struct pt_regs *)ctx[0], 0, (__s64)ctx[1]);
}

SEC("raw_tracepoint/sys_exit")
int ward_sys_exit_raw(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	struct regs_tail rt;
	if (bpf_probe_read_kernel(&rt, sizeof(rt), (void *)regs + __builtin_offsetof(struct pt_regs, r10)) != 0)
		return 0;
	return on_sys_exit(0, &rt, (__s64)ctx->args[1]);
}

/* ward_seed is never attached: user space runs it (BPF_PROG_TEST_RUN) to
 * add the fds of its /proc snapshot to fdtrack, atomically with respect to
 * the programs' own updates. args: tgid, fd bits. */
SEC("raw_tracepoint/ward_seed")
int ward_seed(struct bpf_raw_tracepoint_args *ctx)
{
	return or_fd_bits((__u32)ctx->args[0], ctx->args[1]) ? 0 : 1;
}

static __always_inline __u32 pid_nr_ns(struct pid *pid)
{
	if (!pid)
		return 0;
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid up = {};
	bpf_core_read(&up, sizeof(up), &pid->numbers[level & 31]);
	return up.nr;
}

static __always_inline __u32 pid_of_type(struct task_struct *t, int type)
{
	struct pid *pid = BPF_CORE_READ(t, signal, pids[type]);
	if (!pid)
		return 0;
	struct upid up = {};
	bpf_core_read(&up, sizeof(up), &pid->numbers[0]);
	return up.nr;
}

/* put_cgroup writes the leaf cgroup names (default hierarchy, then the first
 * v1 controller) as "dfl\0v1": user space finds the container ID in them. */
static __always_inline void put_cgroup(struct ectx *e, struct task_struct *t)
{
	if (!room(e, 4 + 256 + 16))
		return;
	__u32 o = e->off & (SCRATCH - 1);
	const char *dfl = BPF_CORE_READ(t, cgroups, dfl_cgrp, kn, name);
	const char *v1 = BPF_CORE_READ(t, cgroups, subsys[0], cgroup, kn, name);
	long n1 = 0, n2 = 0;
	if (dfl)
		n1 = bpf_probe_read_kernel_str(&e->b->data[o + 4], 128, dfl);
	if (n1 < 1) {
		n1 = 1;
		e->b->data[(o + 4) & (2 * SCRATCH - 1)] = 0;
	}
	n1 &= 127;
	if (v1)
		n2 = bpf_probe_read_kernel_str(&e->b->data[o + 4 + n1], 128, v1);
	if (n2 < 0)
		n2 = 0;
	n2 &= 127;
	put_hdr(e, o, P_CGROUP, n1 + n2);
	e->off = o + 4 + n1 + n2;
	e->n++;
}

static __always_inline void put_task(struct ectx *e, struct task_struct *t)
{
	put_kstr(e, P_COMM, t->comm, 16);
	const struct cred *cred = BPF_CORE_READ(t, real_cred);
	if (room(e, 28)) {
		__u32 o = e->off & (SCRATCH - 1);
		put_hdr(e, o, P_CREDS, 24);
		__u8 *p = &e->b->data[o + 4];
		*(__u32 *)p = BPF_CORE_READ(cred, uid.val);
		*(__u32 *)(p + 4) = BPF_CORE_READ(cred, gid.val);
		*(__u32 *)(p + 8) = BPF_CORE_READ(cred, euid.val);
		*(__u32 *)(p + 12) = BPF_CORE_READ(cred, egid.val);
		__s64 login = -1;
		if (bpf_core_field_exists(t->loginuid)) {
			__u32 l = BPF_CORE_READ(t, loginuid.val);
			if (l != 0xffffffff)
				login = l;
		}
		*(__s64 *)(p + 16) = login;
		e->off = o + 28;
		e->n++;
	}
	put_caps(e, cred);
	struct tty_struct *tty = BPF_CORE_READ(t, signal, tty);
	if (tty) {
		int index = BPF_CORE_READ(tty, index);
		int major = BPF_CORE_READ(tty, driver, major);
		int minor = BPF_CORE_READ(tty, driver, minor_start);
		put_u32(e, P_TTY, ((__u32)major << 20) | (__u32)(minor + index));
	}
	if (room(e, 28)) {
		__u32 o = e->off & (SCRATCH - 1);
		put_hdr(e, o, P_IDS, 24);
		__u8 *p = &e->b->data[o + 4];
		*(__u32 *)p = BPF_CORE_READ(t, real_parent, tgid);
		*(__u32 *)(p + 4) = pid_of_type(t, 2); /* PIDTYPE_PGID */
		*(__u32 *)(p + 8) = pid_of_type(t, 3); /* PIDTYPE_SID */
		*(__u32 *)(p + 12) = pid_nr_ns(BPF_CORE_READ(t, group_leader, thread_pid));
		*(__u32 *)(p + 16) = pid_nr_ns(BPF_CORE_READ(t, thread_pid));
		*(__u32 *)(p + 20) = 0;
		e->off = o + 28;
		e->n++;
	}
	put_cgroup(e, t);
}

/* The inode's change and modification times moved across kernel versions:
 * i_ctime_sec/i_ctime_nsec (6.11+), __i_ctime (6.6-6.10), i_ctime (older). */
struct inode___v66 {
	struct timespec64 __i_ctime;
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

struct inode___old {
	struct timespec64 i_ctime;
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

static __always_inline void inode_times(struct inode *ino, __s64 *ct, __s64 *mt)
{
	if (bpf_core_field_exists(ino->i_ctime_sec)) {
		/* Multigrain timestamps (6.13+) keep a flag in the top bit of
		 * i_ctime_nsec (I_CTIME_QUERIED); nanoseconds fit in 30 bits. */
		*ct = BPF_CORE_READ(ino, i_ctime_sec) * 1000000000LL + (BPF_CORE_READ(ino, i_ctime_nsec) & 0x3fffffff);
		*mt = BPF_CORE_READ(ino, i_mtime_sec) * 1000000000LL + (BPF_CORE_READ(ino, i_mtime_nsec) & 0x3fffffff);
		return;
	}
	struct inode___v66 *v = (void *)ino;
	if (bpf_core_field_exists(v->__i_ctime)) {
		*ct = BPF_CORE_READ(v, __i_ctime.tv_sec) * 1000000000LL + BPF_CORE_READ(v, __i_ctime.tv_nsec);
		*mt = BPF_CORE_READ(v, i_mtime.tv_sec) * 1000000000LL + BPF_CORE_READ(v, i_mtime.tv_nsec);
		return;
	}
	struct inode___old *o = (void *)ino;
	if (bpf_core_field_exists(o->i_ctime)) {
		*ct = BPF_CORE_READ(o, i_ctime.tv_sec) * 1000000000LL + BPF_CORE_READ(o, i_ctime.tv_nsec);
		*mt = BPF_CORE_READ(o, i_mtime.tv_sec) * 1000000000LL + BPF_CORE_READ(o, i_mtime.tv_nsec);
	}
}

static __always_inline void put_exe(struct ectx *e, struct task_struct *t, const struct cred *cred)
{
	struct file *f = BPF_CORE_READ(t, mm, exe_file);
	if (!f || !room(e, 36))
		return;
	struct inode *ino = BPF_CORE_READ(f, f_inode);
	__u32 flags = 0;
	char name[8] = {};
	const unsigned char *dn = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	if (dn && bpf_probe_read_kernel(name, 6, dn) == 0 && name[0] == 'm' && name[1] == 'e' && name[2] == 'm' &&
	    name[3] == 'f' && name[4] == 'd' && name[5] == ':')
		flags |= EXE_MEMFD;
	if (BPF_CORE_READ(ino, i_sb, s_magic) == OVERLAYFS_SUPER_MAGIC) {
		struct ovl_inode *oi = container_of(ino, struct ovl_inode, vfs_inode);
		struct dentry *upper = BPF_CORE_READ(oi, __upperdentry);
		flags |= upper ? EXE_UPPER : EXE_LOWER;
	}
	umode_t mode = BPF_CORE_READ(ino, i_mode);
	__u32 iuid = BPF_CORE_READ(ino, i_uid.val);
	__u32 igid = BPF_CORE_READ(ino, i_gid.val);
	__u32 uid = BPF_CORE_READ(cred, fsuid.val);
	__u32 gid = BPF_CORE_READ(cred, fsgid.val);
	if (uid == 0 || (uid == iuid && (mode & 0200)) || (gid == igid && (mode & 0020)) || (mode & 0002))
		flags |= EXE_WRITABLE;
	__u32 o = e->off & (SCRATCH - 1);
	put_hdr(e, o, P_EXE, 32);
	__u8 *p = &e->b->data[o + 4];
	*(__u32 *)p = flags;
	*(__u32 *)(p + 4) = 0;
	*(__u64 *)(p + 8) = BPF_CORE_READ(ino, i_ino);
	__s64 ct = 0, mt = 0;
	inode_times(ino, &ct, &mt);
	*(__s64 *)(p + 16) = ct;
	*(__s64 *)(p + 24) = mt;
	e->off = o + 36;
	e->n++;
}

/* sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) */
SEC("raw_tracepoint/sched_process_exec")
int ward_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx->args[0];
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	__u32 tgid = BPF_CORE_READ(t, tgid);
	if (ignored(tgid))
		return 0;
	struct ectx e;
	if (!begin(&e, T_EXECVE, 0, tgid, BPF_CORE_READ(t, pid)))
		return 0;
	put_kstr(&e, P_PATH, BPF_CORE_READ(bprm, filename), MAX_STR);
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	put_umem(&e, P_ARGS, BPF_CORE_READ(mm, arg_start), BPF_CORE_READ(mm, arg_end), MAX_LIST);
	put_task(&e, t);
	put_exe(&e, t, BPF_CORE_READ(t, real_cred));
	put_umem(&e, P_ENV, BPF_CORE_READ(mm, env_start), BPF_CORE_READ(mm, env_end), MAX_ENV);
	finish(&e);
	return 0;
}

/* sched_process_fork(struct task_struct *parent, struct task_struct *child) */
SEC("raw_tracepoint/sched_process_fork")
int ward_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	if (ignored(ptgid))
		return 0;
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct ectx e;
	if (!begin(&e, T_CLONE, BPF_CORE_READ(child, pid), ptgid, BPF_CORE_READ(parent, pid)))
		return 0;
	put_u32(&e, P_FLAGS, ctgid == ptgid ? CLONE_THREAD : 0);
	if (ctgid != ptgid)
		put_cgroup(&e, child);
	finish(&e);
	if (ctgid != ptgid) {
		/* The child inherits its parent's fds, and user space copies the
		 * parent's table: so do the fd bits. A child sharing the parent's
		 * table (CLONE_FILES without CLONE_THREAD) gets every close of
		 * both delivered. */
		__u64 *pv = fd_bits(ptgid);
		__u64 bits = pv ? *pv : 0;
		if (BPF_CORE_READ(child, files) == BPF_CORE_READ(parent, files)) {
			bits = ~0ULL;
			if (pv)
				*pv = ~0ULL;
			else if (!set_fd_bits(ptgid, bits))
				closes_all();
		}
		if (!set_fd_bits(ctgid, bits))
			closes_all();
	}
	return 0;
}

/* sched_process_exit(struct task_struct *p): reported once per process. */
SEC("raw_tracepoint/sched_process_exit")
int ward_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx->args[0];
	__u32 tgid = BPF_CORE_READ(t, tgid);
	__u32 pid = BPF_CORE_READ(t, pid);
	if (pid != tgid || ignored(tgid))
		return 0;
	struct ectx e;
	set_fd_bits(tgid, 0);
	if (!begin(&e, T_PROCEXIT, BPF_CORE_READ(t, exit_code), tgid, pid))
		return 0;
	finish(&e);
	return 0;
}
