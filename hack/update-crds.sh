#!/usr/bin/env bash
# Copy the Gateway API CRDs that internal/crdvalidation embeds from the
# sigs.k8s.io/gateway-api module in go.mod (experimental channel: see
# internal/crdvalidation/doc.go). Run it after changing the gateway-api
# version; TestCRDsMatchModule fails until the copy matches the module.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
go mod download sigs.k8s.io/gateway-api
src="$(go list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)/config/crd/experimental"
dst=internal/crdvalidation/crds
rm -f "${dst}"/*.yaml
for plural in gatewayclasses gateways httproutes listenersets referencegrants backendtlspolicies; do
  install -m 0644 "${src}/gateway.networking.k8s.io_${plural}.yaml" "${dst}/"
done
echo "copied $(ls "${dst}" | wc -l) CRDs from ${src} to ${dst}"
