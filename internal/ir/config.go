package ir

// Config is everything one proxy serves: one entry per listening socket.
type Config struct {
	// Version identifies this configuration; it increases with every change
	// and is what the proxy acknowledges.
	Version uint64 `json:"version"`
	// Listeners are sorted by Address then Port.
	Listeners []Listener `json:"listeners,omitempty"`
}

// Protocol is the application protocol of a listening socket.
type Protocol string

const (
	ProtocolHTTP  Protocol = "HTTP"
	ProtocolHTTPS Protocol = "HTTPS"
)

// Listener is one listening socket (address and port) and everything served
// on it. Gateway listeners that share a port and protocol are merged into one
// Listener as several VirtualHosts.
type Listener struct {
	// Name is "address:port", stable across versions; the proxy keeps the
	// socket open while a Listener of the same Name exists.
	Name     string   `json:"name"`
	Address  string   `json:"address"`
	Port     int32    `json:"port"`
	Protocol Protocol `json:"protocol"`
	// VirtualHosts are the Gateway listeners served on this socket, sorted by
	// hostname precedence: exact hostnames first, then wildcards with more
	// labels first, then the empty hostname (matches anything).
	VirtualHosts []VirtualHost `json:"virtualHosts,omitempty"`
}

// VirtualHost is one Gateway listener: a hostname (or none) and the routes
// attached to it. A request selects exactly one VirtualHost by its Host header
// (HTTP) or its SNI and Host header (HTTPS); routes of other VirtualHosts on
// the same socket never see it.
type VirtualHost struct {
	// Name is "namespace/gateway/listener", or for a listener of a
	// ListenerSet "ListenerSet/namespace/listenerset/listener".
	Name string `json:"name"`
	// Hostname is the listener hostname: "" (any), "foo.example.com" or
	// "*.example.com" (matches one or more labels in place of "*").
	Hostname string `json:"hostname,omitempty"`
	// TLS is set on HTTPS sockets: the certificates this listener presents.
	TLS *TLS `json:"tls,omitempty"`
	// Filters run on every request of the VirtualHost, in this order,
	// before route matching (Gateway listener filters).
	Filters []ListenerFilter `json:"filters,omitempty"`
	// Routes are in tie-break order: oldest creation timestamp first, then
	// "namespace/name" alphabetically. The proxy must keep this order among
	// matches of equal precedence.
	Routes []HTTPRoute `json:"routes,omitempty"`
}

// TLS is the server side of a TLS listener.
type TLS struct {
	// Certificates are offered by SNI: the first whose names match the
	// ClientHello's server name wins; the first one is the default.
	Certificates []Certificate `json:"certificates"`
	// ClientValidation, when set, asks clients for a certificate and
	// verifies it (Gateway spec.tls.frontend).
	ClientValidation *ClientValidation `json:"clientValidation,omitempty"`
}

// ClientValidation is how a VirtualHost checks client certificates.
//
// Without Optional, the handshake fails unless the client presents a
// certificate that chains to one of CACertificates, and a request is
// answered only on a connection verified against this VirtualHost's
// CACertificates (421 otherwise: the connection was set up for another
// VirtualHost, without SNI, or before validation changed). With Optional
// (AllowInsecureFallback) a certificate is requested but never required
// nor verified.
type ClientValidation struct {
	// CACertificates are the trust anchors.
	CACertificates []CACertificate `json:"caCertificates"`
	Optional       bool            `json:"optional,omitempty"`
}

// CACertificate is a bundle of PEM CA certificates.
type CACertificate struct {
	// Name is "ConfigMap namespace/name" or "ClusterTrustBundle name".
	Name string `json:"name"`
	PEM  string `json:"pem"`
}

// Certificate is a PEM certificate chain and its private key.
type Certificate struct {
	// Name is "namespace/secret".
	Name    string `json:"name"`
	CertPEM string `json:"certPEM"`
	KeyPEM  string `json:"keyPEM"`
}

// Redacted returns a copy of c with private keys replaced, for printing.
func (c Config) Redacted() Config {
	out := c
	out.Listeners = make([]Listener, len(c.Listeners))
	for i, l := range c.Listeners {
		l.VirtualHosts = append([]VirtualHost(nil), l.VirtualHosts...)
		for j, vh := range l.VirtualHosts {
			l.VirtualHosts[j].Routes = redactBackendKeys(vh.Routes)
			if vh.TLS == nil {
				continue
			}
			tls := &TLS{Certificates: append([]Certificate(nil), vh.TLS.Certificates...), ClientValidation: vh.TLS.ClientValidation}
			for k := range tls.Certificates {
				tls.Certificates[k].KeyPEM = "<redacted>"
			}
			l.VirtualHosts[j].TLS = tls
		}
		out.Listeners[i] = l
	}
	return out
}
