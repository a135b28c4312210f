package router

import (
	"context"

	"portico.dev/portico/internal/ir"
)

// Matched is the rule a request was routed to. One value per compiled match
// is built at config time and shared by every request that takes it; treat it
// as read-only.
type Matched struct {
	VirtualHost *ir.VirtualHost
	Route       *ir.HTTPRoute
	Rule        *ir.HTTPRule
	Match       *ir.HTTPMatch
	// PathPrefix is the PathPrefix value that matched, in the escaped form it
	// was compared in, with trailing "/" removed except for "/" itself. It is
	// "" when the match was Exact or RegularExpression. ReplacePrefixMatch
	// (URLRewrite and RequestRedirect) replaces this prefix.
	PathPrefix string
}

type ctxKey struct{}

// NewContext returns ctx carrying m. The filter package reads it with
// FromContext; keeping both here avoids an import cycle (filter imports
// router, never the reverse).
func NewContext(ctx context.Context, m *Matched) context.Context {
	return context.WithValue(ctx, ctxKey{}, m)
}

// FromContext returns the Matched stored by NewContext, or nil.
func FromContext(ctx context.Context) *Matched {
	m, _ := ctx.Value(ctxKey{}).(*Matched)
	return m
}
