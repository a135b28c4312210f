package file

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch calls onChange once things settle after any change under dir
// (debounced), until ctx ends. New subdirectories are watched as they appear.
// Editors that save by rename or delete-and-create are covered because any
// event triggers a full (content-hashed, so cheap) reload.
func Watch(ctx context.Context, dir string, debounce time.Duration, onChange func()) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	addTree := func(root string) {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				_ = w.Add(p)
			}
			return nil
		})
	}
	addTree(dir)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Has(fsnotify.Create) {
				if st, err := os.Stat(ev.Name); err == nil && st.IsDir() {
					addTree(ev.Name)
				}
			}
			timer.Reset(debounce)
		case <-w.Errors:
			timer.Reset(debounce) // an overflow loses events: reload to be safe
		case <-timer.C:
			onChange()
		}
	}
}
