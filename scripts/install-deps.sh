#!/usr/bin/env bash
# Installs the system packages Burnrate builds against, only when they are missing:
# pkg-config, the GNU Scientific Library (libgsl-dev), SQLite (libsqlite3-dev, for GRDB) and
# OpenSSL's libcrypto (libssl-dev: SHA-256 of the service's API keys).
# Debian/Ubuntu (apt-get).
set -euo pipefail

if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists gsl && pkg-config --exists sqlite3 \
    && pkg-config --exists libcrypto; then
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: GSL not found by pkg-config and apt-get is not available;" >&2
    echo "       install the GNU Scientific Library (libgsl-dev) and pkg-config by hand." >&2
    exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi

echo "installing libgsl-dev, libsqlite3-dev, libssl-dev and pkg-config with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends libgsl-dev libsqlite3-dev libssl-dev pkg-config >/dev/null
pkg-config --exists gsl || { echo "error: GSL still not visible to pkg-config" >&2; exit 1; }
pkg-config --exists sqlite3 || { echo "error: SQLite still not visible to pkg-config" >&2; exit 1; }
pkg-config --exists libcrypto || { echo "error: OpenSSL's libcrypto still not visible to pkg-config" >&2; exit 1; }
