package sensor

import "strconv"

// Usage is what the kernel-side learner saw one container do: every system
// call it entered and every capability check it made, from the first exec
// inside the container's cgroup (Options.LearnSyscalls).
type Usage struct {
	// ContainerID is the full container ID.
	ContainerID string `json:"container_id"`
	// Syscalls are the system call names entered, sorted.
	Syscalls []string `json:"syscalls"`
	// Capabilities are the capabilities checked and granted (names
	// without the CAP_ prefix, e.g. NET_BIND_SERVICE), sorted.
	Capabilities []string `json:"capabilities,omitempty"`
	// Denied are the capabilities checked and refused.
	Denied []string `json:"denied,omitempty"`
}

// capNames are the capability names by number (without CAP_).
var capNames = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
	"SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN",
	"SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
	"AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND",
	"AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE"}

// CapName is the name of capability number n (without CAP_).
func CapName(n int) string {
	if n >= 0 && n < len(capNames) {
		return capNames[n]
	}
	return "CAP_" + strconv.Itoa(n)
}

// capList names the bits set in m.
func capList(m uint64) []string {
	var out []string
	for i := 0; i < 64; i++ {
		if m&(1<<i) != 0 {
			out = append(out, CapName(i))
		}
	}
	return out
}
