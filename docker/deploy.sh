#!/usr/bin/env bash
# Deploy the project's connector configs (../config/*.json) to the compose stack's Connect worker.
#
#   docker/deploy.sh [--demo-data [--rows N]] [--wait] [CONFIG.json...]
#       default configs: config/source-bigquery-demo.json config/sink-debezium-mysql.json
#
# The configs address the local stack on 127.0.0.1 with ${BQ_REST_PORT:-9050}-style placeholders.
# Inside compose the worker reaches the other services by name, so for each file this script
#   1. rewrites 127.0.0.1:${BQ_REST_PORT...}  -> bigquery-emulator:9050
#               127.0.0.1:${BQ_GRPC_PORT...}  -> bigquery-emulator:9060
#               127.0.0.1:${MYSQL_PORT...}    -> mysql:3306
#      (container-side ports: the host's BQ_REST_PORT etc. do not apply inside the network);
#   2. substitutes the remaining ${NAME} / ${NAME:-default} from the environment (an unset
#      placeholder without default is an error), as bin/deploy does;
#   3. PUT /connector-plugins/{class}/config/validate must report "error_count":0;
#   4. PUT /connectors/{name}/config (idempotent: creates or updates).
# --demo-data  first creates demo.user_features_src in the emulator (N users, default 10000; the same
#              formula as bin/demo's `DemoMain load`), which the demo source query reads.
# --wait       wait until each connector and its tasks are RUNNING.
#
# Environment: CONNECT_URL (default http://localhost:${CONNECT_HOST_PORT:-8083}),
#              BQ_URL (default http://localhost:${BQ_REST_HOST_PORT:-9050}), BQ_PROJECT (demo).
# Needs bash and curl only (no jq/python).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CONNECT_URL=${CONNECT_URL:-http://localhost:${CONNECT_HOST_PORT:-8083}}
BQ_URL=${BQ_URL:-http://localhost:${BQ_REST_HOST_PORT:-9050}}
BQ_PROJECT=${BQ_PROJECT:-demo}
# Inside the compose network (not the host's port mappings).
export BQ_REST_PORT=9050 BQ_GRPC_PORT=9060 MYSQL_PORT=3306
export MYSQL_USER=${MYSQL_USER:-sync} MYSQL_PASSWORD=${MYSQL_PASSWORD:-sync}
export KAFKA_PORT=19092 CONNECT_PORT=8083

DEMO=0; ROWS=10000; WAIT=0; FILES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --demo-data) DEMO=1; shift ;;
    --rows) ROWS=$2; shift 2 ;;
    --wait) WAIT=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    -*) echo "deploy: unknown option $1" >&2; exit 2 ;;
    *) FILES+=("$1"); shift ;;
  esac
done
[ ${#FILES[@]} -gt 0 ] || FILES=("$ROOT/config/source-bigquery-demo.json" "$ROOT/config/sink-debezium-mysql.json")

die() { echo "deploy: $*" >&2; exit 1; }

# ${NAME} / ${NAME:-default} from the environment.
substitute() {
  local s=$1 out="" re='\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}' whole name val
  while [[ $s =~ $re ]]; do
    whole=${BASH_REMATCH[0]}; name=${BASH_REMATCH[1]}
    if [ -n "${!name+x}" ]; then val=${!name}
    elif [ -n "${BASH_REMATCH[2]}" ]; then val=${BASH_REMATCH[3]}
    else die "unset placeholder \${$name} (set $name in the environment)"; fi
    out+=${s%%"$whole"*}$val
    s=${s#*"$whole"}
  done
  printf '%s' "$out$s"
}

# 127.0.0.1 addresses of the local stack -> compose service names.
rehost() {
  local s=$1
  s=${s//'127.0.0.1:${BQ_REST_PORT'/'bigquery-emulator:${BQ_REST_PORT'}
  s=${s//'127.0.0.1:${BQ_GRPC_PORT'/'bigquery-emulator:${BQ_GRPC_PORT'}
  s=${s//'127.0.0.1:${MYSQL_PORT'/'mysql:${MYSQL_PORT'}
  case "$s" in *127.0.0.1*|*localhost*) die "a loopback address is left that has no compose equivalent: $(grep -o '[^"]*\(127\.0\.0\.1\|localhost\)[^"]*' <<<"$s" | head -n 1)";; esac
  printf '%s' "$s"
}

# The first "key": "string" value of a JSON text (the files are flat {"name":..., "config":{...}}).
json_string() {
  local re="\"$1\"[[:space:]]*:[[:space:]]*\"([^\"]*)\""
  [[ $2 =~ $re ]] && printf '%s' "${BASH_REMATCH[1]}"
}

# The object after "config": (everything up to the outer closing brace).
config_object() {
  local s=$1 re='"config"[[:space:]]*:[[:space:]]*(\{.*\})[[:space:]]*\}[[:space:]]*$'
  s=$(printf '%s' "$s" | tr '\n' ' ')
  [[ $s =~ $re ]] || return 1
  printf '%s' "${BASH_REMATCH[1]}"
}

http() { # METHOD URL [BODY] -> prints body, returns non-zero on HTTP >= 400
  local code body tmp; tmp=$(mktemp)
  if [ $# -ge 3 ]; then
    code=$(curl -sS -o "$tmp" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' --data-binary "$3" "$2") || { rm -f "$tmp"; return 1; }
  else
    code=$(curl -sS -o "$tmp" -w '%{http_code}' -X "$1" "$2") || { rm -f "$tmp"; return 1; }
  fi
  body=$(cat "$tmp"); rm -f "$tmp"
  printf '%s' "$body"
  [ "$code" -lt 400 ]
}

wait_for() { # DESCRIPTION URL SECONDS
  local i
  for ((i = 0; i < $3; i += 2)); do
    if curl -fsS -o /dev/null "$2" 2>/dev/null; then return 0; fi
    sleep 2
  done
  die "$1 not reachable at $2 after $3 s (docker compose -f docker/compose.yaml ps / logs)"
}

bq_query() { # SQL (one line, no double quotes) -> fails on an "errors" answer
  local r
  r=$(http POST "$BQ_URL/bigquery/v2/projects/$BQ_PROJECT/queries" "{\"query\": \"$1\", \"useLegacySql\": false, \"timeoutMs\": 600000}") \
    || die "emulator: HTTP error for: $1 -> $r"
  case "$r" in *'"errors"'*|*'"errorResult"'*) die "emulator: query failed: $1 -> $r";; esac
  printf '%s' "$r"
}

if [ "$DEMO" = 1 ]; then
  wait_for "BigQuery emulator" "$BQ_URL/bigquery/v2/projects/$BQ_PROJECT/datasets" 120
  echo "deploy: loading demo.user_features_src ($ROWS users) into the emulator at $BQ_URL"
  bq_query "CREATE SCHEMA IF NOT EXISTS demo" > /dev/null
  bq_query "CREATE OR REPLACE TABLE demo.user_features_src AS SELECT id AS user_id, \
CASE MOD(id, 7) WHEN 0 THEN 'Deutschland' WHEN 1 THEN 'Österreich' WHEN 2 THEN '日本' WHEN 3 THEN 'España' WHEN 4 THEN 'France' WHEN 5 THEN NULL ELSE 'Brasil' END AS country, \
CASE MOD(id, 3) WHEN 0 THEN 'pro' WHEN 1 THEN 'free' ELSE 'team' END AS plan, \
CASE MOD(id, 4) WHEN 0 THEN NULL WHEN 1 THEN 'control' ELSE CONCAT('variant_', CAST(MOD(id, 4) AS STRING)) END AS experiment_group, \
CASE WHEN MOD(id, 11) = 0 THEN NULL ELSE CAST(CONCAT(IF(MOD(id, 23) = 0, '-', ''), CAST(MOD(id * 37, 5000) AS STRING), '.', LPAD(CAST(MOD(id * 7919, 1000000000) AS STRING), 9, '0')) AS NUMERIC(38, 9)) END AS ltv_usd, \
CASE WHEN MOD(id, 17) = 0 THEN NULL ELSE TIMESTAMP_MICROS(1763000000000000 + MOD(id * 982451653, 2592000000000)) END AS last_seen_at, \
CASE WHEN MOD(id, 29) = 0 THEN NULL ELSE DATE_FROM_UNIX_DATE(18000 + MOD(id * 13, 2000)) END AS signup_date, \
MOD(id * 31, 120) AS sessions_30d, \
CASE WHEN MOD(id, 19) = 0 THEN NULL ELSE CAST(MOD(id * 7, 1000) AS FLOAT64) / 1000 END AS churn_score, \
MOD(id, 5) = 0 AS viewed_screen_x \
FROM UNNEST(GENERATE_ARRAY(1, $ROWS)) AS id" > /dev/null
  echo "deploy: $(bq_query "SELECT COUNT(*) AS n FROM demo.user_features_src" | grep -o '"v"[[:space:]]*:[[:space:]]*"[0-9]*"' | head -n 1 | grep -o '[0-9][0-9]*') rows in demo.user_features_src"
fi

wait_for "Connect REST API" "$CONNECT_URL/connector-plugins" 180

NAMES=()
for f in "${FILES[@]}"; do
  [ -r "$f" ] || die "cannot read $f"
  text=$(substitute "$(rehost "$(cat "$f")")")
  name=$(json_string name "$text") || die "$f: no \"name\""
  cls=$(json_string connector.class "$text") || die "$f: no \"connector.class\""
  cfg=$(config_object "$text") || die "$f: no \"config\" object"
  echo "deploy: $name ($cls) from ${f#"$ROOT"/}"
  v=$(http PUT "$CONNECT_URL/connector-plugins/$cls/config/validate" "$cfg") || die "validate $name: $v"
  if ! grep -q '"error_count"[[:space:]]*:[[:space:]]*0[,}]' <<<"$v"; then
    echo "deploy: $name does not validate:" >&2
    grep -o '"name":"[^"]*","value":[^}]*"errors":\[[^]]\+\]' <<<"$v" >&2 || echo "$v" >&2
    exit 1
  fi
  r=$(http PUT "$CONNECT_URL/connectors/$name/config" "$cfg") || die "PUT $name: $r"
  echo "deploy:   PUT /connectors/$name/config ok"
  NAMES+=("$name")
done

for name in "${NAMES[@]}"; do
  if [ "$WAIT" = 1 ]; then
    for ((i = 0; i < 90; i += 2)); do
      s=$(http GET "$CONNECT_URL/connectors/$name/status" || true)
      case "$s" in *'"FAILED"'*) die "$name failed: $s";; esac
      if grep -q '"tasks":\[{' <<<"$s" && ! grep -q '"state":"\(UNASSIGNED\|PAUSED\|RESTARTING\)"' <<<"$s"; then break; fi
      sleep 2
    done
  fi
  echo "deploy: $name status: $(http GET "$CONNECT_URL/connectors/$name/status" || true)"
done
