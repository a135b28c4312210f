package filter

import (
	"net/http"
	"net/textproto"

	"portico.dev/portico/internal/ir"
)

// headerEdits is an ir.HeaderModifier with canonical names.
type headerEdits struct {
	set, add []ir.Header
	remove   []string
}

func newHeaderEdits(m *ir.HeaderModifier) *headerEdits {
	canon := func(hs []ir.Header) []ir.Header {
		out := make([]ir.Header, len(hs))
		for i, h := range hs {
			out[i] = ir.Header{Name: textproto.CanonicalMIMEHeaderKey(h.Name), Value: h.Value}
		}
		return out
	}
	e := &headerEdits{set: canon(m.Set), add: canon(m.Add)}
	for _, n := range m.Remove {
		e.remove = append(e.remove, textproto.CanonicalMIMEHeaderKey(n))
	}
	return e
}

// apply sets, then adds, then removes, so a name both set and removed ends
// up removed.
func (e *headerEdits) apply(h http.Header) {
	for _, s := range e.set {
		h[s.Name] = []string{s.Value}
	}
	for _, a := range e.add {
		h[a.Name] = append(h[a.Name], a.Value)
	}
	for _, n := range e.remove {
		delete(h, n)
	}
}

// RequestHeaders is the RequestHeaderModifier filter. Setting or adding
// "Host" changes r.Host, which is what Go sends as the Host header.
func RequestHeaders(m *ir.HeaderModifier) func(http.Handler) http.Handler {
	e := newHeaderEdits(m)
	var host string
	var setHost bool
	for _, h := range append(append([]ir.Header(nil), e.add...), e.set...) {
		if h.Name == "Host" {
			host, setHost = h.Value, true // set wins over add
		}
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			e.apply(r.Header)
			if setHost {
				r.Host = host
				delete(r.Header, "Host")
			}
			next.ServeHTTP(w, r)
		})
	}
}
