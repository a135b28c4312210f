package translate

import (
	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/ir"
)

// clientValidation lowers a listener's client certificate validation; nil
// when it has none.
func clientValidation(cv *graph.ClientValidation) *ir.ClientValidation {
	if cv == nil {
		return nil
	}
	out := &ir.ClientValidation{Optional: cv.InsecureFallback}
	for _, ca := range cv.CACertificates {
		out.CACertificates = append(out.CACertificates, ir.CACertificate{Name: ca.Name, PEM: string(ca.PEM)})
	}
	return out
}
