#!/usr/bin/env bash
# Install what tunsim needs from Debian's packages (run as root), then build.
# Idempotent: packages already installed are not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake make git
  libns3-dev ns3 libgsl-dev          # ns-3.37; ns3 and libgsl-dev only because
                                     # Debian's ns3Config.cmake references their files
  libboost-program-options-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libmimalloc-dev
  python3 python3-matplotlib parallel
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root (or install them)" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# TUNSIM_SETUP_BUILD=0: the packages only (scripts/fuzz.sh, scripts/sanitize.sh
# build elsewhere).
if [ "${TUNSIM_SETUP_BUILD:-1}" = 1 ]; then
  BUILD_DIR=${BUILD_DIR:-build}
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)"
fi
