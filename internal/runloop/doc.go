// Package runloop is the run loop that standalone mode
// (internal/standalone) and the controller (internal/controller) share:
// a coalescing latest-value Mailbox that watchers post to, with an
// explicit Debounce, and a Loop that takes one value at a time and runs
// the pipeline on it, retrying failures with a capped exponential Backoff.
//
// Events are signals, not a queue: any number of posts before the loop
// takes the next value become one value (merged by the mailbox's merge
// function, or the newest), and the run that follows reads the latest
// state. A burst is taken Debounce.Quiet after its last post and at the
// latest Debounce.Max after its first; both are measured from the posts.
// PostNow skips the debounce for work that must not wait for a burst to
// settle (a certificate that just expired, a listener's health), without
// cutting the burst short.
//
// Decisions:
//   - The controller debounces with a fixed 100 ms window (Window: a
//     steady stream of API events still reconciles every 100 ms) and
//     retries a failed reconcile after 250 ms, doubling up to 30 s.
//   - Standalone mode debounces file events with a 150 ms trailing
//     window (Settle: an editor's or a copy's burst of writes is read
//     once, when it is over) and does not retry a failed reload: it keeps
//     serving the last good configuration until the next change.
//
// Input: posts from any goroutine. Output: calls of Loop.Do, one at a time.
package runloop
