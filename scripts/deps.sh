#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for `make run` and `make test`:
# PostgreSQL 15 + PostGIS, GEOS and PROJ headers for cgo, Chromium for browser tests, GDAL's
# command-line tools (tests compare with ogrinfo and read our OGC API with ogr2ogr), nginx (the
# load balancer of scripts/cluster.sh, which TestClusterScript runs, and the reference server of
# the tile benchmark), and wrk, pgRouting, osm2pgsql and osmium for the benchmarks (BENCHMARKS.md),
# the external clients that scripts/standards-tests.sh runs (OWSLib, promtool from prometheus,
# sqlmap), and the DejaVu fonts the map's labels are drawn from (package glyphs). Only missing
# packages are installed; nothing runs when all are present.
set -euo pipefail
want=(postgresql-15 postgresql-15-postgis-3 postgresql-contrib libgeos-dev libproj-dev pkg-config
      gcc chromium gdal-bin nodejs npm nginx wrk postgresql-15-pgrouting
      python3-owslib prometheus sqlmap curl osm2pgsql osmium-tool fonts-dejavu-core)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from elsewhere than Debian's packages (this machine image has its own)
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=($(printf '%s\n' "${missing[@]}" | grep -vx -e nodejs -e npm || true))
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
