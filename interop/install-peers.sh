#!/bin/sh
# Installs the outside peers of the interop tests: the programs that are not
# Go modules. `make peers` runs it; so does CI, before `make test` with
# REASONS_REQUIRE_PEERS=1. It installs what is missing and says what it could
# not install; the exit status is 1 when anything is still missing.
set -u

# One line per peer: the program the tests look for, then the Debian package
# that provides it.
peers='/usr/bin/chromium chromium'

missing=''
find_missing() {
	missing=''
	while read -r program package; do
		[ -x "$program" ] || missing="$missing $package"
	done <<LIST
$peers
LIST
}

find_missing
if [ -z "$missing" ]; then
	echo "peers: every outside peer is installed"
	exit 0
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
echo "peers: every outside peer is installed"
