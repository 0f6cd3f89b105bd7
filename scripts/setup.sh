#!/usr/bin/env bash
# Installs the system packages driftbox needs on Debian or Ubuntu (only those missing), so that
# `swift build`, `swift run driftbox run` and `swift test` work on a machine with only Swift.
# Uses sudo when not run as root. Prints what it installs; does nothing when all are present.
set -euo pipefail

# Build: libgit2, libseccomp, pkg-config. The demo agent: python3, patch. Tests: git (compared
# against), gcc (hostile programs), curl/wget (network attacks), python3-venv (agents),
# bubblewrap (benchmark reference), chromium (the HTML report is checked in headless Chromium),
# openssl (the gateway tests' certificate authority).
packages=(libgit2-dev libseccomp-dev pkg-config python3 patch git gcc curl wget python3-venv bubblewrap chromium openssl)

if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: this is not a Debian or Ubuntu system; install the equivalents of: ${packages[*]}" >&2
    exit 1
fi
need=()
for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ "${#need[@]}" -eq 0 ]; then
    exit 0
fi
echo "setup: installing ${need[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: run as root, or install sudo: apt-get install ${need[*]}" >&2; exit 1; }
    SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
