package benchmark

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// procDir is where live readings come from; tests point it elsewhere.
const defaultProcDir = "/proc"
const defaultSysDir = "/sys"

const (
	maxProcesses = 65536
	maxProcRead  = 1 << 20
)

// liveSysctl reads /proc/sys/<key>.
func liveSysctl(procDir, key string) (string, error) {
	key = normSysctlKey(key)
	if strings.Contains(key, "..") || strings.ContainsAny(key, "*?[") {
		return "", fmt.Errorf("invalid sysctl key %q", key)
	}
	p := filepath.Join(procDir, "sys", filepath.FromSlash(strings.ReplaceAll(key, ".", "/")))
	data, err := readLive(p, 64<<10)
	if err != nil {
		return "", err
	}
	return strings.Join(strings.Fields(string(data)), " "), nil
}

// loadedModules parses /proc/modules.
func loadedModules(procDir string) (map[string]bool, error) {
	data, err := readLive(filepath.Join(procDir, "modules"), maxProcRead)
	if err != nil {
		return nil, err
	}
	mods := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			mods[normModule(f[0])] = true
		}
	}
	return mods, nil
}

// listener is one listening socket.
type listener struct {
	Proto string // tcp, tcp6, udp, udp6
	Addr  string
	Port  int
	Inode string
}

// listeningSockets parses /proc/net/{tcp,tcp6,udp,udp6}: TCP sockets in
// LISTEN state and bound UDP sockets (state 07, unconnected).
func listeningSockets(procDir string) ([]listener, error) {
	var out []listener
	var firstErr error
	read := 0
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := readLive(filepath.Join(procDir, "net", proto), 8<<20)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		read++
		ls, err := parseProcNet(proto, string(data))
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	if read == 0 {
		return nil, firstErr
	}
	return out, nil
}

func parseProcNet(proto, data string) ([]listener, error) {
	var out []listener
	for i, l := range strings.Split(data, "\n") {
		if i == 0 {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 10 {
			continue
		}
		state := f[3]
		if strings.HasPrefix(proto, "tcp") && state != "0A" {
			continue
		}
		if strings.HasPrefix(proto, "udp") && state != "07" {
			continue
		}
		host, portHex, ok := strings.Cut(f[1], ":")
		if !ok {
			return nil, fmt.Errorf("/proc/net/%s line %d: bad local address %q", proto, i+1, f[1])
		}
		port, err := strconv.ParseUint(portHex, 16, 16)
		if err != nil {
			return nil, fmt.Errorf("/proc/net/%s line %d: bad port %q", proto, i+1, portHex)
		}
		out = append(out, listener{Proto: proto, Addr: procNetAddr(host), Port: int(port), Inode: f[9]})
	}
	return out, nil
}

// procNetAddr decodes the little-endian-per-word hex address.
func procNetAddr(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return h
	}
	for i := 0; i+4 <= len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	if len(b) == 4 {
		return fmt.Sprintf("%d.%d.%d.%d", b[0], b[1], b[2], b[3])
	}
	var parts []string
	for i := 0; i < 16; i += 2 {
		parts = append(parts, strconv.FormatUint(uint64(b[i])<<8|uint64(b[i+1]), 16))
	}
	return strings.Join(parts, ":")
}

// process is one running process.
type process struct {
	PID  int
	Comm string
	Args []string
}

// processes lists running processes from /proc/[pid]/cmdline, bounded.
func processes(procDir string) ([]process, error) {
	d, err := os.Open(procDir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(maxProcesses * 2)
	if err != nil && len(names) == 0 {
		return nil, err
	}
	var out []process
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil || pid <= 0 {
			continue
		}
		if len(out) >= maxProcesses {
			break
		}
		raw, err := readLive(filepath.Join(procDir, n, "cmdline"), 256<<10)
		if err != nil || len(raw) == 0 {
			continue // kernel thread or exited
		}
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		comm, _ := readLive(filepath.Join(procDir, n, "comm"), 256)
		out = append(out, process{PID: pid, Comm: strings.TrimSpace(string(comm)), Args: args})
	}
	return out, nil
}

// findProcess returns the first process whose executable base name is name.
func findProcess(ps []process, name string) (process, bool) {
	for _, p := range ps {
		if len(p.Args) > 0 && filepath.Base(p.Args[0]) == name {
			return p, true
		}
	}
	for _, p := range ps {
		if p.Comm == name {
			return p, true
		}
	}
	return process{}, false
}
