#!/bin/sh
# Runs BoringSSL's TLS test runner (BoGo) against bogo-shim on one backend.
#
#   cmd/bogo-shim/run.sh BORINGSSL_DIR [go|openssl] [runner flags...]
#
# BORINGSSL_DIR is a checkout of google/boringssl (docs/bogo.md names the
# commit the results were measured at; Go 1.26 pins f51d8b099832). The runner
# is built from BORINGSSL_DIR/ssl/test/runner (its Go dependencies come from
# the module proxy); BoringSSL's source itself must come from that checkout.
# Extra flags go to the runner, e.g. -test='Basic-*' or -num-workers=1.
#
# Writes the runner's JSON results to $OUT (default
# /tmp/bogo-<backend>.json) and prints PASS / SKIP / FAIL counts. Exits
# non-zero if any test failed unexpectedly.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bssl=${1:?usage: run.sh BORINGSSL_DIR [go|openssl] [runner flags...]}
bssl=$(cd "$bssl" && pwd)
backend=${2:-go}
[ $# -ge 2 ] && shift 2 || shift $#
case $backend in go|openssl) ;; *) echo "run.sh: backend must be go or openssl" >&2; exit 2 ;; esac
command -v jq >/dev/null || { echo "run.sh: jq is needed to count the results" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${OUT:-/tmp/bogo-$backend.json}
rm -f "$out"

echo "building the shim ($root) and the runner ($bssl/ssl/test/runner)" >&2
(cd "$root" && go build -o "$work/bogo-shim" ./cmd/bogo-shim)
(cd "$bssl/ssl/test/runner" && go test -c -o "$work/runner.test" .)

start=$(date +%s)
status=0
(cd "$bssl/ssl/test/runner" && "$work/runner.test" \
	-shim-path="$work/bogo-shim" \
	-shim-config="$here/config-$backend.json" \
	-shim-extra-flags="-backend;$backend" \
	-allow-unimplemented -loose-errors \
	-json-output="$out" "$@") >"$work/runner.log" 2>&1 || status=$?
end=$(date +%s)
if [ ! -s "$out" ]; then
	tail -n 40 "$work/runner.log" >&2
	echo "run.sh: the runner wrote no results (exit $status)" >&2
	exit 1
fi

jq -r --arg backend "$backend" --arg secs "$((end - start))" '
	.tests as $t
	| [$t[] | select(.actual == "PASS")] | length as $pass
	| [$t[] | select(.actual == "SKIP")] | length as $skip
	| [$t[] | select(.actual == "FAIL" and .is_unexpected)] | length as $unexp
	| [$t[] | select(.actual == "FAIL" and (.is_unexpected | not))] | length as $expfail
	| "backend \($backend): \($t | length) tests, PASS \($pass), SKIP \($skip), unexpected FAIL \($unexp), expected FAIL \($expfail), \($secs) s"
' "$out"
jq -r '.tests | to_entries[] | select(.value.actual == "FAIL" and .value.is_unexpected) | "FAIL \(.key)"' "$out" | sort
echo "results: $out"
unexp=$(jq '[.tests[] | select(.actual == "FAIL" and .is_unexpected)] | length' "$out")
[ "$unexp" -eq 0 ]
