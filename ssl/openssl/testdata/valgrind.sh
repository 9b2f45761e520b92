#!/bin/sh
# Runs the openssl backend's C-heavy tests under valgrind and fails on a
# leak or on an error that touches memory C allocated. See
# docs/openssl-backend.md, "Memory": valgrind does not know Go's heap and
# stacks, so accesses to them (reported as "in a rw- anonymous segment")
# are noise, hidden where possible by valgrind.supp; --error-exitcode
# cannot be the gate. Run from anywhere: sh ssl/openssl/testdata/valgrind.sh
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$dir/.." && go test -c -o "$tmp/openssl.test" .)
cd "$tmp"
valgrind --leak-check=full --track-origins=yes --suppressions="$dir/valgrind.supp" ./openssl.test \
	-test.run 'TestHandshakeAndData|TestTruncated|PSK|TestCiphersBeyond|TestEphemeralServerKeyBeyond|TestSession|TestResum' \
	-test.count=1 >"$tmp/out" 2>&1 || true
grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable' "$tmp/out"
status=0
grep -q '^PASS$' "$tmp/out" || { echo "valgrind.sh: the tests did not pass under valgrind"; status=1; }
grep -q 'definitely lost: 0 bytes in 0 blocks' "$tmp/out" || { echo "valgrind.sh: memory definitely lost"; status=1; }
grep -q 'indirectly lost: 0 bytes in 0 blocks' "$tmp/out" || { echo "valgrind.sh: memory indirectly lost"; status=1; }
if grep -E -q "alloc'd|free'd|freed|Mismatched free|Invalid free" "$tmp/out"; then
	echo "valgrind.sh: an error on memory C allocated:"
	grep -E -B12 "alloc'd|free'd|freed|Mismatched free|Invalid free" "$tmp/out"
	status=1
fi
exit $status
