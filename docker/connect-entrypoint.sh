#!/usr/bin/env bash
# Starts ConnectDistributed with the project's worker properties (config/connect-distributed.properties,
# mounted or baked in) plus the per-container settings that differ from the local stack. Later keys
# win in a Java properties file, so the overrides are simply appended (as bin/stack does).
#
#   CONNECT_WORKER_PROPERTIES          source file (default /etc/bq2k/connect-distributed.properties)
#   CONNECT_BOOTSTRAP_SERVERS          default kafka:19092 (the broker's internal listener)
#   CONNECT_LISTENERS                  default http://0.0.0.0:8083
#   CONNECT_REST_ADVERTISED_HOST_NAME  default: this container's hostname
#   CONNECT_REST_ADVERTISED_PORT       default 8083
#   CONNECT_PLUGIN_PATH                default /opt/bq2k/plugins
#   CONNECT_EXTRA_PROPERTIES           more lines to append verbatim (e.g. exactly.once.source.support=enabled)
set -euo pipefail
src=${CONNECT_WORKER_PROPERTIES:-/etc/bq2k/connect-distributed.properties}
out=${CONNECT_MERGED_PROPERTIES:-/tmp/worker.properties}
[ -r "$src" ] || { echo "connect-entrypoint: cannot read $src" >&2; exit 1; }
cp "$src" "$out"
{
  echo
  echo "# ---- appended by connect-entrypoint.sh (container overrides)"
  echo "bootstrap.servers=${CONNECT_BOOTSTRAP_SERVERS:-kafka:19092}"
  echo "listeners=${CONNECT_LISTENERS:-http://0.0.0.0:8083}"
  echo "rest.advertised.host.name=${CONNECT_REST_ADVERTISED_HOST_NAME:-$(hostname)}"
  echo "rest.advertised.port=${CONNECT_REST_ADVERTISED_PORT:-8083}"
  echo "plugin.path=${CONNECT_PLUGIN_PATH:-/opt/bq2k/plugins}"
  if [ -n "${CONNECT_EXTRA_PROPERTIES:-}" ]; then printf '%s\n' "$CONNECT_EXTRA_PROPERTIES"; fi
} >> "$out"
echo "connect-entrypoint: worker properties $out (from $src + overrides):" >&2
grep -v '^[[:space:]]*\(#\|$\)' "$out" | sed 's/^/  /' >&2
exec /opt/kafka/bin/connect-distributed.sh "$out"
