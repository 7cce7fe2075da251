#!/usr/bin/env bash
# OSM import benchmark: `geoportal import FILE.osm.pbf` (every mapped city layer) against
# osm2pgsql (Debian's 1.8, its default style, --slim --drop) on the same file and the same
# database, in alternating rounds. Wall time and peak RSS (/usr/bin/time -v) of each run.
#
# Usage: DATABASE_URL=postgres://… bench/osm.sh FILE.osm.pbf
#   (a scratch database: the mapped layers are emptied of OSM features before each of our runs,
#   osm2pgsql's planet_osm_* tables are replaced by each of its runs)
#        bench/osm.sh --bigger FILE.osm.pbf N OUT.osm.pbf   writes N renumbered copies of FILE
#   merged into one extract (N times the nodes, same places), for the memory-per-node figure
# Env: RUNS (default 3), GEOPORTAL (default bin/geoportal)
# The machine may be shared: compare the two tools within one run (the ratio), not across runs.
set -euo pipefail
if [[ ${1:-} == --bigger ]]; then
  in=${2:?FILE}; n=${3:?N}; out=${4:?OUT}
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  parts=()
  for ((i = 0; i < n; i++)); do
    osmium renumber -s "$((i * 1000000000 + 1)),$((i * 100000000 + 1)),$((i * 10000000 + 1))" -o "$tmp/$i.osm.pbf" "$in"
    parts+=("$tmp/$i.osm.pbf")
  done
  osmium merge --overwrite -o "$out" "${parts[@]}"
  exit 0
fi
file=${1:?FILE.osm.pbf}
RUNS=${RUNS:-3}
BIN=${GEOPORTAL:-bin/geoportal}
: "${DATABASE_URL:?set DATABASE_URL to a scratch database}"
export PGOPTIONS="-c client_min_messages=warning"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

measure() {
  /usr/bin/time -v -o "$tmp/time" "$@" >"$tmp/out" 2>&1 || { cat "$tmp/out" "$tmp/time" >&2; exit 1; }
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tmp/time")
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$tmp/time")
  echo "$wall $rss"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

"$BIN" migrate >/dev/null 2>&1 || "$BIN" import --quiet --dry-run "$file" >/dev/null
layers=$("${PSQL[@]}" -At -c "SELECT string_agg(format('layer.%I', slug), ', ') FROM geoportal.layers l
  WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(l.attributes) a WHERE a->>'name' = 'osm_id')")
clear_ours() {
  "${PSQL[@]}" -c "$(for t in ${layers//,/ }; do echo "DELETE FROM $t WHERE osm_id IS NOT NULL;"; done)" -c "VACUUM ANALYZE" >/dev/null
}

printf '%-10s %-9s %8s %9s\n' tool round wall_s peak_MiB
declare -a ours theirs again
for ((r = 1; r <= RUNS; r++)); do
  clear_ours
  read -r w m < <(measure "$BIN" import --quiet "$file"); ours+=("$w"); printf '%-10s %-9s %8s %9s\n' geoportal "$r" "$w" "$m"
  read -r w m < <(measure "$BIN" import --quiet "$file"); again+=("$w"); printf '%-10s %-9s %8s %9s\n' "(again)" "$r" "$w" "$m"
  read -r w m < <(measure osm2pgsql --slim --drop -d "$DATABASE_URL" "$file"); theirs+=("$w"); printf '%-10s %-9s %8s %9s\n' osm2pgsql "$r" "$w" "$m"
done
o=$(printf '%s\n' "${ours[@]}" | median); t=$(printf '%s\n' "${theirs[@]}" | median); a=$(printf '%s\n' "${again[@]}" | median)
echo "median: geoportal ${o}s (re-import of the same file ${a}s), osm2pgsql ${t}s, ratio osm2pgsql/geoportal $(awk -v o="$o" -v t="$t" 'BEGIN {printf "%.2f", t/o}')"
