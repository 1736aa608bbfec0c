#!/bin/bash
# Start PostgreSQL, MariaDB and Redis on loopback if they are not already answering.
wait_for() {
  i=0
  while ! bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 60 ] && { echo "$1 did not start on port $2" >&2; return 1; }
    sleep 0.5
  done
}
port_open() { bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

if ! port_open 5432; then
  echo "starting PostgreSQL..."
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  wait_for PostgreSQL 5432
fi
if ! port_open 3306; then
  echo "starting MariaDB..."
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_for MariaDB 3306
fi
if ! port_open 6379; then
  echo "starting Redis..."
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis 6379
fi
