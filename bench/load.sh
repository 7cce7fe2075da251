#!/usr/bin/env bash
# bench/load.sh NAME URL_TEMPLATE — load-tests one tile endpoint on this machine with wrk and
# bench/tilewalk.lua, over the tiles that cover the benchmark city (bench/tileurls). Two passes:
#   cold  every tile of the list once: COLD_CONC connections on one thread, at most COLD_MAX_S s
#   warm  the list in a seeded random order, over and over for WARM_S s: WARM_CONC connections
#         on WARM_THREADS threads (a stretch of a shuffled list has the zoom mix of the whole;
#         in list order the heavy low-zoom tiles would all come first)
# It prints one line per pass,
#   name pass tiles_per_s p50_ms p99_ms errors bytes
# (errors: answers other than 200/204, socket errors and timeouts, and tiles the cold pass never
# got an answer for; bytes: response bodies as received), appends a fuller row to
# $OUT/results.tsv and keeps wrk's own output in $OUT/logs.
#
# Example: ZOOMS=14-16 bench/load.sh geoportal 'http://127.0.0.1:8080/tiles/buildings/{z}/{x}/{y}.mvt'
# Env (defaults): ZOOMS=14-16  SAMPLE=0 (all tiles; N: a seeded sample)  SEED=42
#   PASSES="cold warm"  COLD_CONC=8  COLD_MAX_S=300  WARM_CONC=32  WARM_THREADS=2  WARM_S=15
#   TIMEOUT_S=30 (a slower answer counts as an error)  ACCEPT_ENCODING=gzip (empty: no header)
#   OUT=/tmp/bench-load  TILEURLS=a built bench/tileurls (default: built into $OUT/bin)
# Only http://127.0.0.1 and http://localhost targets are accepted.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
die() { echo "bench/load.sh: $*" >&2; exit 2; }

[[ $# -eq 2 ]] || die "usage: bench/load.sh NAME URL_TEMPLATE"
NAME=$1
TEMPLATE=$2
[[ $NAME =~ ^[A-Za-z0-9._+:-]+$ ]] || die "NAME may hold letters, digits and ._+:- only: $NAME"
loopback='^(http://(127\.0\.0\.1|localhost)(:[0-9]+)?)(/.*)$'
[[ $TEMPLATE =~ $loopback ]] || die "URL_TEMPLATE must start with http://127.0.0.1[:port]/ or http://localhost[:port]/: $TEMPLATE"
BASE=${BASH_REMATCH[1]}
PATH_TEMPLATE=${BASH_REMATCH[4]}
for k in '{z}' '{x}' '{y}'; do [[ $PATH_TEMPLATE == *"$k"* ]] || die "URL_TEMPLATE has no $k"; done

ZOOMS=${ZOOMS:-14-16}
SAMPLE=${SAMPLE:-0}
SEED=${SEED:-42}
PASSES=${PASSES:-cold warm}
COLD_CONC=${COLD_CONC:-8}
COLD_MAX_S=${COLD_MAX_S:-300}
WARM_CONC=${WARM_CONC:-32}
WARM_THREADS=${WARM_THREADS:-2}
WARM_S=${WARM_S:-15}
TIMEOUT_S=${TIMEOUT_S:-30}
ACCEPT_ENCODING=${ACCEPT_ENCODING-gzip}
OUT=${OUT:-/tmp/bench-load}
command -v wrk >/dev/null || die "wrk not found (scripts/deps.sh installs it)"
mkdir -p "$OUT/logs"

if [[ -z ${TILEURLS:-} ]]; then
  TILEURLS=$OUT/bin/tileurls
  (cd "$HERE/.." && go build -o "$TILEURLS" ./bench/tileurls)
fi
LIST=$OUT/logs/$NAME.tiles
"$TILEURLS" -zooms "$ZOOMS" -sample "$SAMPLE" -seed "$SEED" >"$LIST"
"$TILEURLS" -zooms "$ZOOMS" -sample "$SAMPLE" -seed "$SEED" -shuffle >"$LIST.shuffled"
TILES=$(wc -l <"$LIST")
[[ $TILES -gt 0 ]] || die "no tiles at zooms $ZOOMS"

# Any HTTP answer will do here; 000 means nothing listens.
[[ $(curl -s -o /dev/null -m 5 -w '%{http_code}' "$BASE/" || true) != 000 ]] || die "nothing answers at $BASE"

header=()
[[ -n $ACCEPT_ENCODING ]] && header=(-H "Accept-Encoding: $ACCEPT_ENCODING")
RESULTS=$OUT/results.tsv
tsv() { (IFS=$'\t'; echo "$*"); }
[[ -f $RESULTS ]] || tsv date_utc name pass zooms tiles_listed connections threads tiles_answered tiles_per_s \
  p50_ms p99_ms mean_ms max_ms errors bad_status socket_errors bytes gzip_answers seconds load_average \
  accept_encoding url_template >"$RESULTS"

# pass cold|warm: runs wrk, prints the pass's line and appends its row.
pass() {
  local mode=$1 threads connections seconds list=$LIST
  if [[ $mode == cold ]]; then
    threads=1 connections=$COLD_CONC seconds=$COLD_MAX_S
  else
    threads=$WARM_THREADS connections=$WARM_CONC seconds=$WARM_S list=$LIST.shuffled
  fi
  local log=$OUT/logs/$NAME.$mode.log
  echo "== $NAME $mode: $TILES tiles (z$ZOOMS), $connections connections, $threads threads, at most ${seconds}s: $TEMPLATE" >&2
  local rc=0
  # timeout is a second bound in case wrk itself hangs; -d is the first.
  TILEWALK_MODE=$mode TILEWALK_LIST=$list TILEWALK_PATH=$PATH_TEMPLATE TILEWALK_THREADS=$threads \
    timeout -s INT -k 10 $((seconds + 30)) wrk -t"$threads" -c"$connections" -d"${seconds}s" \
    --timeout "${TIMEOUT_S}s" "${header[@]}" -s "$HERE/tilewalk.lua" "$BASE" >"$log" 2>&1 || rc=$?
  local line
  line=$(grep '^TILEWALK ' "$log" | tail -1 || true)
  if [[ -z $line ]]; then
    echo "bench/load.sh: wrk reported nothing (exit $rc); the end of $log:" >&2
    tail -5 "$log" >&2
    echo "$NAME $mode NA NA NA NA NA"
    return 0
  fi
  field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
  local unanswered=0
  if [[ $mode == cold ]]; then
    unanswered=$(($(field listed) - $(field answered)))
    ((unanswered == 0)) || echo "bench/load.sh: $unanswered tiles unanswered after ${seconds}s" >&2
  fi
  local errors=$(($(field bad_status) + $(field socket_errors) + unanswered))
  echo "$NAME $mode $(field tiles_per_s) $(field p50_ms) $(field p99_ms) $errors $(field bytes)"
  tsv "$(date -u +%FT%TZ)" "$NAME" "$mode" "$ZOOMS" "$TILES" "$connections" "$threads" "$(field answered)" \
    "$(field tiles_per_s)" "$(field p50_ms)" "$(field p99_ms)" "$(field mean_ms)" "$(field max_ms)" "$errors" \
    "$(field bad_status)" "$(field socket_errors)" "$(field bytes)" "$(field gzip)" "$(field seconds)" \
    "$(cut -d' ' -f1 /proc/loadavg)" "${ACCEPT_ENCODING:-none}" "$TEMPLATE" >>"$RESULTS"
}

for mode in $PASSES; do
  case $mode in
    cold | warm) pass "$mode" ;;
    *) die "PASSES: unknown pass $mode (cold, warm)" ;;
  esac
done
