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
# The suite replaces the static-address placeholders before it applies the
# manifest (the CRD refuses them): with the addresses test/conformance gives
# it (UsableNetworkAddresses, UnusableNetworkAddresses).
for f in "$src"/tests/httproute-*.yaml "$src"/tests/gateway-*.yaml "$src"/tests/listenerset-*.yaml "$src"/tests/backendtlspolicy*.yaml; do
  name=$(basename "$f" .yaml)
  { header "tests/$name.yaml"; sed -e 's/{GATEWAY_CLASS_NAME}/portico/g' \
      -e 's/"PLACEHOLDER_USABLE_ADDRS"/"10.245.250.1"/' -e 's/"PLACEHOLDER_UNUSABLE_ADDRS"/"192.0.2.1"/' "$f"; } > "$dst/$name.in.yaml"
done

# Some objects are not in the manifests: the suite creates them at run time
# (suite.Setup), with fresh keys. The cases that need them get them as
# <case>.setup.yaml, made here with openssl (valid for 100 years).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
indent() { sed 's/^/    /' "$1"; }
ca() { # ca NAME: a CA certificate in $tmp/NAME.crt
  openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -keyout "$tmp/$1.key" -out "$tmp/$1.crt" \
    -subj "/C=US/O=Kubernetes Gateway API/CN=gatewayapi" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,digitalSignature" 2>/dev/null
}
ca_configmap() { # ca_configmap NAMESPACE NAME: a ConfigMap with the ca.crt of a new CA
  ca "$2"
  printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n  namespace: %s\ndata:\n  ca.crt: |\n' "$2" "$1"
  indent "$tmp/$2.crt"
}
tls_secret() { # tls_secret NAMESPACE NAME SAN...: a self-signed kubernetes.io/tls Secret
  local ns=$1 name=$2 san
  shift 2
  san=$(printf 'DNS:%s,' "$@")
  openssl req -x509 -newkey rsa:2048 -nodes -days 36500 -keyout "$tmp/$name.key" -out "$tmp/$name.crt" \
    -subj "/O=Kubernetes Gateway API/CN=$name" -addext "subjectAltName=${san%,}" 2>/dev/null
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n' "$name" "$ns"
  indent "$tmp/$name.crt"
  printf '  tls.key: |\n'
  indent "$tmp/$name.key"
}
# Client certificate validation (Gateway spec.tls.frontend).
{ printf '# Made by hack/seed-conformance-testdata.sh: objects sigs.k8s.io/gateway-api/conformance@%s suite.Setup creates at run time.\n' "$version"
  tls_secret gateway-conformance-infra tls-validity-checks-certificate '*' '*.org' '*.wildcard.org'
  ca_configmap gateway-conformance-infra tls-validity-checks-ca-certificate
  ca_configmap gateway-conformance-infra tls-validity-checks-per-port-ca-certificate
  ca_configmap gateway-conformance-web-backend web-backend-cm
} > "$tmp/frontend-tls.yaml"
for name in gateway-with-clientcertificate-validation gateway-with-clientcertificate-validation-insecure-fallback \
  gateway-with-invalid-clientcertificate-validation gateway-invalid-default-frontend-client-certificate-validation; do
  cp "$tmp/frontend-tls.yaml" "$dst/$name.setup.yaml"
done
echo "seeded $(ls "$dst"/*.in.yaml | wc -l) cases into $dst"
