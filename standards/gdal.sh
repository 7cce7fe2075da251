#!/usr/bin/env bash
# GDAL's own drivers as clients: OAPIF reads and pages every collection of /ogc (the count GDAL
# reads must equal numberMatched, with no feature twice), then -where and a spatial filter;
# MVT reads a tile holding every geometry type and reports each layer's type.
set -euo pipefail
B=${GEOPORTAL_BASE:?}
command -v ogrinfo >/dev/null || { echo "gdal: ogrinfo not found (Debian gdal-bin, scripts/deps.sh)" >&2; exit 1; }
ogrinfo --version
py=/usr/bin/python3
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "gdal: FAIL: $*" >&2; fail=1; }
# Runs ogrinfo; any ERROR GDAL prints fails the check.
ogr() {
  timeout 120 ogrinfo -ro "$@" 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }
  if grep -q ERROR "$tmp/err"; then cat "$tmp/err" >&2; return 1; fi
}
json() { curl -fsS --max-time 60 "$1" | $py -c "import json,sys; d=json.load(sys.stdin); print($2)"; }

ids=$(json "$B/ogc/collections?f=json" '" ".join(c["id"] for c in d["collections"])')
[ -n "$ids" ] || { echo "gdal: no collections" >&2; exit 1; }
# GDAL's layer list is the collection list.
ogr -q OAPIF:"$B/ogc" >"$tmp/list" || bad "ogrinfo OAPIF:$B/ogc"
for id in $ids; do grep -q "^[0-9]*: $id\b" "$tmp/list" || bad "GDAL does not list collection $id"; done

for id in $ids; do
  n=$(json "$B/ogc/collections/$id/items?limit=1&f=json" 'd["numberMatched"]')
  # Small pages, so that every collection of three features or more is read in three pages or more.
  page=$(( n / 3 + 1 ))
  if ! ogr -al -q -oo PAGE_SIZE=$page OAPIF:"$B/ogc" "$id" >"$tmp/read"; then bad "$id: GDAL could not read it"; continue; fi
  got=$(grep -c '^OGRFeature' "$tmp/read" || true)
  uniq=$({ grep '^OGRFeature' "$tmp/read" || true; } | sort -u | wc -l)
  if [ "$got" -ne "$n" ]; then bad "$id: GDAL read $got features in pages of $page, numberMatched says $n"
  elif [ "$uniq" -ne "$got" ]; then bad "$id: GDAL read $((got - uniq)) features twice"
  else echo "ok OAPIF $id: $got features, pages of $page"; fi
done

# -where: GDAL turns it into a server-side filter; the count must equal the equality filter's.
want=$(json "$B/ogc/collections/cameras/items?status=installed&limit=1&f=json" 'd["numberMatched"]')
ogr -al -q OAPIF:"$B/ogc" cameras -where "status = 'installed'" >"$tmp/where" || bad "cameras -where"
got=$(grep -c '^OGRFeature' "$tmp/where" || true)
grep -q "status (String) = installed" "$tmp/where" || bad "cameras -where: no installed camera"
if grep -E "^  status \(String\) = " "$tmp/where" | grep -vq "= installed$"; then bad "cameras -where returned other statuses"; fi
if [ "$got" -eq "$want" ] && [ "$want" -gt 0 ]; then echo "ok OAPIF -where: $got"
else bad "cameras -where \"status = 'installed'\": GDAL read $got, the API says $want"; fi

# A spatial filter (-spat, in CRS84): the count must equal the API's bbox count, less than all.
box="57.15 50.27 57.19 50.30"
want=$(json "$B/ogc/collections/bus_stops/items?bbox=${box// /,}&limit=1&f=json" 'd["numberMatched"]')
all=$(json "$B/ogc/collections/bus_stops/items?limit=1&f=json" 'd["numberMatched"]')
ogr -al -q OAPIF:"$B/ogc" bus_stops -spat $box >"$tmp/spat" || bad "bus_stops -spat"
got=$(grep -c '^OGRFeature' "$tmp/spat" || true)
if [ "$got" -eq "$want" ] && [ "$want" -gt 0 ] && [ "$want" -lt "$all" ]; then echo "ok OAPIF -spat: $got of $all"
else bad "bus_stops -spat $box: GDAL read $got, the API says $want of $all"; fi

# MVT: one tile of the city centre with a layer of each geometry type.
read -r x y <<<"$($py -c '
import math; lon, lat, n = 57.167, 50.283, 2**14
print(int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))')"
declare -A want_type=([cameras]=Point [streets]="Line String" [buildings]=Polygon [bus_routes]="Multi Line String" [parks]="Multi Polygon")
layers=cameras,streets,buildings,bus_routes,parks
src="MVT:/vsicurl/$B/tiles/$layers/14/$x/$y.mvt"
if ogr -al "$src" >"$tmp/mvt"; then
  for l in "${!want_type[@]}"; do
    t=$(awk -v l="$l" '$0 == "Layer name: " l {f=1} f && /^Geometry: / {sub(/^Geometry: /, ""); print; exit}' "$tmp/mvt")
    c=$(awk -v l="$l" '$0 == "Layer name: " l {f=1} f && /^Feature Count: / {print $3; exit}' "$tmp/mvt")
    if [ "$t" != "${want_type[$l]}" ]; then bad "MVT layer $l: GDAL says geometry '$t', want '${want_type[$l]}'"
    elif [ "${c:-0}" -le 0 ]; then bad "MVT layer $l: no features"
    else echo "ok MVT $l: $t, $c features"; fi
  done
  # Every feature's geometry is of its layer's family (no empty or unknown geometry).
  if grep -E '^  (GEOMETRYCOLLECTION|.* EMPTY)' "$tmp/mvt"; then bad "MVT: empty or mixed geometries"; fi
else
  bad "GDAL could not read $src"
fi
[ $fail -eq 0 ] && echo "gdal: all checks passed"
exit $fail
