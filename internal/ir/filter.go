package ir

// HTTPFilters are the filters of a rule or of one backend. The proxy applies
// them in this order: CORS, Redirect (which answers and stops), RequestHeaders,
// Rewrite, Mirrors (which copy the request as modified so far),
// ResponseHeaders. Backend filters run after the rule's.
type HTTPFilters struct {
	CORS            *CORS           `json:"cors,omitempty"`
	Redirect        *Redirect       `json:"redirect,omitempty"`
	RequestHeaders  *HeaderModifier `json:"requestHeaders,omitempty"`
	Rewrite         *Rewrite        `json:"rewrite,omitempty"`
	Mirrors         []Mirror        `json:"mirrors,omitempty"`
	ResponseHeaders *HeaderModifier `json:"responseHeaders,omitempty"`
}

// Header is a header name and value.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HeaderModifier edits headers: Set replaces, Add appends a value, Remove
// deletes. Names compare case-insensitively.
type HeaderModifier struct {
	Set    []Header `json:"set,omitempty"`
	Add    []Header `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// PathModifierType says how a path is replaced.
type PathModifierType string

const (
	// FullPath replaces the whole path.
	FullPath PathModifierType = "ReplaceFullPath"
	// PrefixMatch replaces the PathPrefix that matched the request.
	PrefixMatch PathModifierType = "ReplacePrefixMatch"
)

// PathModifier replaces a request path.
type PathModifier struct {
	Type  PathModifierType `json:"type"`
	Value string           `json:"value"`
}

// Redirect answers with a redirect instead of proxying. Empty fields keep the
// request's value. When Port is nil the port follows the scheme (80 for
// http, 443 for https) if Scheme is set, else the listener's port; default
// ports are left out of Location.
type Redirect struct {
	Scheme     string        `json:"scheme,omitempty"`
	Hostname   string        `json:"hostname,omitempty"`
	Port       *int32        `json:"port,omitempty"`
	Path       *PathModifier `json:"path,omitempty"`
	StatusCode int           `json:"statusCode"`
}

// Rewrite changes the request before it is proxied.
type Rewrite struct {
	Hostname string        `json:"hostname,omitempty"`
	Path     *PathModifier `json:"path,omitempty"`
}

// Mirror sends a copy of a share of requests to a backend and ignores the
// answer. The share is Numerator/Denominator (1/1 when both are zero).
type Mirror struct {
	Backend     Backend `json:"backend"`
	Numerator   int32   `json:"numerator,omitempty"`
	Denominator int32   `json:"denominator,omitempty"`
}

// CORS answers preflight requests and decorates responses to allowed origins.
type CORS struct {
	// AllowOrigins are "scheme://host[:port]" patterns; "*" alone matches
	// every origin, and a "*" in the host matches one or more labels.
	AllowOrigins     []string `json:"allowOrigins,omitempty"`
	AllowMethods     []string `json:"allowMethods,omitempty"`
	AllowHeaders     []string `json:"allowHeaders,omitempty"`
	ExposeHeaders    []string `json:"exposeHeaders,omitempty"`
	AllowCredentials bool     `json:"allowCredentials,omitempty"`
	// MaxAge is in seconds; 0 leaves the header out.
	MaxAge int32 `json:"maxAge,omitempty"`
}
