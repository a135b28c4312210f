package router

import "net/http"

// Fields is a request as an engine that does not build *http.Request parsed
// it (see Table.RouteFields). The strings may point into the engine's
// buffers: the router reads them during the call and keeps none.
type Fields struct {
	Method string
	// Host is the Host header as sent: it selects the virtual host and is
	// what a "Host" header match compares.
	Host string
	// Path is the path in its escaped form, as sent (what
	// url.URL.EscapedPath returns for it); RawQuery the query without "?".
	Path     string
	RawQuery string
	// Header gives the other header fields; nil when there are none.
	Header HeaderSource
}

// HeaderSource gives the values of a request's header fields.
type HeaderSource interface {
	// HeaderValues returns the values of every field named name (given in
	// canonical form, compared case-insensitively), in the order sent, as
	// http.Header would hold them. The result may be reused by the next
	// call.
	HeaderValues(name string) []string
}

// query is what matching reads from a request, from either form.
type query struct {
	method, host, path, rawQuery string
	header                       http.Header
	src                          HeaderSource
}

func newQuery(r *http.Request) query {
	return query{method: r.Method, host: r.Host, path: r.URL.EscapedPath(), rawQuery: r.URL.RawQuery, header: r.Header}
}

func (q *query) values(name string) []string {
	if q.src != nil {
		return q.src.HeaderValues(name)
	}
	return q.header[name]
}
