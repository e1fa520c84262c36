#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages (if missing) and starts a throwaway server on
# 127.0.0.1:${PGPORT:-55432}; prints the SQLAlchemy URL of a fresh "salesbot_test" database.
set -euo pipefail
port="${PGPORT:-55432}"
# A port already taken (say, by an earlier run on this machine) is replaced by a free one.
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) >&2
fi
bindir=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
datadir=$(mktemp -d /tmp/salesbot-pg.XXXXXX)
chown postgres:postgres "$datadir"
run_as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
run_as_pg "'$bindir/initdb' -D '$datadir' -A trust -U postgres -E UTF8 >/dev/null"
run_as_pg "'$bindir/pg_ctl' -D '$datadir' -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200' -l '$datadir/server.log' -w start >/dev/null"
run_as_pg "'$bindir/psql' -h 127.0.0.1 -p $port -U postgres -qc 'CREATE DATABASE salesbot_test'" >&2
echo "postgresql+asyncpg://postgres@127.0.0.1:$port/salesbot_test"
