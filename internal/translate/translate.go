package translate

import (
	"cmp"
	"net"
	"slices"
	"strconv"

	"portico.dev/portico/internal/graph"
	"portico.dev/portico/internal/hostname"
	"portico.dev/portico/internal/ir"
)

// Translate lowers every serving listener of every accepted Gateway, for one
// proxy that serves them all (standalone mode).
func Translate(g *graph.Graph) ir.Config { return translate(g.Gateways) }

// ForGateway lowers one Gateway, for the proxies provisioned for it.
func ForGateway(gw *graph.Gateway) ir.Config { return translate([]*graph.Gateway{gw}) }

func translate(gws []*graph.Gateway) ir.Config {
	sockets := map[string]*ir.Listener{}
	for _, gw := range gws {
		// A Gateway's ListenerSets are served by the Gateway's proxies, on
		// its addresses, as if their listeners were the Gateway's.
		for _, l := range gw.AllListeners() {
			if !l.Serving() {
				continue
			}
			vh := virtualHost(l)
			for _, addr := range gw.Addresses {
				name := net.JoinHostPort(addr, strconv.Itoa(int(l.Spec.Port)))
				s, ok := sockets[name]
				if !ok {
					s = &ir.Listener{Name: name, Address: addr, Port: int32(l.Spec.Port), Protocol: ir.Protocol(l.Spec.Protocol)}
					sockets[name] = s
				}
				s.VirtualHosts = append(s.VirtualHosts, vh)
			}
		}
	}
	var cfg ir.Config
	for _, s := range sockets {
		slices.SortStableFunc(s.VirtualHosts, func(a, b ir.VirtualHost) int { return hostname.CompareListeners(a.Hostname, b.Hostname) })
		cfg.Listeners = append(cfg.Listeners, *s)
	}
	slices.SortFunc(cfg.Listeners, func(a, b ir.Listener) int {
		return cmp.Or(cmp.Compare(a.Address, b.Address), cmp.Compare(a.Port, b.Port))
	})
	return cfg
}

func virtualHost(l *graph.Listener) ir.VirtualHost {
	gw := l.Gateway.Object
	vh := ir.VirtualHost{
		Name:     gw.Namespace + "/" + gw.Name + "/" + string(l.Spec.Name),
		Hostname: l.Hostname(),
	}
	if ls := l.ListenerSet; ls != nil {
		// Listener names are unique only within their resource.
		vh.Name = "ListenerSet/" + ls.Object.Namespace + "/" + ls.Object.Name + "/" + string(l.Spec.Name)
	}
	if len(l.Certificates) > 0 {
		vh.TLS = &ir.TLS{}
		for _, c := range l.Certificates {
			vh.TLS.Certificates = append(vh.TLS.Certificates, ir.Certificate{Name: c.Name, CertPEM: string(c.CertPEM), KeyPEM: string(c.KeyPEM)})
		}
		vh.TLS.ClientValidation = clientValidation(l.ClientValidation)
	}
	vh.Filters = listenerFilters(l.Filters)
	for _, r := range l.Routes {
		// A listener of another protocol takes other kinds; an HTTP
		// virtual host serves the HTTPRoutes.
		hr, ok := r.(*graph.HTTPRoute)
		if !ok {
			continue
		}
		if route, ok := httpRoute(hr, l); ok {
			withClientCertificate(&route, l.Gateway)
			vh.Routes = append(vh.Routes, route)
		}
	}
	return vh
}
