// Package standalone is `portico run`: the whole pipeline in one process with
// no cluster. The file provider's loader feeds controlplane.Compute, the IR
// goes to the in-process proxy by a direct call, and the proxy's Ack feeds
// the status projection, which the admin server and an optional status file
// publish.
//
// Changes are coalesced: the watcher only marks the state dirty, and one
// reconcile runs for any burst of file events (a latest-value mailbox, not a
// queue of events).
//
// Logging (report.go): each reconcile logs one summary line (the objects
// added, changed and removed, and the configuration version applied, refused
// or still served). An input problem is logged once, when it appears, and
// once more when it is fixed; a status condition (of an object, a listener,
// a route parent or a policy ancestor) is logged when it turns bad, when it
// stays bad for another reason or message, and when it turns good again. So
// a missing Secret, a bad certificate or a missing Service is logged without
// repeating it on every reload.
//
// Certificates (certtimer.go): a reconcile is scheduled for the next time a
// served certificate expires or becomes valid (at most 24 h ahead, so a
// clock step is caught within a day), so the listener status and the log
// say it when it happens, not at the next file change.
package standalone
