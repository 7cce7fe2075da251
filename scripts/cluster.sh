#!/usr/bin/env bash
# Past one machine, on one machine: brings up on 127.0.0.1 a PostgreSQL primary, a streaming
# replica of it made with pg_basebackup (standby.signal), two `geoportal serve` nodes reading from
# the replica, and nginx in front of them (round robin, a tile cache that keeps our Cache-Control
# and ETag, the live-vehicle stream passed through unbuffered). docs/scaling.md describes it.
#
#   scripts/cluster.sh up       start what is not running yet (idempotent)
#   scripts/cluster.sh status   each process with its pid, port and role; the replica's lag
#   scripts/cluster.sh down     stop what `up` started, and nothing else
#
# Everything lives in CLUSTER_DIR (default .data/cluster): the two PostgreSQL clusters (run by
# `geoportal db`, as the postgres user when called as root), the nodes' pid files and logs, and
# nginx's configuration, pid, logs, temporary files and cache. nginx runs as an unprivileged
# process with that configuration only (as "nobody" when called as root), never as the system's
# service. Ports: CLUSTER_PORT (nginx, default 8090), CLUSTER_NODE_PORTS (default "8091 8092";
# one port: one node and no replica, as scripts/bench-cluster.sh compares). The first node loads
# the demo city when the database is empty. GEOPORTAL_BIN is the binary (default bin/geoportal,
# built when missing).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${CLUSTER_DIR:-$root/.data/cluster}
[ "${1:-}" != up ] || mkdir -p "$dir"
[ ! -d "$dir" ] || dir=$(cd "$dir" && pwd)
port=${CLUSTER_PORT:-8090}
read -r -a node_ports <<<"${CLUSTER_NODE_PORTS:-8091 8092}"
bin=${GEOPORTAL_BIN:-$root/bin/geoportal}
names=(a b c d e f g h)

die() { echo "cluster: $*" >&2; exit 1; }

# alive PIDFILE [WORD]: the process of the pid file runs (and its command line has WORD).
alive() {
  [ -s "$1" ] || return 1
  local pid
  pid=$(head -n1 "$1")
  [ -d "/proc/$pid" ] || return 1
  [ -z "${2:-}" ] || tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$2"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_ready() { # URL SECONDS LOG
  local i
  for ((i = 0; i < $2 * 4; i++)); do
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null && return 0
    sleep 0.25
  done
  tail -n 20 "$3" >&2 || true
  die "$1 did not answer within $2 s (log: $3)"
}

db() { "$bin" db -data-dir "$dir/$1" -log-level warn "${@:2}"; }

up() {
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
    die "nginx is missing: scripts/deps.sh installs it (Debian package nginx)"
  if [ ! -x "$bin" ]; then
    echo "building $bin"
    (cd "$root" && go build -o "$bin" ./cmd/geoportal)
  fi
  # PostgreSQL: the primary, then (with two nodes or more) a standby copied from it.
  local purl rurl=""
  purl=$(db primary start)
  echo "primary   $(db primary status | head -n1)"
  if [ ${#node_ports[@]} -gt 1 ]; then
    rurl=$(db replica -standby-of "$purl" start)
    echo "replica   $(db replica status | head -n1)"
  fi
  # The app nodes: the first one loads the demo city into an empty database, the others start
  # once it is ready (so that only one loads it).
  local i p name
  for i in "${!node_ports[@]}"; do
    p=${node_ports[$i]} name=node-${names[$i]}
    if alive "$dir/$name.pid" "127.0.0.1:$p"; then
      echo "$name    already running (pid $(head -n1 "$dir/$name.pid"), port $p)"
      continue
    fi
    port_busy "$p" && die "port $p is taken by another program (set CLUSTER_NODE_PORTS)"
    local demo=()
    [ "$i" -eq 0 ] && demo=(-demo-if-empty)
    DATABASE_URL=$purl GEOPORTAL_REPLICA_URL=$rurl setsid "$bin" serve -addr "127.0.0.1:$p" \
      -wialon-addr off -trust-proxy "${demo[@]}" >>"$dir/$name.log" 2>&1 </dev/null &
    echo $! >"$dir/$name.pid"
    wait_ready "http://127.0.0.1:$p/readyz" 300 "$dir/$name.log"
    echo "$name    started (pid $(head -n1 "$dir/$name.pid"), port $p)"
  done
  # nginx in front.
  local nx=$dir/nginx
  mkdir -p "$nx/tmp" "$nx/cache" "$nx/logs"
  {
    echo "# Written by scripts/cluster.sh; rewritten by every 'up'."
    echo "worker_processes 1;"
    echo "pid $nx/nginx.pid;"
    echo "error_log $nx/logs/error.log warn;"
    echo "events { worker_connections 1024; }"
    echo "http {"
    echo "  access_log ${CLUSTER_ACCESS_LOG:-$nx/logs/access.log};"
    echo "  client_body_temp_path $nx/tmp/body; proxy_temp_path $nx/tmp/proxy;"
    echo "  fastcgi_temp_path $nx/tmp/fastcgi; uwsgi_temp_path $nx/tmp/uwsgi; scgi_temp_path $nx/tmp/scgi;"
    # Tiles are kept as long as our Cache-Control says (max-age 60 s, 2 s for live layers; a
    # private tile is not kept); a stale one is revalidated with its ETag (a 304 from the node).
    echo "  proxy_cache_path $nx/cache levels=1:2 keys_zone=tiles:16m max_size=1g inactive=10m use_temp_path=off;"
    echo "  upstream geoportal {"
    for p in "${node_ports[@]}"; do echo "    server 127.0.0.1:$p;"; done
    echo "    keepalive 32;"
    echo "  }"
    echo "  server {"
    echo "    listen 127.0.0.1:$port;"
    echo "    client_max_body_size 512m;"
    echo "    proxy_http_version 1.1;"
    echo "    proxy_set_header Connection \"\";"
    echo "    proxy_set_header Host \$http_host;"
    echo "    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
    echo "    proxy_set_header X-Forwarded-Proto \$scheme;"
    echo "    location /tiles/ {"
    echo "      proxy_pass http://geoportal;"
    echo "      proxy_cache tiles;"
    echo "      proxy_cache_revalidate on;"
    echo "      proxy_cache_lock on;"
    echo "      add_header X-Cache-Status \$upstream_cache_status always;"
    echo "    }"
    # Server-sent events of the live vehicles: no buffering, no read timeout in practice.
    echo "    location = /api/vehicles/live {"
    echo "      proxy_pass http://geoportal;"
    echo "      proxy_buffering off;"
    echo "      proxy_read_timeout 1h;"
    echo "    }"
    echo "    location / { proxy_pass http://geoportal; }"
    echo "  }"
    echo "}"
  } >"$nx/nginx.conf"
  local nginx run_as=()
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  if [ "$(id -u)" -eq 0 ]; then
    chown -R nobody:nogroup "$nx"
    run_as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  fi
  local args=(-p "$nx" -c "$nx/nginx.conf" -e "$nx/logs/error.log")
  "${run_as[@]}" "$nginx" "${args[@]}" -t -q || die "nginx refused $nx/nginx.conf"
  if alive "$nx/nginx.pid" nginx; then
    "${run_as[@]}" "$nginx" "${args[@]}" -s reload
    echo "nginx     already running (pid $(head -n1 "$nx/nginx.pid"), port $port): configuration reloaded"
  else
    port_busy "$port" && die "port $port is taken by another program (set CLUSTER_PORT)"
    "${run_as[@]}" "$nginx" "${args[@]}"
    wait_ready "http://127.0.0.1:$port/healthz" 30 "$nx/logs/error.log"
    echo "nginx     started (pid $(head -n1 "$nx/nginx.pid"), port $port)"
  fi
  echo "cluster up: http://127.0.0.1:$port/"
}

status() {
  local any=0 i p name f
  printf '%-9s %-8s %-6s %s\n' PROCESS PID PORT ROLE
  if alive "$dir/nginx/nginx.pid" nginx; then
    any=1
    printf '%-9s %-8s %-6s %s\n' nginx "$(head -n1 "$dir/nginx/nginx.pid")" "$(sed -n 's/.*listen 127.0.0.1:\([0-9]*\);/\1/p' "$dir/nginx/nginx.conf")" \
      "load balancer, tile cache ($(du -sk "$dir/nginx/cache" | cut -f1) KiB)"
  fi
  for f in "$dir"/node-*.pid; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .pid)
    alive "$f" "geoportal" || continue
    any=1
    p=$(tr '\0' ' ' <"/proc/$(head -n1 "$f")/cmdline" | sed -n 's/.*-addr 127.0.0.1:\([0-9]*\).*/\1/p')
    local rot
    rot=$(curl -fsS --max-time 2 "http://127.0.0.1:$p/metrics" 2>/dev/null | sed -n 's/^geoportal_replica_in_rotation{replica="\([^"]*\)"} \(.*\)/\1 in rotation: \2/p' | paste -sd, -)
    printf '%-9s %-8s %-6s %s\n' "$name" "$(head -n1 "$f")" "$p" "geoportal serve${rot:+ (replica $rot)}"
  done
  for name in primary replica; do
    [ -d "$dir/$name" ] || continue
    local line
    line=$(db "$name" status 2>&1) || true
    case $line in stopped*) continue ;; esac
    any=1
    local first rest
    first=$(head -n1 <<<"$line")
    printf '%-9s %-8s %-6s %s\n' "$name" "$(sed -n 's/.* pid=\([0-9]*\).*/\1/p' <<<"$first")" \
      "$(sed -n 's/.* port=\([0-9]*\).*/\1/p' <<<"$first")" "postgres $(cut -d' ' -f1 <<<"$first")$(grep -o ' wal_receiver=[a-z]*' <<<"$first" || true)"
    rest=$(tail -n +2 <<<"$line")
    [ -z "$rest" ] || sed 's/^  replica /          replication: /' <<<"$rest"
  done
  [ "$any" -eq 1 ] || echo "(nothing running)"
}

down() {
  local nx=$dir/nginx f pid i
  if alive "$nx/nginx.pid" nginx; then
    pid=$(head -n1 "$nx/nginx.pid")
    kill -QUIT "$pid"
    for ((i = 0; i < 100 && ${#pid} > 0; i++)); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -TERM "$pid"
    echo "nginx stopped"
  fi
  for f in "$dir"/node-*.pid; do
    [ -e "$f" ] || continue
    if alive "$f" geoportal; then
      pid=$(head -n1 "$f")
      kill -TERM "$pid"
      for ((i = 0; i < 300; i++)); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
      [ -d "/proc/$pid" ] && kill -KILL "$pid"
      echo "$(basename "$f" .pid) stopped"
    fi
    rm -f "$f"
  done
  for name in replica primary; do
    [ -d "$dir/$name" ] || continue
    db "$name" stop
    echo "$name stopped"
  done
}

case ${1:-} in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: scripts/cluster.sh up|down|status" >&2; exit 2 ;;
esac
