#!/usr/bin/env bash
# Run h2spec (HTTP/2 conformance) by hand against a fresh portico, the way
# test/e2e's TestH2Spec does, to look at one case in detail (-v shows every
# frame sent and received).
#
# It builds ./cmd/portico and h2spec (pinned by the module test/h2spec) into
# a temporary directory, starts `portico echo` and `portico run` on a config
# with an HTTPS listener (self-signed certificate, made with openssl) and an
# HTTP listener on free loopback ports, runs h2spec against one listener,
# stops both processes and exits with h2spec's status.
#
# Usage: hack/h2spec.sh [-e ENGINE] [-l tls|h2c] [-- H2SPEC_ARGS...]
#   -e ENGINE   PORTICO_HTTP_ENGINE for portico run: h1 (default) or nethttp
#   -l tls      the HTTPS listener, h2 by ALPN: h2spec -t -k (default)
#   -l h2c      the cleartext listener, HTTP/2 with prior knowledge
#   H2SPEC_ARGS passed to h2spec after -h/-p/-t/-k, e.g. -v, -S, case ids
# Environment: H2SPEC_PORTICO_LOG=FILE keeps portico's debug log in FILE.
#
# Examples:
#   hack/h2spec.sh                                  # the whole suite, h1, TLS
#   hack/h2spec.sh -e nethttp -l h2c -- -v http2/6.5.3/1
#   hack/h2spec.sh -- -v http2/4.2                  # one section, verbose
#
# Against a portico that is already running, use h2spec directly:
#   (cd test/h2spec && go tool h2spec -p PORT [-t -k] [-v] [CASE...])
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
go="${GO:-go}"

engine=h1
listener=tls
while getopts "e:l:h" opt; do
  case "${opt}" in
    e) engine="${OPTARG}" ;;
    l) listener="${OPTARG}" ;;
    h) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
case "${listener}" in
  tls | h2c) ;;
  *) echo "h2spec.sh: -l must be tls or h2c, not ${listener}" >&2; exit 2 ;;
esac

work="$(mktemp -d "${TMPDIR:-/tmp}/portico-h2spec.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "${pid}" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "${pid}" 2>/dev/null || true
  done
  rm -rf "${work}"
}
trap cleanup EXIT

# A port on 127.0.0.1 that nothing answers on right now.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/${p}") 2>/dev/null; then
      echo "${p}"
      return 0
    fi
  done
  echo "h2spec.sh: no free port found" >&2
  return 1
}

echo "==> building portico and h2spec" >&2
(cd "${repo}" && "${go}" build -buildvcs=false -o "${work}/portico" ./cmd/portico)
"${go}" build -C "${repo}/test/h2spec" -buildvcs=false -o "${work}/h2spec" github.com/summerwind/h2spec/cmd/h2spec

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=h2spec.example.com -addext subjectAltName=DNS:h2spec.example.com \
  -keyout "${work}/key.pem" -out "${work}/cert.pem" 2>/dev/null

echo_port="$(free_port)"
http_port="$(free_port)"
https_port="$(free_port)"
admin_port="$(free_port)"
mkdir "${work}/config"
cat >"${work}/config/all.yaml" <<EOF
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  gatewayClassName: portico
  listeners:
  - name: http
    protocol: HTTP
    port: ${http_port}
  - name: https
    protocol: HTTPS
    port: ${https_port}
    tls:
      mode: Terminate
      certificateRefs:
      - kind: Secret
        name: cert
---
apiVersion: v1
kind: Secret
metadata:
  name: cert
type: kubernetes.io/tls
data:
  tls.crt: $(base64 -w0 "${work}/cert.pem")
  tls.key: $(base64 -w0 "${work}/key.pem")
---
apiVersion: v1
kind: Service
metadata:
  name: echo-h2spec
spec:
  ports:
  - name: http
    protocol: TCP
    port: 80
    targetPort: ${echo_port}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo-h2spec-local
  labels:
    kubernetes.io/service-name: echo-h2spec
addressType: IPv4
ports:
- name: http
  protocol: TCP
  port: ${echo_port}
endpoints:
- addresses: ["127.0.0.1"]
  conditions:
    ready: true
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: root
spec:
  parentRefs:
  - name: gw
  rules:
  - matches:
    - path:
        type: PathPrefix
        value: /
    backendRefs:
    - name: echo-h2spec
      port: 80
EOF

"${work}/portico" echo --listen "127.0.0.1:${echo_port}" --name echo-h2spec >"${work}/echo.log" 2>&1 &
pids+=($!)
PORTICO_HTTP_ENGINE="${engine}" "${work}/portico" run --config "${work}/config" \
  --admin-address "127.0.0.1:${admin_port}" --bind-address 127.0.0.1 --log-level debug \
  >"${work}/portico.log" 2>&1 &
pids+=($!)

# Ready when the admin API says so and the listener answers.
port="${https_port}"
[[ "${listener}" == h2c ]] && port="${http_port}"
for i in $(seq 300); do
  if curl -sf -o /dev/null "http://127.0.0.1:${admin_port}/readyz" &&
    (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null; then
    break
  fi
  if ((i == 300)) || ! kill -0 "${pids[1]}" 2>/dev/null; then
    echo "h2spec.sh: portico did not get ready; its output:" >&2
    cat "${work}/portico.log" >&2
    exit 1
  fi
  sleep 0.1
done

args=(-h 127.0.0.1 -p "${port}")
[[ "${listener}" == tls ]] && args+=(-t -k)
echo "==> engine ${engine}, listener ${listener}: h2spec ${args[*]} $*" >&2
status=0
"${work}/h2spec" "${args[@]}" "$@" || status=$?
if [[ -n "${H2SPEC_PORTICO_LOG:-}" ]]; then
  cp "${work}/portico.log" "${H2SPEC_PORTICO_LOG}"
  echo "==> portico's debug log: ${H2SPEC_PORTICO_LOG}" >&2
fi
exit "${status}"
