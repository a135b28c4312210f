package graph

import (
	"crypto/x509"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"portico.dev/portico/internal/certs"
)

// checkCertificateValidity reports the served listener certificates that
// are expired or not yet valid at now. Such a certificate is still a valid
// reference (the spec's InvalidCertificateRef is for a missing, unsupported
// or malformed one), so it is still served and ResolvedRefs stays True: the
// listener's ResolvedRefs message says it, and a warning names it. It
// returns the next time a served certificate expires or becomes valid (zero
// when none will), when this must be checked again.
func checkCertificateValidity(g *Graph, now time.Time) time.Time {
	var next time.Time
	later := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, gw := range g.Gateways {
		for _, l := range gw.AllListeners() {
			for _, c := range l.Certificates {
				leaf, err := certs.Leaf(c.CertPEM)
				if err != nil {
					continue
				}
				from, until := certs.Changes(leaf)
				later(from)
				later(until)
				problem := validityProblem(leaf, now)
				if problem == "" {
					continue
				}
				msg := fmt.Sprintf("%s: Secret %s: %s", certField(l, c), c.Name, problem)
				g.Warnings = append(g.Warnings, fmt.Sprintf("%s %s: %s", listenerOwner(l), ownerName(l), msg))
				if rr := meta.FindStatusCondition(l.Conditions, string(gwv1.ListenerConditionResolvedRefs)); rr != nil && rr.Status == "True" {
					rr.Message += "; but " + msg
				}
			}
		}
	}
	return next
}

func validityProblem(leaf *x509.Certificate, now time.Time) string {
	switch certs.ValidityAt(leaf, now) {
	case certs.Expired:
		return "the certificate expired at " + leaf.NotAfter.UTC().Format(time.RFC3339) +
			" (notAfter); clients will reject it: renew tls.crt"
	case certs.NotYetValid:
		return "the certificate is not valid before " + leaf.NotBefore.UTC().Format(time.RFC3339) +
			" (notBefore); clients will reject it until then: check tls.crt and this host's clock"
	}
	return ""
}

// certField is the certificateRefs entry a usable certificate came from.
func certField(l *Listener, c Certificate) string {
	if l.Spec.TLS != nil {
		for j, ref := range l.Spec.TLS.CertificateRefs {
			if refNamespace(l.referrer().namespace, ref.Namespace)+"/"+string(ref.Name) == c.Name {
				return fmt.Sprintf("spec.listeners[%s].tls.certificateRefs[%d]", l.Spec.Name, j)
			}
		}
	}
	return fmt.Sprintf("spec.listeners[%s].tls.certificateRefs", l.Spec.Name)
}

func listenerOwner(l *Listener) string {
	if l.ListenerSet != nil {
		return "ListenerSet"
	}
	return "Gateway"
}

func ownerName(l *Listener) string {
	if l.ListenerSet != nil {
		return l.ListenerSet.Object.Namespace + "/" + l.ListenerSet.Object.Name
	}
	return l.Gateway.Object.Namespace + "/" + l.Gateway.Object.Name
}
