package file

import (
	"context"
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// PollInterval is how often Watch also compares a stat-only fingerprint of
// the input, to catch what inotify cannot: the --config directory deleted
// and recreated or replaced, a parent directory swapped, lost events.
const PollInterval = 2 * time.Second

// Watch calls onChange once things settle after any change under root (a
// directory or one file), debounced, until ctx ends. It watches the tree
// (new subdirectories as they appear) and the parent of root, so root being
// deleted, recreated or replaced (renamed over) is seen, as are ConfigMap
// volume updates (the ..data symlink swapped to a new directory). A poll of
// a fingerprint (names, sizes, modification times and inodes, from stat
// only: nothing is opened) backs the events up and re-establishes the
// watches after any change. Any change triggers a full (content-hashed, so
// cheap) reload.
func Watch(ctx context.Context, root string, debounce time.Duration, onChange func()) error {
	return watch(ctx, root, debounce, PollInterval, onChange)
}

func watch(ctx context.Context, root string, debounce, poll time.Duration, onChange func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching --config %s: %w", root, err)
	}
	defer w.Close()
	resync := func() {
		_ = w.Add(filepath.Dir(root))
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				if p != root && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				_ = w.Add(p)
			}
			return nil
		})
	}
	resync()
	last := fingerprint(root)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	inRoot := func(name string) bool {
		return name == root || strings.HasPrefix(name, root+string(filepath.Separator))
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if !inRoot(ev.Name) {
				continue // a sibling of root in its parent
			}
			if ev.Has(fsnotify.Create) || ev.Name == root {
				resync()
			}
			timer.Reset(debounce)
		case <-w.Errors:
			timer.Reset(debounce) // an overflow loses events: reload to be safe
		case <-ticker.C:
			if fp := fingerprint(root); fp != last {
				last = fp
				resync()
				timer.Reset(debounce)
			}
		case <-timer.C:
			last = fingerprint(root)
			onChange()
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
