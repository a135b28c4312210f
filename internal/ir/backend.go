package ir

// BackendProtocol is how the proxy talks to a backend.
type BackendProtocol string

const (
	// BackendHTTP is HTTP/1.1 (WebSocket upgrades pass through).
	BackendHTTP BackendProtocol = "HTTP"
	// BackendH2C is HTTP/2 over cleartext with prior knowledge.
	BackendH2C BackendProtocol = "H2C"
	// BackendWebSocket is HTTP/1.1 meant for WebSocket upgrades.
	BackendWebSocket BackendProtocol = "WebSocket"
)

// Backend is one weighted backendRef of a rule.
type Backend struct {
	// Name is "namespace/service:port".
	Name string `json:"name"`
	// Weight is relative to the rule's other backends; 0 gets no traffic.
	Weight   int32           `json:"weight"`
	Protocol BackendProtocol `json:"protocol,omitempty"`
	// Endpoints are the ready endpoints, spread round robin. A valid backend
	// without endpoints answers 503.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	// Filters are the backendRef's own filters.
	Filters *HTTPFilters `json:"filters,omitempty"`
	// Invalid, when set, says why the ref could not be resolved; requests
	// that pick this backend get 500. It keeps its weight so that an invalid
	// backend takes exactly its share of traffic.
	Invalid string `json:"invalid,omitempty"`
	// TLS, when set, makes the proxy speak TLS to every endpoint (a
	// BackendTLSPolicy applies to the Service port); nil is cleartext.
	TLS *BackendTLS `json:"tls,omitempty"`
}

// BackendTLS is how the proxy connects to a backend over TLS, as a client.
// Connections whose settings are equal share a pool across generations.
type BackendTLS struct {
	// Policy is "namespace/name" of the BackendTLSPolicy, for logs.
	Policy string `json:"policy,omitempty"`
	// ServerName is sent as SNI and, when SubjectAltNames is empty, is the
	// name the backend's certificate must be valid for.
	ServerName string `json:"serverName"`
	// CACertificatesPEM are the trusted roots, PEM encoded. When empty,
	// SystemRoots must be set.
	CACertificatesPEM string `json:"caCertificatesPEM,omitempty"`
	// SystemRoots trusts the proxy's system certificate pool.
	SystemRoots bool `json:"systemRoots,omitempty"`
	// SubjectAltNames, when set, replace ServerName for authentication: the
	// certificate must carry at least one of them.
	SubjectAltNames []SubjectAltName `json:"subjectAltNames,omitempty"`
	// ClientCertificate is presented when the backend asks for one (the
	// Gateway's spec.tls.backend.clientCertificateRef).
	ClientCertificate *Certificate `json:"clientCertificate,omitempty"`
}

// SubjectAltName is one accepted name of a backend certificate: exactly one
// of Hostname (a DNS name, "*.example.com" matching the same wildcard in the
// certificate) and URI (compared exactly, e.g. a SPIFFE ID) is set.
type SubjectAltName struct {
	Hostname string `json:"hostname,omitempty"`
	URI      string `json:"uri,omitempty"`
}

// Endpoint is an address and port to connect to.
type Endpoint struct {
	Address string `json:"address"`
	Port    int32  `json:"port"`
}

// redactBackendKeys returns routes with the private keys of backend client
// certificates replaced, copying only what it changes.
func redactBackendKeys(routes []HTTPRoute) []HTTPRoute {
	var out []HTTPRoute
	for i := range routes {
		copied := false
		for j := range routes[i].Rules {
			rule := redactRule(routes[i].Rules[j])
			if rule == nil {
				continue
			}
			if out == nil {
				out = append([]HTTPRoute(nil), routes...)
			}
			if !copied {
				out[i].Rules = append([]HTTPRule(nil), routes[i].Rules...)
				copied = true
			}
			out[i].Rules[j] = *rule
		}
	}
	if out == nil {
		return routes
	}
	return out
}

// redactRule returns a redacted copy of r, or nil when r holds no key.
func redactRule(r HTTPRule) *HTTPRule {
	changed := false
	redactBackend := func(b *Backend) {
		if b.TLS != nil && b.TLS.ClientCertificate != nil {
			tls := *b.TLS
			cert := *tls.ClientCertificate
			cert.KeyPEM = "<redacted>"
			tls.ClientCertificate = &cert
			b.TLS = &tls
			changed = true
		}
	}
	redactFilters := func(f *HTTPFilters) {
		if len(f.Mirrors) == 0 {
			return
		}
		f.Mirrors = append([]Mirror(nil), f.Mirrors...)
		for k := range f.Mirrors {
			redactBackend(&f.Mirrors[k].Backend)
		}
	}
	redactFilters(&r.Filters)
	r.Backends = append([]Backend(nil), r.Backends...)
	for i := range r.Backends {
		b := &r.Backends[i]
		redactBackend(b)
		if b.Filters != nil {
			f := *b.Filters
			redactFilters(&f)
			b.Filters = &f
		}
	}
	if !changed {
		return nil
	}
	return &r
}
