//go:build linux

// Command opener drives the sensor's kernel filter tests: it opens each
// path argument (O_RDONLY; "dir:PATH" with O_DIRECTORY; "cd:DIR" changes
// directory instead), prints "PATH FD" per open, waits for a line on
// stdin, then closes every fd in order.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"syscall"
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
