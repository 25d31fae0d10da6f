# A private PostgreSQL server for scripts (sourced): initdb in a temporary folder under /tmp, listening on a free
# loopback port, trust authentication (loopback only), user sitewatch. As root it runs as the postgres user, which
# Debian's package creates: PostgreSQL refuses to run as root.
#   pg_start   sets PG_DATA and PG_PORT
#   pg_stop DATA
pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

pg_as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

pg_start() {
  local bin
  bin="$(pg_bin)"
  PG_DATA="$(mktemp -d /tmp/sitewatch-pg.XXXXXX)"
  [ "$(id -u)" -eq 0 ] && chown postgres "$PG_DATA"
  PG_PORT="$(free_port 55432)"
  pg_as_server_user "$bin/initdb" -D "$PG_DATA/data" -U sitewatch --auth=trust -E UTF8 --locale=C >/dev/null
  pg_as_server_user "$bin/pg_ctl" -D "$PG_DATA/data" -l "$PG_DATA/server.log" -w \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PG_DATA" start >/dev/null
}

pg_createdb() { "$(pg_bin)/createdb" -h 127.0.0.1 -p "$PG_PORT" -U sitewatch "$1"; }

pg_connection() { echo "Host=127.0.0.1;Port=$PG_PORT;Database=$1;Username=sitewatch"; }

pg_stop() {
  pg_as_server_user "$(pg_bin)/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null || true
  rm -rf "$1"
}
