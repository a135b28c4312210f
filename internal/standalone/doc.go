// Package standalone is `portico run`: the whole pipeline in one process with
// no cluster. The file provider's loader feeds controlplane.Compute, the IR
// goes to the in-process proxy by a direct call, and the proxy's Ack feeds
// the status projection, which the admin server and an optional status file
// publish.
//
// Changes are coalesced by the run loop the controller shares
// (internal/runloop): the file watcher only posts "reload" to a latest-value
// mailbox (not a queue of events), which takes a burst of file events once
// it has settled (DefaultDebounce, 150 ms after the last one: a trailing
// debounce), so one reconcile runs per burst. A certificate's expiry
// ("reload") and a change of a listener's health ("refresh": status
// projected again from the last computed configuration, without reading
// files) are posted to be taken at once. A failed reload is not retried:
// the last good configuration is served until the next change.
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
