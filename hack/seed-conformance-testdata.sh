#!/usr/bin/env bash
# Copies the official Gateway API conformance manifests (v1.7.0) into the
# control-plane golden tests, as testdata/conformance/<test>.in.yaml with the
# suite's base manifests as _base.yaml, substituting our GatewayClass. Run it
# when moving to a new Gateway API release, then:
#   go test ./internal/controlplane -run Golden -update
set -euo pipefail
export GOTOOLCHAIN=auto
cd "$(dirname "$0")/.."
version=v1.7.0
src=$(go mod download -json "sigs.k8s.io/gateway-api/conformance@${version}" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
dst=internal/controlplane/testdata/conformance
mkdir -p "$dst"
header() { printf '# Source: sigs.k8s.io/gateway-api/conformance@%s %s (Apache-2.0), GatewayClass set to portico.\n' "$version" "$1"; }
# The suite creates the GatewayClass itself; in a cluster Portico does not
# make one up, so the goldens declare it as the suite would.
{ header base/manifests.yaml
  printf 'apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: portico\nspec:\n  controllerName: portico.dev/gateway-controller\n---\n'
  sed 's/{GATEWAY_CLASS_NAME}/portico/g' "$src/base/manifests.yaml"; } > "$dst/_base.yaml"
for f in "$src"/tests/httproute-*.yaml "$src"/tests/gateway-*.yaml; do
  name=$(basename "$f" .yaml)
  { header "tests/$name.yaml"; sed 's/{GATEWAY_CLASS_NAME}/portico/g' "$f"; } > "$dst/$name.in.yaml"
done
echo "seeded $(ls "$dst"/*.in.yaml | wc -l) cases into $dst"
