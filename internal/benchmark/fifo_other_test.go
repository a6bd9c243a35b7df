//go:build !unix

package benchmark

import "errors"

func syscallMkfifo(string) error { return errors.New("no FIFOs on this platform") }
