package ir

// ListenerFilter is one pre-routing filter of a VirtualHost; exactly one
// field is set.
//
// Pre-routing filters run in order on every request of the VirtualHost,
// after it is selected and before route matching, which sees the request as
// they leave it (except its Host, which they cannot change). A filter that
// answers the request stops it there: later filters and routing do not run.
type ListenerFilter struct {
	ExternalAuth *ExternalAuth `json:"externalAuth,omitempty"`
}

// ExternalAuth asks an HTTP authorization service about each request
// (Gateway API ExternalAuth, protocol HTTP).
//
// The authorization request has the client request's method, Host and path
// (with PathPrefix in front) and query, and of its headers only
// Authorization and AllowedRequestHeaders, plus the first MaxBodySize bytes
// of the body (none when 0) with their Content-Length. A 200 answer allows
// the request: the answer's headers (AllowedResponseHeaders, or all of them
// when empty, never Host, hop-by-hop or framing headers) are set on it. Any
// other answer, including the proxy's own when Backend is invalid or
// unreachable, is sent to the client instead.
type ExternalAuth struct {
	Backend                Backend  `json:"backend"`
	PathPrefix             string   `json:"pathPrefix,omitempty"`
	AllowedRequestHeaders  []string `json:"allowedRequestHeaders,omitempty"`
	AllowedResponseHeaders []string `json:"allowedResponseHeaders,omitempty"`
	MaxBodySize            int32    `json:"maxBodySize,omitempty"`
}
