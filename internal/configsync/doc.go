// Package configsync delivers each Gateway's data-plane configuration from
// the controller to the proxies that serve it, and carries their answers
// back (stage 5 of the pipeline, "deliver", in Kubernetes mode).
//
// Input: on the controller side, ir.Config values per Gateway through
// Server.Publish (and Server.Remove); on the proxy side, the stream itself.
// Output: on the proxy side, each new version handed to an apply function
// (proxy.Proxy.Apply); on the controller side, the proxies' answers
// aggregated per Gateway as an ir.Ack (Server.Ack), with Server.Changes
// saying when to read them again. The controller turns them into the
// Programmed conditions.
//
// # Wire protocol (HTTP/1.1 or HTTP/2, JSON, versioned path)
//
//	GET  /v1/gateways/{namespace}/{name}/config?version=N&proxy=ID
//	     200 {"version": V, "config": ir.Config} as soon as the latest
//	         version V differs from N (normally V > N; see Versions);
//	     304 after Server.PollTimeout (30 s) without one: poll again.
//	POST /v1/gateways/{namespace}/{name}/ack
//	     {"proxy": ID, "ack": ir.Ack} -> 204.
//
// Every response carries the header Portico-Instance, a random id of the
// Server value. A proxy that sees it change (the controller restarted, or
// another replica answers) sends the ack of the version it holds again, so
// a new controller learns what is served without waiting for a change.
// When Server.Token is set, every request must carry
// "Authorization: Bearer TOKEN", or gets 401.
//
// # Versions
//
// A version is assigned by Publish, only when the configuration differs
// from the last one published for the Gateway (ir.Config.Version ignored).
// It is the wall clock in Unix microseconds, or the previous version plus
// one when the clock has not moved past it. So versions increase per
// Gateway within a process, and a restarted controller (or a newly elected
// leader, given clocks within the restart time of each other) publishes
// versions higher than any a proxy already holds, with no state to persist.
// Should a clock step back anyway, nothing gets stuck: the server answers
// any poll whose version differs from its latest, not only lower ones.
//
// # Proxies
//
// The Client long-polls, applies each new version, posts the ack (a nack
// when apply refused it: the proxy keeps serving its previous config and
// the next poll waits for a newer version), and on any failure keeps
// serving what it has and retries with capped exponential backoff and
// jitter. The Server counts a proxy as connected while it polls and for
// Server.ProxyExpiry after its last request; Ack aggregates the acks of
// connected proxies for the latest version.
package configsync
