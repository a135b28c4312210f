package file

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// PollInterval is how often Watch also compares a stat-only fingerprint of
// the input, to catch what inotify cannot: the --config directory deleted
// and recreated or replaced, a parent directory swapped, lost events.
const PollInterval = 2 * time.Second

// Watcher sees changes under root (a directory or one file). It watches
// the tree (new subdirectories as they appear) and the parent of root, so
// root being deleted, recreated or replaced (renamed over) is seen, as are
// ConfigMap volume updates (the ..data symlink swapped to a new
// directory). A poll of a fingerprint (names, sizes, modification times
// and inodes, from stat only: nothing is opened) backs the events up and
// re-establishes the watches after any change. Any change calls for a full
// (content-hashed, so cheap) reload.
//
// It does not debounce: every change it sees calls onChange, and the
// caller's run loop (internal/runloop) coalesces them. The caller calls
// Loading before each load, so that the poll compares with what the load
// read and does not report the same change again.
type Watcher struct {
	root string
	poll time.Duration

	mu   sync.Mutex
	last uint64 // the fingerprint of the input last read (or seen by the poll)
}

// NewWatcher returns a Watcher of root, polling every PollInterval.
func NewWatcher(root string) *Watcher { return &Watcher{root: root, poll: PollInterval} }

// Loading records the fingerprint of the input about to be read.
func (w *Watcher) Loading() {
	fp := fingerprint(w.root)
	w.mu.Lock()
	w.last = fp
	w.mu.Unlock()
}

// changedSince records fp and reports whether it differs from the last.
func (w *Watcher) changedSince(fp uint64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	changed := fp != w.last
	w.last = fp
	return changed
}

// Run calls onChange (which must not block) for every change under root
// until ctx ends.
func (w *Watcher) Run(ctx context.Context, onChange func()) error {
	root := w.root
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching --config %s: %w", root, err)
	}
	defer fw.Close()
	resync := func() {
		_ = fw.Add(filepath.Dir(root))
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				if p != root && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				_ = fw.Add(p)
			}
			return nil
		})
	}
	resync()
	w.changedSince(fingerprint(root))
	ticker := time.NewTicker(w.poll)
	defer ticker.Stop()
	inRoot := func(name string) bool {
		return name == root || strings.HasPrefix(name, root+string(filepath.Separator))
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			if !inRoot(ev.Name) {
				continue // a sibling of root in its parent
			}
			if ev.Has(fsnotify.Create) || ev.Name == root {
				resync()
			}
			onChange()
		case <-fw.Errors:
			onChange() // an overflow loses events: reload to be safe
		case <-ticker.C:
			if w.changedSince(fingerprint(root)) {
				resync()
				onChange()
			}
		}
	}
}

// fingerprint hashes what stat says of root and of every file the loader
// would read, following symlinks. It never opens a file.
func fingerprint(root string) uint64 {
	h := fnv.New64a()
	add := func(p string) {
		st, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(h, "%s!%v\n", p, err)
			return
		}
		var ino uint64
		if s, ok := st.Sys().(*syscall.Stat_t); ok {
			ino = s.Ino
		}
		fmt.Fprintf(h, "%s|%d|%d|%d|%v\n", p, st.Size(), st.ModTime().UnixNano(), ino, st.Mode())
	}
	add(root)
	_, cands, err := inputFiles(root)
	if err != nil {
		return h.Sum64()
	}
	for _, c := range cands {
		add(c.path)
	}
	return h.Sum64()
}
