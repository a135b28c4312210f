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
}

// Endpoint is an address and port to connect to.
type Endpoint struct {
	Address string `json:"address"`
	Port    int32  `json:"port"`
}
