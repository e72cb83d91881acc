#!/bin/sh
# Run Debian's cluster in the foreground as postgres, on the unix socket only (SIGINT: fast shutdown).
set -eu
install -d -o postgres -g postgres -m 2775 /var/run/postgresql
exec runuser -u postgres -- /usr/lib/postgresql/15/bin/postgres \
  -D /var/lib/postgresql/15/main \
  -c config_file=/etc/postgresql/15/main/postgresql.conf \
  -c listen_addresses=''
