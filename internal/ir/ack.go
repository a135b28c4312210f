package ir

// Ack is the data plane's answer to a Config. The control plane turns it into
// the Programmed conditions of Gateways and listeners.
type Ack struct {
	Version uint64 `json:"version"`
	// Error is set when the Config was refused as a whole; the proxy then
	// keeps serving the previous one.
	Error string `json:"error,omitempty"`
	// ListenerErrors, by Listener.Name, are sockets that could not be served
	// (for example, the address is not local or the port is taken); the
	// proxy keeps trying to open them. Every other listener of the Config is
	// served.
	ListenerErrors map[string]string `json:"listenerErrors,omitempty"`
	// InvalidListeners, by Listener.Name, are listeners the proxy could not
	// build (a certificate it cannot load, a filter it cannot compile...):
	// they are not applied, and the socket keeps its previous version if it
	// had one. The rest of the Config is applied.
	InvalidListeners map[string]string `json:"invalidListeners,omitempty"`
	// NotAccepting, by Listener.Name, are open sockets whose accepts are
	// failing at the moment (for example, out of file descriptors); the
	// proxy retries them with backoff.
	NotAccepting map[string]string `json:"notAccepting,omitempty"`
}
