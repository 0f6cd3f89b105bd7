#!/usr/bin/env bash
# Installs driftbox into a prefix, like any command-line tool:
#   PREFIX/bin/driftbox
#   PREFIX/libexec/driftbox/driftbox-launcher
#   PREFIX/share/driftbox/policies/*.policy
#   PREFIX/share/driftbox/Fixtures/   (fixtures, scenarios, suites, trajectories)
# The installed driftbox finds all of these from its own path, so it works from any folder.
#
# Usage: scripts/install.sh PREFIX [--from BUILD_DIR]
#   Without --from it builds the release configuration first (`swift build -c release`);
#   --from copies the executables of an existing build folder (e.g. .build/debug) instead.
set -euo pipefail
usage() { echo "usage: scripts/install.sh PREFIX [--from BUILD_DIR]" >&2; exit 1; }
[ $# -ge 1 ] || usage
prefix=$1; shift
from=""
while [ $# -gt 0 ]; do
    case $1 in
        --from) [ $# -ge 2 ] || usage; from=$2; shift 2 ;;
        *) usage ;;
    esac
done
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$from" ]; then
    (cd "$root" && swift build -c release --static-swift-stdlib --product driftbox && swift build -c release --product driftbox-launcher)
    from=$(cd "$root" && swift build -c release --show-bin-path)
fi
for exe in driftbox driftbox-launcher; do
    [ -x "$from/$exe" ] || { echo "install: no executable $from/$exe; build it first" >&2; exit 1; }
done
mkdir -p "$prefix/bin" "$prefix/libexec/driftbox" "$prefix/share/driftbox"
prefix=$(cd "$prefix" && pwd)
install -m 0755 "$from/driftbox" "$prefix/bin/driftbox"
install -m 0755 "$from/driftbox-launcher" "$prefix/libexec/driftbox/driftbox-launcher"
rm -rf "$prefix/share/driftbox/policies" "$prefix/share/driftbox/Fixtures"
cp -R "$root/sandbox/policies" "$prefix/share/driftbox/policies"
cp -R "$root/Fixtures" "$prefix/share/driftbox/Fixtures"
echo "installed $prefix/bin/driftbox"
