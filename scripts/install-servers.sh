#!/usr/bin/env bash
# Install the servers the sandbox runs (MariaDB, Redis, nginx with the stream module,
# Prometheus, Alertmanager, the exporters and mtail; wrk for the benchmarks; faketime for
# the lease tests) from Debian's packages, only when something is missing.
# --with-browser adds Debian's chromium: the end-to-end test opens the report headless.
# Debian starts no service here (no init in the container); the sandbox starts its own
# copies under supervisord on 127.0.0.1, so system services are never touched.
set -euo pipefail

need=()
command -v mariadbd >/dev/null || need+=(mariadb-server)
command -v mariadb-install-db >/dev/null || need+=(mariadb-server)
command -v redis-server >/dev/null || need+=(redis-server)
command -v nginx >/dev/null || need+=(nginx-light)
[ -f /usr/lib/nginx/modules/ngx_stream_module.so ] || need+=(libnginx-mod-stream)
command -v wrk >/dev/null || need+=(wrk)
# The cross-host tests make their hosts with network namespaces (ip netns, veth).
command -v ip >/dev/null || need+=(iproute2)
# The lease tests run a runner whose clocks are off by 40 s (libfaketime).
command -v faketime >/dev/null || need+=(faketime)
# The sandbox's monitoring (Prometheus ships promtool, which the tests run).
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-mysqld-exporter >/dev/null || need+=(prometheus-mysqld-exporter)
command -v prometheus-redis-exporter >/dev/null || need+=(prometheus-redis-exporter)
command -v prometheus-nginx-exporter >/dev/null || need+=(prometheus-nginx-exporter)
command -v mtail >/dev/null || need+=(mtail)
# The history tests run a real PostgreSQL server of their own (Debian's binaries only).
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || need+=(postgresql)
if [ "${1:-}" = "--with-browser" ]; then
  command -v chromium >/dev/null || need+=(chromium)
fi

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-servers: missing ${need[*]}; run as root or: sudo apt-get install -y ${need[*]}" >&2
  exit 2
fi
echo "install-servers: apt-get install ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d keeps Debian from starting the system copies of these services.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need[@]}" | sort -u) >/dev/null
