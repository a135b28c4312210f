// Package standalone is `portico run`: the whole pipeline in one process with
// no cluster. The file provider's loader feeds controlplane.Compute, the IR
// goes to the in-process proxy by a direct call, and the proxy's Ack feeds
// the status projection, which the admin server and an optional status file
// publish.
//
// Changes are coalesced: the watcher only marks the state dirty, and one
// reconcile runs for any burst of file events (a latest-value mailbox, not a
// queue of events).
package standalone
