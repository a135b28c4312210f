#!/usr/bin/env bash
# Run the Gateway API conformance suite (or the harness's smoke test) on this
# machine, with no Docker and no cluster: see test/conformance/README.md.
#
#   hack/conformance.sh run     # TestConformance -> out/conformance-report.yaml
#   hack/conformance.sh smoke   # TestBox: the box without the controller
#
# Outside the network namespace it builds everything (bin/portico, the
# cached kube binaries, the test binary): the Go module proxy is not
# reachable inside. Then it re-runs itself under `unshare -n`, makes the Pod
# and load-balancer ranges local on lo, and runs the test binary. Every
# process the test starts is stopped by PID when it ends (and killed by the
# kernel if the test binary dies: Pdeathsig).
#
# Environment (all optional):
#   PORTICO_CACHE                    cache root for the kube binaries (/var/cache/portico)
#   PORTICO_OUT_DIR                  logs and run files (out/conformance); give each
#                                    concurrent run in one checkout its own
#   PORTICO_REPORT                   the report (out/conformance-report.yaml)
#   PORTICO_CONFORMANCE_TIMEOUT      go test -timeout for `run` (default 120m)
#   PORTICO_CONFORMANCE_RUN_TEST     run one conformance test (ShortName)
#   PORTICO_CONFORMANCE_SKIP         ShortNames to skip, comma separated
#   PORTICO_CONFORMANCE_FEATURES     supported features (comma list or "all");
#                                    default: the GatewayClass status
#   PORTICO_CONFORMANCE_PROFILES     default GATEWAY-HTTP
#   PORTICO_CONFORMANCE_EXEMPT       features to subtract
#   PORTICO_CONFORMANCE_DEBUG=1      dump requests and responses
#   PORTICO_CONTROLLER_ARGS          extra `portico controller` arguments
#   PORTICO_BOX_HOLD=10m             keep the box up after the test (debugging)
#   GO_TEST_FLAGS                    extra flags for the test binary (e.g. -test.run)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${repo}"
mode="${1:-run}"
case "${mode}" in
  run) test_re='^TestConformance$'; timeout="${PORTICO_CONFORMANCE_TIMEOUT:-120m}" ;;
  smoke) test_re='^TestBox$'; timeout="${PORTICO_CONFORMANCE_TIMEOUT:-10m}" ;;
  *) echo "usage: $0 run|smoke" >&2; exit 2 ;;
esac
out="${PORTICO_OUT_DIR:-${repo}/out/conformance}"
report="${PORTICO_REPORT:-${repo}/out/conformance-report.yaml}"
testbin="${out}/conformance.test"

if [[ "${PORTICO_IN_NETNS:-}" != "1" ]]; then
  export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
  go="${GO:-go}"
  mkdir -p "${out}" "${repo}/bin"
  t0=${SECONDS}

  echo "==> build bin/portico"
  "${go}" build -o bin/portico ./cmd/portico

  echo "==> kube-apiserver, kube-controller-manager and etcd (cached)"
  kube_dir="$(hack/conformance-build-kube.sh | tail -n1)"

  echo "==> build the conformance test binary"
  crd_dir="$(cd test/conformance && "${go}" list -m -f '{{.Dir}}' sigs.k8s.io/gateway-api)/config/crd/experimental"
  (cd test/conformance && "${go}" test -c -o "${testbin}" .)

  version="$(git describe --tags --always --dirty 2>/dev/null || true)"
  if [[ ! "${version}" =~ ^v[0-9] ]]; then
    version="v0.0.0-${version:-dev}"
  fi
  echo "==> ready in $((SECONDS - t0))s; entering a private network namespace"

  unshare_args=(-n)
  if [[ "$(id -u)" != "0" ]]; then
    unshare_args=(-r -n) # a user namespace gives the capabilities
  fi
  exec unshare "${unshare_args[@]}" -- env \
    PORTICO_IN_NETNS=1 \
    PORTICO_CONFORMANCE=1 \
    PORTICO_KUBE_DIR="${kube_dir}" \
    PORTICO_BINARY="${repo}/bin/portico" \
    PORTICO_CRD_DIR="${crd_dir}" \
    PORTICO_RUN_DIR="${out}" \
    PORTICO_REPORT="${report}" \
    PORTICO_VERSION="${version}" \
    GOPROXY=off \
    "$0" "${mode}"
fi

# Inside `unshare -n`: only lo exists. The Pod range (10.244.0.0/16) and the
# load-balancer range (10.245.0.0/16) become local addresses on it, so
# every Pod and Gateway gets its own address and they are valid endpoint IPs.
ip link set lo up
ip route add local 10.244.0.0/16 dev lo
ip route add local 10.245.0.0/16 dev lo

cd "${repo}/test/conformance"
start=${SECONDS}
status=0
# shellcheck disable=SC2086 # GO_TEST_FLAGS is a list of flags
"${testbin}" -test.run "${test_re}" -test.v -test.timeout "${timeout}" ${GO_TEST_FLAGS:-} 2>&1 |
  tee "${out}/${mode}.log" || status=$?
echo "==> ${mode} exited with ${status} after $((SECONDS - start))s (log: ${out}/${mode}.log)"
if [[ "${mode}" == "run" && -f "${report}" ]]; then
  echo "==> report: ${report}"
fi
exit "${status}"
