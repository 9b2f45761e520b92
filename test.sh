#!/bin/sh
# The project's test command (README.md, "Run the tests"): make sure the
# programs the interop tests drive are installed, then run every test.
#
#   ./test.sh              all tests, as CI runs them
#   ./test.sh -run TestX   extra arguments go to `go test`
#
# The tests drive Debian's openssl command, Python's ssl module, headless
# Chromium and script(1). Run as root, this script installs what is missing
# with apt-get; otherwise it names the packages to install and stops.
set -eu
cd "$(dirname "$0")"

# command:Debian package
needs="openssl:openssl python3:python3 chromium:chromium script:bsdutils"
missing=""
for pair in $needs; do
	command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "test.sh: installing$missing" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# shellcheck disable=SC2086 # one word per package
		apt-get install -y -qq $missing >/dev/null
	else
		echo "test.sh: the tests need these Debian packages:$missing" >&2
		echo "install them first:  sudo apt-get install$missing" >&2
		exit 1
	fi
fi

if ! command -v go >/dev/null 2>&1; then
	echo "test.sh: Go 1.26 or later is needed (the go command is not on PATH)" >&2
	exit 1
fi

exec go test -race -count=1 "$@" ./...
