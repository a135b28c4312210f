// Package certs parses PEM certificate material, once for the whole of
// Portico: the graph (CA bundles, listener certificates and their validity,
// the Gateway's backend client certificate) and the proxy (client-validation
// anchors, backend trust roots and client certificate) call the same
// functions, so what the control plane accepts is what the data plane loads.
//
// It uses the standard library only, so that the proxy stays free of
// Kubernetes types; resolving a reference to a ConfigMap, Secret or
// ClusterTrustBundle from a snapshot is package certs/certref.
//
// Decisions:
//
//   - A CA bundle is its CERTIFICATE blocks; other block types and text
//     between blocks (comments, a stray key) are skipped, and re-encoded
//     bundles (Encode) hold the certificates only. A CERTIFICATE block that
//     does not parse fails the whole bundle, naming it by position from 1
//     ("certificate 2 does not parse: ..."): trusting the rest would hide a
//     broken bundle until the missing anchor is needed. A bundle with no
//     certificate is ErrNoCertificate.
//   - The served certificate of a chain is its first CERTIFICATE block
//     (Leaf). Validity is checked against notBefore and notAfter, both
//     inclusive; Changes gives the times when the answer changes (notBefore,
//     and one second after notAfter) so that a caller can check again then.
//   - A key pair is what crypto/tls loads (KeyPair is tls.X509KeyPair):
//     the certificate and key must match.
package certs
