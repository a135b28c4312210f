// Package file is the standalone provider: it reads every *.yaml and *.yml
// file under a directory (recursively, multi-document, strictly decoded) into
// a resource.Snapshot, and watches the directory for changes.
//
// It plays the API server's part: it applies the CRD defaults, assigns
// metadata.generation (bumped when an object's spec changes) and a stable
// creationTimestamp (first seen) to objects that do not set them, and it keeps
// the last good version of what a file held while the file does not parse.
//
// Input: a directory. Output: *resource.Snapshot and []Diagnostic.
package file
