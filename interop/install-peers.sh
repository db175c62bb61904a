#!/bin/sh
# Installs the outside peers of the interop tests: the programs and libraries
# that are not Go modules. `make peers` runs it; so does CI, before
# `make test` with REASONS_REQUIRE_PEERS=1. It installs what is missing and
# says what it could not install; the exit status is 1 when anything is still
# missing.
set -u
cd "$(dirname "$0")"

# Node's ws, reconnecting-websocket and partysocket, pinned by
# testdata/node/package-lock.json, with the machine's Node.js and npm.
node_ok() {
	for m in ws reconnecting-websocket partysocket; do
		[ -f "testdata/node/node_modules/$m/package.json" ] || return 1
	done
}
if ! node_ok; then
	if command -v npm >/dev/null 2>&1; then
		echo "peers: installing Node's modules with npm ci in interop/testdata/node"
		(cd testdata/node && npm ci --ignore-scripts --no-audit --no-fund)
	else
		echo "peers: npm not found; install Node.js and npm, then run npm ci in interop/testdata/node" >&2
	fi
fi

# One line per Debian package: a file the tests look for, then the package
# that provides it.
peers='/usr/bin/chromium chromium
/usr/bin/firefox-esr firefox-esr
/usr/lib/python3/dist-packages/websockets/__init__.py python3-websockets
/usr/lib/python3/dist-packages/aiohttp/__init__.py python3-aiohttp
/usr/lib/python3/dist-packages/starlette/status.py python3-starlette
/usr/bin/javac default-jdk-headless
/usr/share/java/websocket-api.jar libwebsocket-api-java
/usr/lib/python3/dist-packages/uvicorn/__init__.py python3-uvicorn
/usr/sbin/nginx nginx
/usr/sbin/haproxy haproxy
/usr/sbin/apache2 apache2
/usr/bin/caddy caddy'

missing=''
find_missing() {
	missing=''
	while read -r program package; do
		[ -e "$program" ] || missing="$missing $package"
	done <<LIST
$peers
LIST
}


find_missing
if [ -z "$missing" ]; then
	if node_ok; then
		echo "peers: every outside peer is installed"
		exit 0
	fi
	echo "peers: Node's modules (testdata/node) are still missing" >&2
	exit 1
fi

echo "peers: installing Debian packages:$missing"
if ! command -v apt-get >/dev/null 2>&1; then
	echo "peers: apt-get not found; install these packages by hand:$missing" >&2
	exit 1
fi
as_root=''
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		as_root='sudo -n'
	else
		echo "peers: not root and no password-less sudo; as root run: apt-get install$missing" >&2
		exit 1
	fi
fi
$as_root apt-get update -q &&
	DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -q $missing

find_missing
if [ -n "$missing" ]; then
	echo "peers: still missing after apt-get:$missing" >&2
	exit 1
fi
if ! node_ok; then
	echo "peers: Node's modules (testdata/node) are still missing" >&2
	exit 1
fi
echo "peers: every outside peer is installed"
