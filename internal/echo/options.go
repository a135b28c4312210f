package echo

import (
	"log/slog"
	"net"
	"os"
)

// Options configure the echo backend.
type Options struct {
	// Listen is the plain HTTP (HTTP/1.1 and h2c) address, for example
	// "127.0.0.1:3000". Port 0 picks a free port; see OnListening.
	Listen string
	// TLSListen, when set, is the HTTPS address; TLSCertFile and TLSKeyFile
	// are then required (PEM files).
	TLSListen   string
	TLSCertFile string
	TLSKeyFile  string
	// TLSClientCAFile, when set, makes the HTTPS listener ask for client
	// certificates and verify the ones it gets against these CAs. A client
	// without a certificate is still served.
	TLSClientCAFile string

	// Name is reported as "pod"; Namespace, Service and Ingress as
	// themselves. They tell tests which backend answered.
	Name      string
	Namespace string
	Service   string
	Ingress   string
	// HTTPPort is reported as "httpPort". Serve fills it with the port it
	// bound for Listen when it is empty.
	HTTPPort string

	// Logger receives one line per echoed request. Nil logs to stderr.
	Logger *slog.Logger
	// OnListening, when set, is called once by Serve after its sockets are
	// bound, with their addresses (tls is nil without TLSListen). Use it with
	// port 0.
	OnListening func(http, tls net.Addr)
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}
