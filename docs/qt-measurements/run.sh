#!/bin/bash
# run.sh LEAF CHAIN|- STATUS|- -- qtverify-options...
# Serves pki/LEAF.pem (+ CHAIN, + stapled OCSP response STATUS) with openssl
# s_server on 127.0.0.1 (server side at security level 0 so that it can load
# weak certificates) and runs the Qt client against it.
here=$(cd "$(dirname "$0")" && pwd)
cd "${PKI:-$here/pki}"
leaf=$1 chain=$2 status=$3; shift 4
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
args=(-accept 127.0.0.1:$port -naccept 1 -cipher DEFAULT:@SECLEVEL=0 -cert $leaf.pem -key $leaf.key)
[ "$chain" != - ] && args+=(-cert_chain $chain)
[ "$status" != - ] && args+=(-status_file $status)
log=$(mktemp)
sleep 15 | openssl s_server "${args[@]}" >"$log" 2>&1 &
spid=$!
for i in $(seq 50); do grep -q ACCEPT "$log" && break; sleep 0.1; done
"${QTVERIFY:-$here/build/qtverify}" $port "$@"
kill $spid 2>/dev/null; wait $spid 2>/dev/null; rm -f "$log"
