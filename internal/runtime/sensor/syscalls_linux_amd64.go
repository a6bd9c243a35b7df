package sensor

import (
	"golang.org/x/sys/unix"

	"github.com/wardsec/ward/internal/runtime/event"
)

// Argument kinds, as sensor.bpf.c interprets them.
const (
	kNone          = 0
	kFD            = 1
	kPath          = 2
	kPath2         = 3
	kFlags         = 4
	kMode          = 5
	kArg           = 6
	kArg2          = 7
	kArg3          = 8
	kSockaddr      = 9
	kSockaddrPlen  = 10
	kPipeFDs       = 11
	kSockaddrSrc   = 12
	kOpenHow       = 13
	kCurrentCaps   = 14
	numSyscallArgs = 6
)

// Operations, as sensor.bpf.c interprets them (beyond building the record).
const (
	opOpen  = 1 // the open path filter applies; the result is a new fd
	opClose = 2 // delivered only for fds user space may have in its table; close's alone (the kernel's closes_all resets NR_CLOSE's spec)
	opNewFD = 3 // the result is a new fd
	opFDArg = 4 // the first argument is an fd user space may add (connect)
	opPipe  = 5 // two new fds in the int[2] of the first argument
)

// syscallSpec maps one system call to a Ward event type and says what each
// of its six arguments becomes in the record.
type syscallSpec struct {
	nr    int
	typ   event.Type
	kinds [numSyscallArgs]uint8
	op    uint8
}

// syscalls is the x86-64 table. Successful execs, forks and exits come from
// the sched_process_* tracepoints instead (with the new image and the child).
var syscalls = []syscallSpec{
	{unix.SYS_OPEN, event.TypeOpen, [6]uint8{kPath, kFlags, kMode}, opOpen},
	{unix.SYS_OPENAT, event.TypeOpenat, [6]uint8{kFD, kPath, kFlags, kMode}, opOpen},
	{unix.SYS_OPENAT2, event.TypeOpenat2, [6]uint8{kFD, kPath, kOpenHow}, opOpen},
	{unix.SYS_CREAT, event.TypeCreat, [6]uint8{kPath, kMode}, opOpen},
	{unix.SYS_CLOSE, event.TypeClose, [6]uint8{kFD}, opClose},
	{unix.SYS_READ, event.TypeRead, [6]uint8{kFD}, 0},
	{unix.SYS_WRITE, event.TypeWrite, [6]uint8{kFD}, 0},
	{unix.SYS_CONNECT, event.TypeConnect, [6]uint8{kFD, kSockaddr}, opFDArg},
	{unix.SYS_ACCEPT, event.TypeAccept, [6]uint8{kFD, kSockaddrSrc}, opNewFD},
	{unix.SYS_ACCEPT4, event.TypeAccept4, [6]uint8{kFD, kSockaddrSrc, kNone, kFlags}, opNewFD},
	{unix.SYS_LISTEN, event.TypeListen, [6]uint8{kFD, kArg}, 0},
	{unix.SYS_BIND, event.TypeBind, [6]uint8{kFD, kSockaddr}, 0},
	{unix.SYS_SENDTO, event.TypeSendto, [6]uint8{kFD, kNone, kNone, kNone, kSockaddr}, 0},
	{unix.SYS_SENDMSG, event.TypeSendmsg, [6]uint8{kFD}, 0},
	{unix.SYS_RECVFROM, event.TypeRecvfrom, [6]uint8{kFD, kNone, kNone, kNone, kSockaddrSrc}, 0},
	{unix.SYS_RECVMSG, event.TypeRecvmsg, [6]uint8{kFD}, 0},
	{unix.SYS_SOCKET, event.TypeSocket, [6]uint8{kArg, kArg2, kArg3}, opNewFD},
	{unix.SYS_SOCKETPAIR, event.TypeSocketpair, [6]uint8{kArg, kArg2, kArg3}, 0},
	{unix.SYS_SHUTDOWN, event.TypeShutdown, [6]uint8{kFD, kArg}, 0},
	{unix.SYS_DUP, event.TypeDup, [6]uint8{kFD}, opNewFD},
	{unix.SYS_DUP2, event.TypeDup2, [6]uint8{kFD, kArg}, opNewFD},
	{unix.SYS_DUP3, event.TypeDup3, [6]uint8{kFD, kArg, kFlags}, opNewFD},
	{unix.SYS_SETUID, event.TypeSetuid, [6]uint8{kArg}, 0},
	{unix.SYS_SETGID, event.TypeSetgid, [6]uint8{kArg}, 0},
	{unix.SYS_SETRESUID, event.TypeSetresuid, [6]uint8{kArg, kArg2, kArg3}, 0},
	{unix.SYS_SETRESGID, event.TypeSetresgid, [6]uint8{kArg, kArg2, kArg3}, 0},
	{unix.SYS_SETNS, event.TypeSetns, [6]uint8{kFD, kFlags}, 0},
	{unix.SYS_UNSHARE, event.TypeUnshare, [6]uint8{kFlags}, 0},
	{unix.SYS_CAPSET, event.TypeCapset, [6]uint8{kCurrentCaps}, 0},
	{unix.SYS_PTRACE, event.TypePtrace, [6]uint8{kArg, kArg2}, 0},
	{unix.SYS_MOUNT, event.TypeMount, [6]uint8{kPath, kPath2, kNone, kFlags}, 0},
	{unix.SYS_UMOUNT2, event.TypeUmount2, [6]uint8{kPath, kFlags}, 0},
	{unix.SYS_INIT_MODULE, event.TypeInitModule, [6]uint8{kNone, kArg}, 0},
	{unix.SYS_FINIT_MODULE, event.TypeFinitModule, [6]uint8{kFD, kNone, kFlags}, 0},
	{unix.SYS_BPF, event.TypeBpf, [6]uint8{kArg}, opNewFD},
	{unix.SYS_MEMFD_CREATE, event.TypeMemfdCreate, [6]uint8{kPath, kFlags}, opNewFD},
	{unix.SYS_CHMOD, event.TypeChmod, [6]uint8{kPath, kMode}, 0},
	{unix.SYS_FCHMOD, event.TypeFchmod, [6]uint8{kFD, kMode}, 0},
	{unix.SYS_FCHMODAT, event.TypeFchmodat, [6]uint8{kFD, kPath, kMode}, 0},
	{unix.SYS_LINK, event.TypeLink, [6]uint8{kPath, kPath2}, 0},
	{unix.SYS_LINKAT, event.TypeLinkat, [6]uint8{kFD, kPath, kNone, kPath2, kFlags}, 0},
	{unix.SYS_SYMLINK, event.TypeSymlink, [6]uint8{kPath, kPath2}, 0},
	{unix.SYS_SYMLINKAT, event.TypeSymlinkat, [6]uint8{kPath, kFD, kPath2}, 0},
	{unix.SYS_RENAME, event.TypeRename, [6]uint8{kPath, kPath2}, 0},
	{unix.SYS_RENAMEAT, event.TypeRenameat, [6]uint8{kFD, kPath, kNone, kPath2}, 0},
	{unix.SYS_RENAMEAT2, event.TypeRenameat2, [6]uint8{kFD, kPath, kNone, kPath2, kFlags}, 0},
	{unix.SYS_UNLINK, event.TypeUnlink, [6]uint8{kPath}, 0},
	{unix.SYS_UNLINKAT, event.TypeUnlinkat, [6]uint8{kFD, kPath, kFlags}, 0},
	{unix.SYS_MKDIR, event.TypeMkdir, [6]uint8{kPath, kMode}, 0},
	{unix.SYS_MKDIRAT, event.TypeMkdirat, [6]uint8{kFD, kPath, kMode}, 0},
	{unix.SYS_RMDIR, event.TypeRmdir, [6]uint8{kPath}, 0},
	{unix.SYS_USERFAULTFD, event.TypeUserfaultfd, [6]uint8{kFlags}, opNewFD},
	{unix.SYS_CHOWN, event.TypeChown, [6]uint8{kPath, kArg, kArg2}, 0},
	{unix.SYS_FCHOWN, event.TypeFchown, [6]uint8{kFD, kArg, kArg2}, 0},
	{unix.SYS_FCHOWNAT, event.TypeFchownat, [6]uint8{kFD, kPath, kArg, kArg2, kFlags}, 0},
	{unix.SYS_LCHOWN, event.TypeLchown, [6]uint8{kPath, kArg, kArg2}, 0},
	{unix.SYS_PIPE, event.TypePipe, [6]uint8{kPipeFDs}, opPipe},
	{unix.SYS_PIPE2, event.TypePipe2, [6]uint8{kPipeFDs, kFlags}, opPipe},
	{unix.SYS_KILL, event.TypeKill, [6]uint8{kArg, kArg2}, 0},
	{unix.SYS_CHDIR, event.TypeChdir, [6]uint8{kPath}, 0},
	{unix.SYS_FCHDIR, event.TypeFchdir, [6]uint8{kFD}, 0},
	{unix.SYS_PRCTL, event.TypePrctl, [6]uint8{kArg, kArg2}, 0},
	{unix.SYS_MMAP, event.TypeMmap, [6]uint8{kNone, kArg2, kArg, kFlags, kFD}, 0},
	{unix.SYS_MPROTECT, event.TypeMprotect, [6]uint8{kNone, kArg2, kArg}, 0},
	{unix.SYS_IOCTL, event.TypeIoctl, [6]uint8{kFD, kArg}, 0},
	{unix.SYS_CHROOT, event.TypeChroot, [6]uint8{kPath}, 0},
	{unix.SYS_PIVOT_ROOT, event.TypePivotRoot, [6]uint8{kPath, kPath2}, 0},
	{unix.SYS_SETPGID, event.TypeSetpgid, [6]uint8{kArg, kArg2}, 0},
	{unix.SYS_SETSID, event.TypeSetsid, [6]uint8{}, 0},
	{unix.SYS_EVENTFD, event.TypeEventfd, [6]uint8{kArg}, opNewFD},
	{unix.SYS_EVENTFD2, event.TypeEventfd, [6]uint8{kArg, kFlags}, opNewFD},
	{unix.SYS_SIGNALFD, event.TypeSignalfd, [6]uint8{kFD}, opNewFD},
	{unix.SYS_SIGNALFD4, event.TypeSignalfd, [6]uint8{kFD, kNone, kNone, kFlags}, opNewFD},
	{unix.SYS_INOTIFY_INIT, event.TypeInotifyInit, [6]uint8{}, opNewFD},
	{unix.SYS_INOTIFY_INIT1, event.TypeInotifyInit, [6]uint8{kFlags}, opNewFD},
	{unix.SYS_TIMERFD_CREATE, event.TypeTimerfdCreate, [6]uint8{kArg, kFlags}, opNewFD},
	{unix.SYS_EPOLL_CREATE, event.TypeEpollCreate, [6]uint8{kArg}, opNewFD},
	{unix.SYS_EPOLL_CREATE1, event.TypeEpollCreate, [6]uint8{kFlags}, opNewFD},
	{unix.SYS_IO_URING_SETUP, event.TypeIoUringSetup, [6]uint8{kArg}, opNewFD},
	{unix.SYS_PIDFD_OPEN, event.TypePidfdOpen, [6]uint8{kArg, kFlags}, opNewFD},
	{unix.SYS_PIDFD_GETFD, event.TypePidfdGetfd, [6]uint8{kFD, kArg, kFlags}, opNewFD},
	{unix.SYS_TRUNCATE, event.TypeTruncate, [6]uint8{kPath, kArg}, 0},
	{unix.SYS_FTRUNCATE, event.TypeFtruncate, [6]uint8{kFD, kArg}, 0},
	// Failed execs only: a successful one is reported with its new image.
	{unix.SYS_EXECVE, event.TypeExecve, [6]uint8{kPath}, 0},
	{unix.SYS_EXECVEAT, event.TypeExecveat, [6]uint8{kFD, kPath}, 0},
}
