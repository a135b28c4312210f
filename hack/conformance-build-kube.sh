#!/usr/bin/env bash
# Build (or reuse) the control plane for the conformance harness:
# kube-apiserver and kube-controller-manager v1.36.3 from the Go module proxy,
# and an embedded etcd, from the separate module test/conformance/kube.
#
# The binaries are cached outside the repository, in a directory that survives
# across CI runs on the same machine:
#   ${PORTICO_CACHE:-/var/cache/portico}/kube-v1.36.3/<key>/
# where <key> is a hash of the module's go.mod, go.sum and sources. A build
# happens only when that directory is missing; it is built in a temporary
# directory and renamed into place, under a lock so two runs never build at
# once. The path of the directory is printed on the last line of stdout.
#
# Usage: hack/conformance-build-kube.sh [--print-dir]
#   --print-dir  print the cache directory for the current sources and exit
#                (no build; the directory may not exist yet)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod="${repo}/test/conformance/kube"
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
go="${GO:-go}"

kube_version="v1.36.3"
cache_root="${PORTICO_CACHE:-/var/cache/portico}"

# The key: everything that decides the binaries' content.
key="$(cd "${mod}" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 |
  LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
dir="${cache_root}/kube-${kube_version}/${key}"

if [[ "${1:-}" == "--print-dir" ]]; then
  echo "${dir}"
  exit 0
fi

have() { [[ -x "${dir}/kube-apiserver" && -x "${dir}/kube-controller-manager" && -x "${dir}/etcd" ]]; }

if have; then
  echo "==> kube ${kube_version}: cached in ${dir}" >&2
  echo "${dir}"
  exit 0
fi

mkdir -p "${cache_root}/kube-${kube_version}"
exec 9>"${cache_root}/kube-${kube_version}/.lock"
echo "==> kube ${kube_version}: waiting for the build lock" >&2
flock 9
if have; then # another run built it while we waited
  echo "==> kube ${kube_version}: cached in ${dir}" >&2
  echo "${dir}"
  exit 0
fi

tmp="$(mktemp -d "${cache_root}/kube-${kube_version}/.build.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

ldflags="-X k8s.io/component-base/version.gitVersion=${kube_version}"
ldflags+=" -X k8s.io/component-base/version.gitMajor=$(echo "${kube_version#v}" | cut -d. -f1)"
ldflags+=" -X k8s.io/component-base/version.gitMinor=$(echo "${kube_version#v}" | cut -d. -f2)"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"

echo "==> kube ${kube_version}: building into ${dir} (the first build takes 5 to 10 minutes)" >&2
start=${SECONDS}
(
  cd "${mod}"
  "${go}" mod download
  # Static binaries, as upstream releases are built.
  CGO_ENABLED=0 "${go}" build -ldflags "${ldflags}" -o "${tmp}/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    ./cmd/etcd
) >&2
"${tmp}/kube-apiserver" --version >&2
echo "==> kube ${kube_version}: built in $((SECONDS - start))s" >&2

chmod 755 "${tmp}"
mv "${tmp}" "${dir}"
trap - EXIT
# Drop older builds of the same version (other keys); keep the cache small.
for old in "${cache_root}/kube-${kube_version}"/*/; do
  [[ "${old%/}" == "${dir}" ]] && continue
  rm -rf "${old}"
done
echo "${dir}"
