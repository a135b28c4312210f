// Package file is the standalone provider: it reads every *.yaml and *.yml
// file under a directory (recursively, multi-document, strictly decoded), or
// one named file, into a resource.Snapshot, and watches it for changes.
//
// It plays the API server's part: it applies the CRD defaults, assigns
// metadata.generation (bumped when an object's spec changes) and a stable
// creationTimestamp (first seen) to objects that do not set them.
//
// Decisions:
//
//   - Per document. Each document of a file is decoded on its own (decode,
//     the one point where a document's bytes become an object): a broken
//     document costs only itself, at start as at reload. While it is broken,
//     the last good version of the same document is served. "The same" is
//     the document with the same kind, namespace and name, read leniently
//     from the YAML nodes of the broken text (so a typo in spec keeps the
//     object); when the broken text cannot be named (a syntax error, no
//     name), the document at the same position, if that one's identity is
//     not claimed by another document of the new text. A document removed
//     from the file removes its object. Last good versions live in memory:
//     after a restart a broken document serves nothing.
//   - Messages. A decode error names the object (kind namespace/name), the
//     field path with list indices (spec.rules[1].filters[0].
//     requestHeaderModifier) and the file line of that field, and says what
//     the field takes in YAML terms (a mapping, a list, a string, a whole
//     number), never Go type names. Type errors are located by decoding
//     again with encoding/json, whose errors carry an offset, mapped to a
//     path and then, through yaml.v3 nodes, to a line. A kind read in
//     another version is told the version to use; other kinds are warnings.
//     Loader.Locate puts the file and line in front of the graph's warnings.
//   - Reading. Only regular files (and symlinks to them) are read: named
//     pipes, sockets and devices are skipped with a warning, from stat alone,
//     and files are opened O_NONBLOCK and checked again, so a FIFO can never
//     block a load. A file is at most MaxFileSize (16 MiB: far above any
//     real configuration, small enough that a mistake such as a log file
//     named .yaml cannot exhaust memory) and must be read within ReadTimeout
//     (10 s: a hung network file system); otherwise it is an error and its
//     last good version is kept.
//   - Watching. fsnotify on the tree and on the parent of --config (which
//     sees the directory deleted, recreated or renamed over), plus a poll
//     every PollInterval (2 s) of a stat-only fingerprint (names, sizes,
//     modification times, inodes; symlinks followed) that catches what
//     inotify cannot (a parent directory replaced, lost events) and
//     re-establishes the watches. ConfigMap volumes (name.yaml -> ..data/
//     name.yaml, ..data swapped by rename) are seen as an event in the root.
//     The Watcher reports every change it sees; the caller's run loop
//     (internal/runloop) coalesces and debounces them, and calls Loading
//     before each load so the poll compares with what was read.
//
// Input: a directory or a file. Output: *resource.Snapshot and []Diagnostic.
package file
