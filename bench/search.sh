#!/usr/bin/env bash
# bench/search.sh — latency of the search (GET /api/search) over the demo city, with
# GET /api/nearest?layer=clinics in the same run as the reference (BENCHMARKS.md, "Web map").
#
# Builds the bundle and a binary, fills a fresh database with the demo city and serves it on a
# free loopback port (scripts/served-demo.sh; the database is dropped at the end), then with wrk
# and bench/listwalk.lua runs, ROUNDS times in turn, /api/nearest and /api/search over the
# queries below (addresses, category words in three languages, Latin Kazakh, a stop code, a
# typo, a Kazakh spelling of a Russian street name) for DURATION_S seconds at CONC connections
# each, after one warm-up pass. Traffic goes to 127.0.0.1 only; every pass is bounded in time.
#
# Env: CONC=4 DURATION_S=10 ROUNDS=2
set -euo pipefail
cd "$(dirname "$0")/.."
CONC=${CONC:-4}
DURATION_S=${DURATION_S:-10}
ROUNDS=${ROUNDS:-2}
for c in wrk node psql go; do
  command -v "$c" >/dev/null || { echo "bench/search.sh: $c not found (scripts/deps.sh installs it)" >&2; exit 2; }
done
NAME=searchbench
. scripts/served-demo.sh
demo_build
demo_database
demo_serve
base="http://127.0.0.1:$port"
queries=$work/queries.txt
nearest=$work/nearest.txt
node -e '
  const [out, near] = process.argv.slice(1);
  const qs = ["Маресьева 95", "95 Маресьева", "ул. Маресьева, 95", "clinic", "поликлиника", "емхана",
    "mektep", "school", "A0415", "Маресева", "поликлинника", "kurmangazy", "Әбілқайыр хан", "Aktobe"];
  const langs = ["kk", "ru", "en"];
  const lines = qs.map((q, i) => `q=${encodeURIComponent(q)}&lang=${langs[i % 3]}&limit=10&lon=57.17&lat=50.28`);
  require("fs").writeFileSync(out, lines.join("\n") + "\n");
  require("fs").writeFileSync(near, "lon=57.17&lat=50.28\nlon=57.2&lat=50.3\nlon=57.15&lat=50.25\n");
' "$queries" "$nearest"
run() { # name path list seconds
  WALK_LIST=$3 WALK_PATH=$2 wrk -t1 -c"$CONC" -d"$4"s --timeout 10s -s bench/listwalk.lua "$base" |
    sed -n "s/^RESULT /$1 /p"
}
echo "queries=$(wc -l <"$queries") conc=$CONC duration_s=$DURATION_S load=$(cut -d' ' -f1-3 /proc/loadavg)"
run warmup-search "/api/search?" "$queries" 3 >/dev/null
run warmup-nearest "/api/nearest?layer=clinics&limit=5&" "$nearest" 3 >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  run "round=$r nearest" "/api/nearest?layer=clinics&limit=5&" "$nearest" "$DURATION_S"
  run "round=$r search" "/api/search?" "$queries" "$DURATION_S"
done
echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
