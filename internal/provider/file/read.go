package file

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Limits on reading one file (doc.go says why).
const (
	// MaxFileSize is the largest file read; a larger one is an error and
	// its last good version is kept.
	MaxFileSize = 16 << 20
	// ReadTimeout bounds the time to open and read one file.
	ReadTimeout = 10 * time.Second
)

// candidate is a file the walk found, or a reason it was skipped.
type candidate struct {
	path string
	skip string // non-empty: a warning, the file is not read
}

// inputFiles lists the YAML files under root (a directory, walked
// recursively, hidden entries skipped) or root itself when it is a file.
// Entries that are not regular files (named pipes, sockets, devices,
// symlinks to directories) are skipped with a reason, without being opened.
func inputFiles(root string) (base string, out []candidate, err error) {
	st, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("--config %s does not exist (deleted or renamed?); create it again, it is watched", root)
	}
	if err != nil {
		return "", nil, fmt.Errorf("--config %s: %w", root, err)
	}
	if !st.IsDir() {
		base = filepath.Dir(root)
		c := candidate{path: root}
		if !st.Mode().IsRegular() {
			return "", nil, fmt.Errorf("--config %s: %s, not a regular file or directory", root, modeName(st.Mode()))
		}
		return base, []candidate{c}, nil
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			out = append(out, candidate{path: p, skip: err.Error()})
			return nil
		}
		hidden := strings.HasPrefix(d.Name(), ".")
		if d.IsDir() {
			if p != root && hidden {
				return filepath.SkipDir // editor and VCS metadata, ConfigMap ..data
			}
			return nil
		}
		ext := filepath.Ext(p)
		if hidden || (ext != ".yaml" && ext != ".yml") {
			return nil
		}
		c := candidate{path: p}
		if !d.Type().IsRegular() {
			// Symlinks (ConfigMap volumes) are followed; a stat never blocks.
			if st, err := os.Stat(p); err != nil {
				c.skip = err.Error()
			} else if !st.Mode().IsRegular() {
				c.skip = modeName(st.Mode()) + ", not a regular file; skipped (only regular files and symlinks to them are read)"
			}
		}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("reading --config directory %s: %w", root, err)
	}
	slices.SortFunc(out, func(a, b candidate) int { return strings.Compare(a.path, b.path) })
	return root, out, nil
}

func modeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	}
	return "a special file (" + m.Type().String() + ")"
}

var errTooSlow = errors.New("reading took longer than " + ReadTimeout.String() + "; check the file system")

// readBounded reads a regular file of at most MaxFileSize bytes within
// ReadTimeout. It opens without blocking, so a FIFO swapped in after the walk
// cannot hang it, and checks the opened file is regular.
func readBounded(path string) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := readFile(path)
		ch <- result{b, err}
	}()
	t := time.NewTimer(ReadTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.b, r.err
	case <-t.C:
		return nil, errTooSlow // the reader ends with the read, if ever
	}
}

func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s, not a regular file; skipped", modeName(st.Mode()))
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%d bytes, more than the %d MiB limit of one file; split it into several files", st.Size(), MaxFileSize>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err == nil && len(b) > MaxFileSize {
		err = fmt.Errorf("more than the %d MiB limit of one file; split it into several files", MaxFileSize>>20)
	}
	return b, err
}
