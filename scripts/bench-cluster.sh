#!/usr/bin/env bash
# The "Past one machine" figures of BENCHMARKS.md: tiles/s (cold and warm) and OGC API items/s
# through nginx, in one run, for (a) one geoportal node on the primary and (b) two nodes reading
# from a streaming replica, on the same data (the demo city), with the CPU time each process
# spent (from /proc: utime + stime, the children a process reaped included) and per request.
#
#   scripts/bench-cluster.sh        (needs go, wrk, nginx, psql: scripts/deps.sh)
#
# Env: OUT=/tmp/bench-cluster (results.md, logs)  CLUSTER_DIR=.data/bench-cluster
#      COLD_S=20 WARM_S=10 ITEMS_S=15 (each figure is bounded by these, at most 30 s)
#      CLUSTER_PORT=8190 CLUSTER_NODE_PORTS for (b) "8191 8192"; ROUNDS=2 rounds of (a) then (b)
# Tiles are drawn by PostgreSQL (GEOPORTAL_TILE_MEMORY_MB=0: no copies of the layers in the nodes'
# memory), so that the replica carries the tile reads in (b). Cold: nginx's cache emptied, nodes
# just started, every tile asked once (buildings z15-z17 over the city, shuffled, the same list in
# (a) and (b); the pass ends after COLD_S). Warm: 300 of those tiles, fetched once, then asked over and over: nginx cache hits.
# Before each configuration the layer tables are loaded into each PostgreSQL's buffers
# (pg_prewarm), so that (b)'s fresh replica does not start cold where (a)'s primary is warm.
# Traffic stays on 127.0.0.1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
OUT=${OUT:-/tmp/bench-cluster}
export CLUSTER_DIR=${CLUSTER_DIR:-$root/.data/bench-cluster}
export CLUSTER_PORT=${CLUSTER_PORT:-8190}
export CLUSTER_ACCESS_LOG=off GEOPORTAL_TILE_MEMORY_MB=0
COLD_S=${COLD_S:-20} WARM_S=${WARM_S:-10} ITEMS_S=${ITEMS_S:-15}
two_nodes=${CLUSTER_NODE_PORTS:-8191 8192}
one_node=${two_nodes%% *}
for c in go wrk psql curl; do command -v "$c" >/dev/null || { echo "bench-cluster: $c missing (scripts/deps.sh)" >&2; exit 1; }; done
mkdir -p "$OUT"
export GEOPORTAL_BIN=$OUT/geoportal
go build -o "$GEOPORTAL_BIN" ./cmd/geoportal
go build -o "$OUT/tileurls" ./bench/tileurls
"$OUT/tileurls" -zooms 15-17 -shuffle >"$OUT/cold.txt"
"$OUT/tileurls" -zooms 15-17 -sample 300 -shuffle -seed 7 >"$OUT/warm.txt"
"$OUT/tileurls" -zooms 16 -bbox -shuffle >"$OUT/bboxes.txt"
hz=$(getconf CLK_TCK)
base=http://127.0.0.1:$CLUSTER_PORT
trap 'scripts/cluster.sh down >/dev/null 2>&1 || true' EXIT

# ticks PID…: CPU ticks of each process: its own, its reaped children's, and its live children's.
# (cat, not awk, opens the files: a process that ends meanwhile must not stop the count.)
ticks() {
  awk -v roots="$*" 'BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) want[r[i]] = i }
    { pid = $1; rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " ")   # after "(comm) "
      ppid = f[2]; own = f[12] + f[13] + f[14] + f[15]                      # utime stime cutime cstime
      if (pid in want) t[want[pid]] += own; else if (ppid in want) t[want[ppid]] += own }
    END { for (i = 1; i <= n; i++) printf "%d ", t[i] + 0; print "" }' < <(cat /proc/[0-9]*/stat 2>/dev/null)
}
self_ticks() { awk '{ print $16 + $17 }' /proc/$$/stat; }

prewarm() { # DATA_DIR_NAME
  local url
  url=$("$GEOPORTAL_BIN" db -data-dir "$CLUSTER_DIR/$1" -log-level warn url)
  psql -qAt "$url" -c "SELECT count(pg_prewarm(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('layer', 'geoportal') AND c.relkind IN ('r', 'i')" >/dev/null
}

# measure CONFIG FIGURE WRK-ARGS…: runs wrk, prints one table row, appends it to results.md.
measure() {
  local config=$1 figure=$2; shift 2
  local names pids before after w0 w1 out n secs
  names=$(scripts/cluster.sh status | awk 'NR > 1 && $2 ~ /^[0-9]+$/ { print $1 }' | paste -sd' ')
  pids=$(scripts/cluster.sh status | awk 'NR > 1 && $2 ~ /^[0-9]+$/ { print $2 }' | paste -sd' ')
  before=$(ticks $pids) w0=$(self_ticks)
  out=$(timeout -s INT -k 10 40 wrk "$@" "$base")
  after=$(ticks $pids) w1=$(self_ticks)
  echo "$out" >>"$OUT/wrk.log"
  # TILEWALK (tilewalk.lua) or RESULT (listwalk.lua) lines carry the counts.
  n=$(grep -o 'answered=[0-9]*' <<<"$out" | cut -d= -f2 || true)
  secs=$(grep -o 'seconds=[0-9.]*' <<<"$out" | cut -d= -f2 || true)
  if [ -z "$n" ]; then
    n=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' <<<"$out")
    secs=$(sed -n 's/.* requests in \([0-9.]*\)\(m\?s\),.*/\1 \2/p' <<<"$out" | awk '{ print ($2 == "ms") ? $1 / 1000 : $1 }')
  fi
  local bad
  bad=$(grep -o 'bad_status=[0-9]*' <<<"$out" | cut -d= -f2 || true)
  awk -v config="$config" -v figure="$figure" -v n="$n" -v secs="$secs" -v hz="$hz" -v names="$names" \
    -v before="$before" -v after="$after" -v wrk=$((w1 - w0)) -v bad="${bad:-?}" -v load="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
      k = split(names, nm, " "); split(before, b, " "); split(after, a, " ")
      total = 0; split_ = ""
      for (i = 1; i <= k; i++) {
        ms = (a[i] - b[i]) * 1000 / hz; total += ms
        split_ = split_ sprintf("%s %.0f ms (%.2f)", nm[i], ms, ms / n) (i < k ? ", " : "")
      }
      printf "| %s | %s | %d in %.1f s | **%.0f/s** | %s | %.2f ms | %.0f ms | %s | %s |\n",
        config, figure, n, secs, n / secs, split_, total / n, wrk * 1000 / hz, bad, load
    }' | tee -a "$OUT/results.md"
}

run_config() { # CONFIG NODE_PORTS
  local config=$1
  export CLUSTER_NODE_PORTS=$2
  scripts/cluster.sh down >/dev/null
  rm -rf "$CLUSTER_DIR/nginx/cache"
  scripts/cluster.sh up >"$OUT/up-$config.log"
  psql -qAt "$("$GEOPORTAL_BIN" db -data-dir "$CLUSTER_DIR/primary" -log-level warn url)" \
    -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm" >/dev/null
  prewarm primary
  [ ! -e "$CLUSTER_DIR/replica/password" ] || [ "$config" = a ] || prewarm replica
  scripts/cluster.sh status | tee -a "$OUT/status.log"
  TILEWALK_MODE=cold TILEWALK_LIST=$OUT/cold.txt TILEWALK_PATH=/tiles/buildings/{z}/{x}/{y}.mvt TILEWALK_THREADS=1 \
    measure "$config" "tiles cold" -t1 -c8 -d"${COLD_S}s" --timeout 30s -H 'Accept-Encoding: gzip' -s bench/tilewalk.lua
  # The warm tiles into nginx's cache, then over and over.
  TILEWALK_MODE=cold TILEWALK_LIST=$OUT/warm.txt TILEWALK_PATH=/tiles/buildings/{z}/{x}/{y}.mvt TILEWALK_THREADS=1 \
    timeout 60 wrk -t1 -c4 -d30s -H 'Accept-Encoding: gzip' -s bench/tilewalk.lua "$base" >/dev/null
  TILEWALK_MODE=warm TILEWALK_LIST=$OUT/warm.txt TILEWALK_PATH=/tiles/buildings/{z}/{x}/{y}.mvt TILEWALK_THREADS=2 \
    measure "$config" "tiles warm" -t2 -c16 -d"${WARM_S}s" --timeout 30s -H 'Accept-Encoding: gzip' -s bench/tilewalk.lua
  local hit
  hit=$(curl -s -o /dev/null -D - -H 'Accept-Encoding: gzip' "$base/tiles/buildings/$(head -n1 "$OUT/warm.txt").mvt" | tr -d '\r' | sed -n 's/^X-Cache-Status: //p')
  echo "  (a warm tile afterwards: X-Cache-Status $hit)" | tee -a "$OUT/results.md"
  WALK_LIST=$OUT/bboxes.txt WALK_PATH='/ogc/collections/buildings/items?limit=100&bbox=' \
    measure "$config" "OGC items (pages of ≤100)" -t2 -c8 -d"${ITEMS_S}s" --timeout 30s -H 'Accept-Encoding: gzip' -s bench/listwalk.lua
}

{
  echo "run $(date -u +%FT%TZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "| config | figure | requests | rate | CPU per process (ms per request) | server CPU per request | wrk CPU | bad status | load |"
  echo "|---|---|---|---|---|---|---|---|---|"
} | tee "$OUT/results.md"
: >"$OUT/wrk.log"
for ((round = 1; round <= ${ROUNDS:-2}; round++)); do
  run_config a "$one_node"
  run_config b "$two_nodes"
done
echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/results.md"
