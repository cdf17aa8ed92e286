#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo run for real: the CNCF registry, skopeo and
# debootstrap (the testbed builds images with them), zstd, htpasswd, openssl. A no-op when present.
set -euo pipefail
declare -A tool_of=(
  [docker-registry]=docker-registry [skopeo]=skopeo [debootstrap]=debootstrap [zstd]=zstd
  [htpasswd]=apache2-utils [openssl]=openssl [curl]=curl [python3]=python3 [rpm]=rpm
)
missing=()
for tool in "${!tool_of[@]}"; do command -v "$tool" >/dev/null 2>&1 || missing+=("${tool_of[$tool]}"); done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "shipshape: missing Debian packages: ${missing[*]} (run as root or install them)" >&2
  exit 1
fi
echo "installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
