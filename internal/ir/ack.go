package ir

// Ack is the data plane's answer to a Config. The control plane turns it into
// the Programmed conditions of Gateways and listeners.
type Ack struct {
	Version uint64 `json:"version"`
	// Error is set when the Config was refused as a whole; the proxy then
	// keeps serving the previous one.
	Error string `json:"error,omitempty"`
	// ListenerErrors, by Listener.Name, are sockets that could not be served
	// (for example, the address is not local or the port is taken). Every
	// other listener of the Config is served.
	ListenerErrors map[string]string `json:"listenerErrors,omitempty"`
}
