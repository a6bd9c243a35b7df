package benchmark

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Default bounds of the filesystem walk (world-writable, unowned files).
const (
	DefaultWalkMaxFiles = 400000
	DefaultWalkTimeout  = 2500 * time.Millisecond
	maxWalkOffenders    = 500
	maxWalkDepth        = 64
)

// pseudoFS are filesystem types the walk never enters: virtual, network
// and FUSE filesystems (CIS checks local filesystems only).
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "cgroup": true, "cgroup2": true,
	"securityfs": true, "debugfs": true, "tracefs": true, "bpf": true, "pstore": true, "mqueue": true,
	"hugetlbfs": true, "configfs": true, "efivarfs": true, "binfmt_misc": true, "autofs": true,
	"fusectl": true, "nfs": true, "nfs4": true, "cifs": true, "smb3": true, "smbfs": true, "9p": true,
	"fuse": true, "fuse.sshfs": true, "ceph": true, "glusterfs": true, "nsfs": true, "rpc_pipefs": true,
}

// walkOffender is one file the walk flagged.
type walkOffender struct {
	Path   string // display path
	Detail string
}

// walkResult holds what one walk found for all walk checks.
type walkResult struct {
	Files     int
	Truncated string // why the walk stopped early, "" if complete
	Elapsed   time.Duration
	Found     map[string][]walkOffender // by check
}

// walker walks the root once for all walk checks, with a few goroutines
// (the walk is bound by system calls, not CPU).
type walker struct {
	r        *rootFS
	users    map[uint32]bool
	groups   map[uint32]bool
	skip     map[string]bool // in-root absolute paths not entered
	maxFiles int
	deadline time.Time
	ctx      context.Context
	workers  int

	mu    sync.Mutex
	res   *walkResult
	files atomic.Int64
	stop  atomic.Bool
}

func (w *walker) add(check, p, detail string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.res.Found[check]) < maxWalkOffenders {
		w.res.Found[check] = append(w.res.Found[check], walkOffender{Path: w.r.display(p), Detail: detail})
	}
}

func (w *walker) truncate(why string) {
	w.mu.Lock()
	if w.res.Truncated == "" {
		w.res.Truncated = why
	}
	w.mu.Unlock()
	w.stop.Store(true)
}

type walkDir struct {
	path  string
	depth int
}

// walk visits the whole root without following symlinks, bounded by file
// count and time. Offenders are sorted by path.
func (w *walker) walk() *walkResult {
	start := time.Now()
	w.res = &walkResult{Found: map[string][]walkOffender{}}
	if w.workers <= 0 {
		w.workers = 2 * runtime.GOMAXPROCS(0)
		if w.workers > 8 {
			w.workers = 8
		}
	}
	// Directories are handed out through a channel; pending counts the
	// directories queued or being read so the walk knows when it is done.
	var pending sync.WaitGroup
	queue := make(chan walkDir, 1<<16)
	var overflowMu sync.Mutex
	var overflow []walkDir
	push := func(d walkDir) {
		pending.Add(1)
		select {
		case queue <- d:
		default:
			overflowMu.Lock()
			overflow = append(overflow, d)
			overflowMu.Unlock()
		}
	}
	var wg sync.WaitGroup
	for i := 0; i < w.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range queue {
				if !w.stop.Load() {
					w.readDir(d, push)
				}
				pending.Done()
				// Drain the overflow list when the channel has room.
				overflowMu.Lock()
				for len(overflow) > 0 {
					n := overflow[len(overflow)-1]
					select {
					case queue <- n:
						overflow = overflow[:len(overflow)-1]
						continue
					default:
					}
					break
				}
				overflowMu.Unlock()
			}
		}()
	}
	if st, err := w.r.lstat("/"); err == nil {
		w.check("/", st)
		push(walkDir{path: "/"})
	}
	pending.Wait()
	close(queue)
	wg.Wait()
	for k := range w.res.Found {
		sort.Slice(w.res.Found[k], func(i, j int) bool { return w.res.Found[k][i].Path < w.res.Found[k][j].Path })
	}
	w.res.Files = int(w.files.Load())
	w.res.Elapsed = time.Since(start)
	return w.res
}

// check counts one file and tests it.
func (w *walker) check(p string, st fs.FileInfo) bool {
	n := w.files.Add(1)
	if int(n) > w.maxFiles {
		w.truncate("file limit reached")
		return false
	}
	if n&511 == 0 {
		if time.Now().After(w.deadline) {
			w.truncate("time limit reached")
			return false
		}
		if err := w.ctx.Err(); err != nil {
			w.truncate(err.Error())
			return false
		}
	}
	mode := st.Mode()
	if mode&fs.ModeSymlink != 0 {
		return true // never followed; link modes are meaningless
	}
	if uid, gid, ok := fileOwner(st); ok {
		if w.users != nil && !w.users[uid] {
			w.add("unowned", p, "uid "+strconv.Itoa(int(uid)))
		}
		if w.groups != nil && !w.groups[gid] {
			w.add("ungrouped", p, "gid "+strconv.Itoa(int(gid)))
		}
	}
	perm := mode.Perm()
	switch {
	case mode.IsRegular():
		if perm&0o002 != 0 {
			w.add("world_writable", p, mode.String())
		}
	case mode.IsDir():
		if perm&0o002 != 0 && mode&fs.ModeSticky == 0 {
			w.add("sticky_world_writable_dirs", p, mode.String())
		}
	}
	return true
}

// readDir lists one directory (never through a symlink: only entries whose
// own mode is a directory are queued) and checks its entries.
func (w *walker) readDir(d walkDir, push func(walkDir)) {
	if d.depth >= maxWalkDepth {
		return
	}
	f, err := os.OpenFile(filepath.Join(w.r.dir, filepath.FromSlash(d.path)), os.O_RDONLY|openNonblock|openDirectory|openNofollow, 0)
	if err != nil {
		return
	}
	defer f.Close()
	for !w.stop.Load() {
		entries, err := f.ReadDir(1024)
		for _, e := range entries {
			cp := path.Join(d.path, e.Name())
			if w.skip[cp] {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue
			}
			if !w.check(cp, info) {
				return
			}
			if info.IsDir() {
				push(walkDir{path: cp, depth: d.depth + 1})
			}
		}
		if err != nil || len(entries) == 0 {
			return
		}
	}
}
