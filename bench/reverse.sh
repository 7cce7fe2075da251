#!/usr/bin/env bash
# bench/reverse.sh — latency of reverse geocoding (GET /api/reverse) over the demo city, with
# GET /api/nearest?layer=clinics at the same points in the same run as the reference
# (BENCHMARKS.md, "Web map").
#
# Builds the bundle and a binary, fills a fresh database with the demo city and serves it on a
# free loopback port (scripts/served-demo.sh; the database is dropped at the end), makes
# POINTS seeded random points over the buildings' extent, then with wrk and bench/listwalk.lua
# runs, ROUNDS times in turn, /api/nearest and /api/reverse in ru and kk for DURATION_S seconds
# at CONC connections each, after one warm-up pass. Traffic goes to 127.0.0.1 only; every pass
# is bounded in time.
#
# Env: POINTS=2000 CONC=4 DURATION_S=10 ROUNDS=2
set -euo pipefail
cd "$(dirname "$0")/.."
POINTS=${POINTS:-2000}
CONC=${CONC:-4}
DURATION_S=${DURATION_S:-10}
ROUNDS=${ROUNDS:-2}
for c in wrk node psql go; do
  command -v "$c" >/dev/null || { echo "bench/reverse.sh: $c not found (scripts/deps.sh installs it)" >&2; exit 2; }
done
NAME=reversebench
. scripts/served-demo.sh
demo_build
demo_database
demo_serve
base="http://127.0.0.1:$port"
list=$work/points.txt
node -e '
  const [base, n, out] = process.argv.slice(1);
  fetch(base + "/api/layers/buildings").then((r) => r.json()).then((l) => {
    const [w, s, e, nn] = l.bbox;
    let x = 42; // a seeded generator: the same points every run
    const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648);
    const lines = [];
    for (let i = 0; i < Number(n); i++) lines.push(`&lon=${(w + rnd() * (e - w)).toFixed(6)}&lat=${(s + rnd() * (nn - s)).toFixed(6)}`);
    require("fs").writeFileSync(out, lines.join("\n") + "\n");
  });' "$base" "$POINTS" "$list"
run() { # name path seconds
  WALK_LIST=$list WALK_PATH=$2 WALK_OK=200,404 wrk -t1 -c"$CONC" -d"$3"s --timeout 10s -s bench/listwalk.lua "$base" |
    sed -n "s/^RESULT /$1 /p"
}
echo "points=$POINTS conc=$CONC duration_s=$DURATION_S load=$(cut -d' ' -f1-3 /proc/loadavg)"
run warmup-reverse "/api/reverse?lang=ru" 3 >/dev/null
run warmup-nearest "/api/nearest?layer=clinics&limit=5" 3 >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  run "round=$r nearest" "/api/nearest?layer=clinics&limit=5" "$DURATION_S"
  run "round=$r reverse_ru" "/api/reverse?lang=ru" "$DURATION_S"
  run "round=$r reverse_kk" "/api/reverse?lang=kk" "$DURATION_S"
done
echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
