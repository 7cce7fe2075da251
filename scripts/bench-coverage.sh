#!/usr/bin/env bash
# Coverage-analysis benchmark: whole-city coverage, network coverage, camera coverage and siting
# on the synthetic city of bench/gencity, each beside the plain PostGIS query.
# Usage: scripts/bench-coverage.sh [CITY_DIR] [BENCHTIME]   (defaults: /tmp/city, 3x)
# Takes several minutes: the city (150k buildings) is loaded into a fresh test database and
# pgRouting's topology is built once. Run it when the machine is quiet; figures go in BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
city=${1:-/tmp/city}
benchtime=${2:-3x}
if [ ! -f "$city/buildings.geojson" ]; then
	go run ./bench/gencity -out "$city"
fi
GEOPORTAL_BENCH_CITY=$city exec go test -run '^$' -bench BenchmarkCity -benchtime "$benchtime" -timeout 30m ./layers/analysis/
