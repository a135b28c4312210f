// Package ir is the contract between the control plane and the data plane.
//
// The control plane (internal/translate) lowers the bound Gateway API graph into
// a Config; the data plane (internal/proxy) builds running listeners from it.
// Everything here is plain data: no Kubernetes imports, no behaviour beyond
// validation and formatting, so the proxy does not link client-go and IR
// goldens stay small and readable.
//
// Decisions already taken by the control plane are encoded in the data, not
// left to the proxy: which listeners share a socket, which route hostnames
// apply after intersection with the listener hostname, the tie-break order of
// routes, and which backends are invalid. The proxy only has to order matches
// by the precedence the Gateway API defines (see HTTPRoute) and serve.
package ir
