#!/usr/bin/env bash
# The one-command demo: build Portico, start two echo backends and Portico in
# standalone mode on examples/quickstart, and show what to try.
#
#   hack/demo.sh           # runs until Ctrl-C
#   hack/demo.sh --check   # sends the example requests, checks them, exits
#
# Everything listens on 127.0.0.1 only: the gateway on :8080, the admin API
# on :9901 and the echo backends on :3001 and :3002. On exit the script stops
# exactly the processes it started.
set -euo pipefail

export GOTOOLCHAIN=auto

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CONFIG=examples/quickstart
GATEWAY=127.0.0.1:8080
ADMIN=127.0.0.1:9901
BIN=bin/portico

check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

pids=()
LOGDIR=
cleanup() {
  local code=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [[ $code -ne 0 && $code -ne 130 && $code -ne 143 ]]; then
    echo "demo: exited with $code; logs are in $LOGDIR" >&2
  elif [[ -n $LOGDIR ]]; then
    rm -rf "$LOGDIR"
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

LOGDIR=$(mktemp -d "${TMPDIR:-/tmp}/portico-demo.XXXXXX")

# port_free HOST:PORT: true when nothing accepts connections there.
port_free() {
  ! (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null
}

for addr in "$GATEWAY" "$ADMIN" 127.0.0.1:3001 127.0.0.1:3002; do
  if ! port_free "$addr"; then
    echo "demo: $addr is already in use; stop whatever listens there and retry" >&2
    exit 1
  fi
done

echo "==> go build -o $BIN ./cmd/portico"
go build -o "$BIN" ./cmd/portico

echo "==> starting the echo backends (logs in $LOGDIR)"
"$BIN" echo --listen 127.0.0.1:3001 --name echo-v1 --service echo-v1 --namespace default \
  >"$LOGDIR/echo-v1.log" 2>&1 &
pids+=($!)
"$BIN" echo --listen 127.0.0.1:3002 --name echo-v2 --service echo-v2 --namespace default \
  >"$LOGDIR/echo-v2.log" 2>&1 &
pids+=($!)

echo "==> $BIN run --config $CONFIG --admin-address $ADMIN --bind-address 127.0.0.1"
"$BIN" run --config "$CONFIG" --admin-address "$ADMIN" --bind-address 127.0.0.1 \
  >"$LOGDIR/portico.log" 2>&1 &
portico_pid=$!
pids+=("$portico_pid")

# Wait (bounded) until the admin API says the first config is applied.
ready=false
for _ in $(seq 1 100); do
  if ! kill -0 "$portico_pid" 2>/dev/null; then
    echo "demo: portico exited early; see $LOGDIR/portico.log" >&2
    exit 1
  fi
  if exec 3<>"/dev/tcp/${ADMIN%:*}/${ADMIN##*:}" 2>/dev/null; then
    printf 'GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n' "$ADMIN" >&3
    line=
    read -t 2 -r line <&3 || true
    if [[ $line == *" 200 "* ]]; then ready=true; fi
    exec 3<&-
    $ready && break
  fi
  sleep 0.1
done
if ! $ready; then
  echo "demo: portico was not ready within 10s (GET http://$ADMIN/readyz)" >&2
  exit 1
fi

echo
echo "==> $BIN status --config $CONFIG"
"$BIN" status --config "$CONFIG" || true

cat <<EOT

Portico is serving http://$GATEWAY. Try:

  curl -s http://$GATEWAY/hello | grep pod
      -> "pod": "echo-v1"            (PathPrefix / goes to echo-v1)
  curl -s -H 'X-Canary: true' http://$GATEWAY/hello | grep pod
      -> "pod": "echo-v2"            (the header match wins)
  for i in \$(seq 20); do curl -s http://$GATEWAY/split | grep pod; done | sort | uniq -c
      -> about 16 echo-v1, 4 echo-v2 (weights 80/20)
  curl -s http://$GATEWAY/headers -H 'X-Demo: mine'
      -> "headers" shows X-Demo: portico (replaced), X-Added: yes, no User-Agent
  curl -si http://$GATEWAY/old/page | head -3
      -> HTTP/1.1 301 Moved Permanently, Location: http://$GATEWAY/new/page

  curl -s http://$ADMIN/status     # status of every object, as JSON
  curl -s http://$ADMIN/config     # the IR the proxy serves (keys redacted)

Logs: tail -f $LOGDIR/portico.log (and echo-v1.log, echo-v2.log)
Edit $CONFIG/routes.yaml and save: Portico reloads it without dropping requests.
Press Ctrl-C to stop.
EOT

if $check; then
  failed=0
  # expect NAME URL PATTERN [curl args...]: the response (with headers, and
  # whitespace removed so that JSON on several lines matches) must match.
  expect() {
    local name=$1 url=$2 pattern=$3 out
    shift 3
    out=$(curl -s -i --max-time 5 "$@" "$url" || true)
    if grep -Eq "$pattern" <<<"$(tr -d ' \r\n' <<<"$out")"; then
      echo "ok   $name"
    else
      echo "FAIL $name: $url did not match /$pattern/:"; echo "$out" | head -20
      failed=1
    fi
  }
  command -v curl >/dev/null || { echo "demo --check needs curl" >&2; exit 1; }
  expect "default route" "http://$GATEWAY/hello" '"pod":"echo-v1"'
  expect "header match" "http://$GATEWAY/hello" '"pod":"echo-v2"' -H 'X-Canary: true'
  expect "header modifier" "http://$GATEWAY/headers" '"X-Demo":\["portico"\].*"X-Added":\["yes"\]|"X-Added":\["yes"\].*"X-Demo":\["portico"\]' -H 'X-Demo: mine'
  expect "redirect" "http://$GATEWAY/old/page" '^HTTP/1.1301.*Location:http://[^/]+/new/page'
  v2=0
  for _ in $(seq 1 50); do
    if curl -s --max-time 5 "http://$GATEWAY/split" | grep -q '"pod": "echo-v2"'; then v2=$((v2 + 1)); fi
  done
  if ((v2 >= 2 && v2 <= 25)); then echo "ok   split ($v2/50 to echo-v2)"; else echo "FAIL split: $v2/50 to echo-v2, want about 10"; failed=1; fi
  exit "$failed"
fi

wait "$portico_pid"
