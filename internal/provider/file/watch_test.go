package file

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// watchCalls runs watch on root and returns a channel that gets a value per
// onChange call. The poll is long, so the events must do the work unless
// the test says otherwise.
func watchCalls(t *testing.T, root string, poll time.Duration) <-chan struct{} {
	t.Helper()
	_, calls := startWatcher(t, root, poll)
	return calls
}

func startWatcher(t *testing.T, root string, poll time.Duration) (*Watcher, <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	calls := make(chan struct{}, 100)
	done := make(chan struct{})
	w := NewWatcher(root)
	w.poll = poll
	go func() {
		defer close(done)
		_ = w.Run(ctx, func() {
			select {
			case calls <- struct{}{}:
			default: // the test drains the calls it waits for
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	time.Sleep(100 * time.Millisecond) // the watches are set up
	return w, calls
}

// The watcher reports every change and leaves the debounce to the run
// loop; Loading makes the poll compare with what the load read, so a
// change already read is not reported again by the next poll.
func TestWatchLoadingAbsorbsWhatWasRead(t *testing.T) {
	for _, loading := range []bool{true, false} {
		dir := t.TempDir()
		write(t, dir, "a.yaml", "a: 1\n")
		w := NewWatcher(dir)
		w.changedSince(fingerprint(dir)) // Run's start
		write(t, dir, "a.yaml", "a: 22\n")
		if loading {
			w.Loading() // what the run loop does before reading
		}
		if polled := w.changedSince(fingerprint(dir)); polled == loading {
			t.Errorf("Loading called %v: the next poll reports a change %v", loading, polled)
		}
	}
}

func waitCall(t *testing.T, calls <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-calls:
	case <-time.After(20 * time.Second):
		t.Fatalf("no reload after %s", what)
	}
	for len(calls) > 0 {
		<-calls
	}
}

func TestWatchSurvivesDirectoryDeletedAndRecreated(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "config")
	write(t, dir, "a.yaml", "a: 1\n")
	calls := watchCalls(t, dir, time.Hour)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitCall(t, calls, "deleting the directory")
	write(t, dir, "a.yaml", "a: 2\n")
	waitCall(t, calls, "recreating the directory")
	time.Sleep(100 * time.Millisecond)
	write(t, dir, "b.yaml", "b: 1\n")
	waitCall(t, calls, "a new file in the recreated directory")
	write(t, dir, "a.yaml", "a: 3\n")
	waitCall(t, calls, "editing a file in the recreated directory")
}

func TestWatchSurvivesDirectoryReplacedByRename(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "config")
	write(t, dir, "a.yaml", "a: 1\n")
	calls := watchCalls(t, dir, time.Hour)
	next := filepath.Join(parent, "config.new")
	write(t, next, "a.yaml", "a: 2\n")
	if err := os.Rename(dir, filepath.Join(parent, "config.old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, dir); err != nil {
		t.Fatal(err)
	}
	waitCall(t, calls, "replacing the directory")
	time.Sleep(100 * time.Millisecond)
	write(t, dir, "a.yaml", "a: 3\n")
	waitCall(t, calls, "editing a file in the new directory")
}

// The poll alone sees a change inotify cannot: the parent of --config
// replaced (so the watch on the parent is stale too).
func TestWatchPollCatchesParentReplaced(t *testing.T) {
	top := t.TempDir()
	dir := filepath.Join(top, "p", "config")
	write(t, dir, "a.yaml", "a: 1\n")
	calls := watchCalls(t, dir, 200*time.Millisecond)
	if err := os.Rename(filepath.Join(top, "p"), filepath.Join(top, "p.old")); err != nil {
		t.Fatal(err)
	}
	write(t, dir, "a.yaml", "a: 2\n")
	waitCall(t, calls, "replacing the parent directory")
}

// kubelet projects a ConfigMap as ..data -> ..<timestamp>/ and
// name.yaml -> ..data/name.yaml; an update swaps ..data by rename.
func TestWatchConfigMapSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	mustDo(t, os.MkdirAll(filepath.Join(dir, "..2026_12_08_01"), 0o755))
	write(t, dir, "..2026_12_08_01/gw.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: one}\n")
	mustDo(t, os.Symlink("..2026_12_08_01", filepath.Join(dir, "..data")))
	mustDo(t, os.Symlink("..data/gw.yaml", filepath.Join(dir, "gw.yaml")))
	l := NewLoader(dir)
	snap, _, err := l.Load()
	if err != nil || len(snap.Services) != 1 || snap.Services[0].Name != "one" {
		t.Fatalf("first load: %v %v", err, snap)
	}
	calls := watchCalls(t, dir, time.Hour)
	write(t, dir, "..2026_12_08_02/gw.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: two}\n")
	mustDo(t, os.Symlink("..2026_12_08_02", filepath.Join(dir, "..data_tmp")))
	mustDo(t, os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")))
	mustDo(t, os.RemoveAll(filepath.Join(dir, "..2026_12_08_01")))
	waitCall(t, calls, "swapping ..data")
	snap, diags, err := l.Load()
	if err != nil || len(snap.Services) != 1 || snap.Services[0].Name != "two" || len(diags) != 0 {
		t.Fatalf("after the swap: %v %v %v", err, snap.Services, diags)
	}
}

func TestFIFOAndSocketAreSkippedWithAWarning(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "ok.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	mustDo(t, syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o644))
	mustDo(t, os.Symlink("pipe.yaml", filepath.Join(dir, "link.yaml")))
	ln, err := net.Listen("unix", filepath.Join(dir, "sock.yaml"))
	mustDo(t, err)
	defer ln.Close()
	done := make(chan struct{})
	var snapOK bool
	var warned int
	go func() {
		defer close(done)
		snap, diags, err := NewLoader(dir).Load()
		snapOK = err == nil && len(snap.Services) == 1
		for _, d := range diags {
			if d.Severity == "warning" && (d.File == "pipe.yaml" || d.File == "link.yaml" || d.File == "sock.yaml") {
				warned++
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Load hangs on a FIFO")
	}
	if !snapOK || warned != 3 {
		t.Errorf("want the regular file served and the FIFO, its symlink and the socket warned about; ok=%v warned=%d", snapOK, warned)
	}
}

func TestTooLargeFileIsAnErrorAndKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "big.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	l := NewLoader(dir)
	if _, _, err := l.Load(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "big.yaml"), os.O_WRONLY|os.O_APPEND, 0)
	mustDo(t, err)
	mustDo(t, f.Truncate(MaxFileSize+1))
	mustDo(t, f.Close())
	snap, diags, err := l.Load()
	if err != nil || len(snap.Services) != 1 || len(diags) != 1 || !contains(diags[0].Message, "16 MiB", "last good version") {
		t.Errorf("want an error naming the limit and the last good Service served, got %v %v", snap, diags)
	}
}

func TestConfigMayBeASingleFile(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "gw.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")
	write(t, dir, "other.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: other}\n")
	snap, diags, err := NewLoader(filepath.Join(dir, "gw.yaml")).Load()
	if err != nil || len(diags) != 0 || len(snap.Services) != 1 || snap.Services[0].Name != "s" {
		t.Fatalf("want only the named file read: %v %v %v", err, diags, snap)
	}
	calls := watchCalls(t, filepath.Join(dir, "gw.yaml"), time.Hour)
	write(t, dir, "gw.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s2}\n")
	waitCall(t, calls, "editing the --config file")
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
