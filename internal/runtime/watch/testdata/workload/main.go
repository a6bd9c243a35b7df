//go:build linux

// Command workload generates system-call-heavy load for the sensor
// benchmarks: "files N" opens, reads and closes a file N times; "spawn N"
// starts /bin/true N times. "reads N" and "closes N" make one kind of call
// only (a read of an open file; a close of an fd that is not open), so that
// per-program BPF statistics split the cost of "files" by system call.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: workload files|spawn N")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	switch os.Args[1] {
	case "files":
		buf := make([]byte, 512)
		for i := 0; i < n; i++ {
			fd, err := syscall.Open("/etc/hostname", syscall.O_RDONLY, 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			syscall.Read(fd, buf)
			syscall.Close(fd)
		}
	case "reads":
		fd, err := syscall.Open("/etc/hostname", syscall.O_RDONLY, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		buf := make([]byte, 512)
		for i := 0; i < n; i++ {
			syscall.Read(fd, buf) // at end of file after the first: cheap, like the loop of "files"
		}
	case "closes":
		for i := 0; i < n; i++ {
			// EBADF: the sensor's close path, nothing closed. Below 63, as
			// most fds are: fds from 63 up share one bit that a parent's
			// (a shell's fd 255) makes every close of its children deliver.
			syscall.Close(60)
		}
	case "spawn":
		for i := 0; i < n; i++ {
			if err := exec.Command("/bin/true").Run(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	default:
		os.Exit(2)
	}
}
