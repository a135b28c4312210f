package ir

// HTTPRoute is one HTTPRoute as attached to one VirtualHost.
type HTTPRoute struct {
	// Name is "namespace/name".
	Name string `json:"name"`
	// Hostnames are the hostnames this route serves on its VirtualHost. Empty
	// means every host the VirtualHost accepts.
	Hostnames []RouteHostname `json:"hostnames,omitempty"`
	Rules     []HTTPRule      `json:"rules"`
}

// RouteHostname is one hostname a route answers for.
//
// Among the routes whose Match accepts a request's host, the proxy tries the
// rules of routes with the most specific Precedence first, and falls through
// to less specific ones only when none of their rules match:
//  1. a non-wildcard Precedence beats a wildcard one, which beats "";
//  2. then more characters beat fewer.
//
// Routes of equal hostname precedence are merged and ordered by match
// precedence (see HTTPRule).
type RouteHostname struct {
	// Match is the hostname requests must match: the intersection of the
	// route's hostname and the listener's. Exact ("a.example.com") or
	// wildcard ("*.example.com", suffix match on ".example.com" with at
	// least one label in front). "" matches any host.
	Match string `json:"match,omitempty"`
	// Precedence is the hostname as written on the route, "" when the route
	// names none (Gateway API feature
	// GatewayRouteHostnameIntersectionPrecedence).
	Precedence string `json:"precedence,omitempty"`
}

// HTTPRule is one rule of an HTTPRoute.
//
// Across all rules that apply to a host, a request goes to the rule holding
// the first matching HTTPMatch in this order (Gateway API precedence):
//  1. Exact path, then RegularExpression path (longer pattern first), then
//     PathPrefix with the most characters;
//  2. a match with a method beats one without;
//  3. more header matches;
//  4. more query parameter matches;
//  5. ties keep route order (VirtualHost.Routes), then rule order, then
//     match order.
type HTTPRule struct {
	// Name is the rule's name when the route gives one.
	Name string `json:"name,omitempty"`
	// Index is the rule's position in the route, for logs and metrics.
	Index int `json:"index"`
	// Matches is never empty: a rule without matches gets PathPrefix "/".
	Matches  []HTTPMatch `json:"matches"`
	Filters  HTTPFilters `json:"filters,omitzero"`
	Backends []Backend   `json:"backends,omitempty"`
	Timeouts Timeouts    `json:"timeouts,omitzero"`
	Retry    *Retry      `json:"retry,omitempty"`
}

// PathMatchType says how a path is compared.
type PathMatchType string

const (
	PathExact  PathMatchType = "Exact"
	PathPrefix PathMatchType = "PathPrefix"
	PathRegex  PathMatchType = "RegularExpression"
)

// PathMatch matches the request path (without query).
type PathMatch struct {
	Type PathMatchType `json:"type"`
	// Value is the path; for PathPrefix it matches element-wise ("/foo"
	// matches "/foo" and "/foo/bar", not "/foobar"), and a trailing "/" is
	// ignored. For RegularExpression it is an RE2 pattern that must match
	// the whole path.
	Value string `json:"value"`
}

// StringMatchType says how a header or query value is compared.
type StringMatchType string

const (
	MatchExact StringMatchType = "Exact"
	MatchRegex StringMatchType = "RegularExpression"
)

// HeaderMatch matches one request header. Names compare case-insensitively;
// a header sent several times is matched on its values joined with ",".
type HeaderMatch struct {
	Type  StringMatchType `json:"type"`
	Name  string          `json:"name"`
	Value string          `json:"value"`
}

// QueryMatch matches one query parameter; names compare exactly, and the
// first value of a repeated parameter is used.
type QueryMatch struct {
	Type  StringMatchType `json:"type"`
	Name  string          `json:"name"`
	Value string          `json:"value"`
}

// HTTPMatch is one match of a rule; all of its conditions must hold.
type HTTPMatch struct {
	Path        PathMatch     `json:"path"`
	Headers     []HeaderMatch `json:"headers,omitempty"`
	QueryParams []QueryMatch  `json:"queryParams,omitempty"`
	// Method is empty for any method.
	Method string `json:"method,omitempty"`
}

// Timeouts of a rule; zero means none.
type Timeouts struct {
	// Request bounds the whole request as the client sees it, retries
	// included; the client gets 504 when it expires.
	Request Duration `json:"request,omitempty"`
	// BackendRequest bounds each attempt to a backend.
	BackendRequest Duration `json:"backendRequest,omitempty"`
}

// Retry says when a failed backend request is tried again.
type Retry struct {
	// Attempts is the number of retries after the first try.
	Attempts int `json:"attempts"`
	// Codes are the response status codes that trigger a retry. Connection
	// errors (refused, reset before a response) always do.
	Codes []int `json:"codes,omitempty"`
	// Backoff is the base delay before a retry; it doubles with each
	// attempt, with jitter.
	Backoff Duration `json:"backoff,omitempty"`
}
