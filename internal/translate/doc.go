// Package translate lowers a bound graph.Graph into the data plane's
// ir.Config: sockets, virtual hosts, routes, filters and backends. It is a
// pure function; every decision about validity was taken by internal/graph,
// so translate only serves what the graph says is servable. The listeners
// of a Gateway's accepted ListenerSets are served by the Gateway's proxies
// on its addresses, as virtual hosts of the same sockets.
//
// Input: *graph.Graph. Output: ir.Config (Version left 0 for the caller).
package translate
