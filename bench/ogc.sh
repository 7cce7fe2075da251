#!/usr/bin/env bash
# bench/ogc.sh — OGC API – Features bbox pages of the benchmark buildings (BENCHMARKS "OGC API").
#
# Loads the benchmark city as bench/tiles.sh does (layer bench_buildings in database
# geoportal_bench_tiles; reused with SKIP_IMPORT=1), starts `geoportal serve` on it and, with wrk
# and bench/listwalk.lua, asks for 1,000-limit bbox pages (one per z15 tile of the city, 912
# pages, seeded order) for DURATION_S seconds at CONC connections, once per Accept-Encoding
# (none, gzip, zstd), after one warm-up pass. Prints requests/s, p50/p99 and bytes per answer.
# Traffic goes to 127.0.0.1 only; every pass is bounded in time.
#
# Env: CITY=/tmp/city OUT=/tmp/bench-out-ogc PORT=18441 CONC=8 DURATION_S=15 ZOOM=15
#      SKIP_IMPORT=1 (reuse the database), KEEP_DB=1 (keep it), BIN=path (a built geoportal)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/bench-out-ogc}
PORT=${PORT:-18441}
CONC=${CONC:-8}
DURATION_S=${DURATION_S:-15}
ZOOM=${ZOOM:-15}
DBNAME=${DBNAME:-geoportal_bench_tiles}
cd "$ROOT"
mkdir -p "$OUT"
log() { printf '[%s] %s\n' "$(date -u +%T)" "$*" >&2; }
for c in wrk curl go psql; do
  command -v "$c" >/dev/null || { echo "bench/ogc.sh: $c not found (scripts/deps.sh installs it)" >&2; exit 2; }
done
if [[ -z ${BIN:-} ]]; then
  BIN=$OUT/geoportal
  log "building geoportal"
  go build -o "$BIN" ./cmd/geoportal
fi
if [[ -z ${SKIP_IMPORT:-} ]]; then
  KEEP_DB=1 IMPORT_ONLY=1 BIN=$BIN OUT=$OUT bench/tiles.sh
fi
ADMIN_URL=$("$BIN" db url)
DB_URL=$(printf '%s' "$ADMIN_URL" | sed -E "s#/[^/?]+(\?|\$)#/$DBNAME\1#")
go run ./bench/tileurls -zooms "$ZOOM" -bbox -shuffle >"$OUT/bboxes.txt"

SERVER_PID=""
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  if [[ -z ${KEEP_DB:-} ]]; then
    psql "$ADMIN_URL" -X -q -c "DROP DATABASE IF EXISTS $DBNAME WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
GEOPORTAL_WIALON_ADDR=off DATABASE_URL=$DB_URL "$BIN" serve -addr "127.0.0.1:$PORT" -log-level warn >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.5; done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" || { echo "geoportal did not start; see $OUT/server.log" >&2; exit 1; }

export WALK_LIST=$OUT/bboxes.txt WALK_PATH="/ogc/collections/bench_buildings/items?limit=1000&bbox="
features=$(awk 'NR==1' "$OUT/bboxes.txt" | xargs -I{} curl -s "http://127.0.0.1:$PORT${WALK_PATH}{}" | grep -o '"numberReturned":[0-9]*')
log "first page: $features; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| Accept-Encoding | requests/s | p50 / p99 ms | bytes per answer | errors |\n|---|---:|---:|---:|---:|\n'
for enc in warmup none gzip zstd; do
  hdr=()
  case $enc in gzip|zstd) hdr=(-H "Accept-Encoding: $enc") ;; esac
  d=$DURATION_S
  [[ $enc == warmup ]] && d=5
  res=$(timeout $((d + 30)) wrk -t2 -c"$CONC" -d"${d}s" --timeout 30s "${hdr[@]}" -s bench/listwalk.lua "http://127.0.0.1:$PORT" | grep '^RESULT')
  [[ $enc == warmup ]] && continue
  declare -A kv=()
  for f in ${res#RESULT }; do kv[${f%%=*}]=${f#*=}; done
  printf '| %s | %s | %s / %s | %s | %d |\n' "$enc" "${kv[requests_per_s]}" "${kv[p50_ms]}" "${kv[p99_ms]}" \
    "${kv[bytes_per_answer]}" $(( ${kv[bad_status]} + ${kv[sock_errors]} ))
done
log "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
