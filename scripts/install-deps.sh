#!/bin/sh
# Installs what initsweep needs from Debian's archive (skips what is there).
# Usage: scripts/install-deps.sh [--slurm]
set -eu
pkgs="build-essential cmake pkg-config libopenmpi-dev openmpi-bin libopenblas-dev
libgsl-dev libyaml-dev zlib1g-dev python3-matplotlib python3-numpy dataset-fashion-mnist"
if [ "${1:-}" = "--slurm" ]; then
    pkgs="$pkgs slurm-wlm munge"
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "installing:$missing"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
