package proxy

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"

	"portico.dev/portico/internal/proxy/h1"
)

// The NetHTTP engine reads every connection through an h1.Guard, so that
// net/http only ever parses requests the h1 engine accepts: one framing
// policy for both engines. TLS is terminated under the guard, so
// net/http sees cleartext: withGuardTLS gives requests back their
// Request.TLS.

// framingListener accepts connections wrapped in an h1.Guard, over TLS
// (handshake on the first read, under net/http's deadlines) when tls is
// set.
type framingListener struct {
	net.Listener
	tls *tls.Config
}

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if l.tls != nil {
		c = tls.Server(c, l.tls)
	}
	return h1.NewGuard(c), nil
}

type guardKey struct{}

// guardContext is http.Server.ConnContext: it keeps the connection's
// guard for withGuardTLS.
func guardContext(ctx context.Context, c net.Conn) context.Context {
	if g, ok := c.(*h1.Guard); ok {
		return context.WithValue(ctx, guardKey{}, g)
	}
	return ctx
}

// withGuardTLS sets Request.TLS, which net/http cannot see under the
// guard, from the connection's TLS state.
func withGuardTLS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			if g, ok := r.Context().Value(guardKey{}).(*h1.Guard); ok {
				r.TLS = g.TLS()
			}
		}
		h.ServeHTTP(w, r)
	})
}
