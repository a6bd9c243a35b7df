//go:build linux

// Command opener drives the sensor's kernel filter tests: it opens each
// path argument (O_RDONLY with openat; "dir:PATH" with O_DIRECTORY;
// "open:PATH", "creat:PATH" and "openat2:PATH" with those system calls;
// "cd:DIR" changes directory instead), prints "ARG FD" per open, waits for
// a line on stdin, then closes every fd in order.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	var fds []int
	for _, a := range os.Args[1:] {
		switch {
		case strings.HasPrefix(a, "cd:"):
			if err := syscall.Chdir(a[3:]); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			continue
		case strings.HasPrefix(a, "dir:"):
			fd, err := syscall.Open(a[4:], syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fds = append(fds, fd)
			fmt.Println(a, fd)
		case strings.HasPrefix(a, "open:"), strings.HasPrefix(a, "creat:"), strings.HasPrefix(a, "openat2:"):
			mode, path, _ := strings.Cut(a, ":")
			p, err := unix.BytePtrFromString(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			var fd int
			switch mode {
			case "open":
				r, _, e := unix.Syscall(unix.SYS_OPEN, uintptr(unsafe.Pointer(p)), unix.O_RDONLY, 0)
				fd, err = int(r), errnoErr(e)
			case "creat":
				r, _, e := unix.Syscall(unix.SYS_CREAT, uintptr(unsafe.Pointer(p)), 0o600, 0)
				fd, err = int(r), errnoErr(e)
			default:
				fd, err = unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{Flags: unix.O_RDONLY})
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, a, err)
				os.Exit(1)
			}
			fds = append(fds, fd)
			fmt.Println(a, fd)
		default:
			fd, err := syscall.Open(a, syscall.O_RDONLY, 0)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fds = append(fds, fd)
			fmt.Println(a, fd)
		}
	}
	bufio.NewReader(os.Stdin).ReadString('\n')
	for _, fd := range fds {
		syscall.Close(fd)
	}
}

func errnoErr(e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}
