#!/bin/bash
# sysns.sh CMD...: runs CMD in a private mount namespace (root needed) whose
# /etc/ssl/certs is pki/fakesys (Other Root only). Nothing outside changes.
here=$(cd "$(dirname "$0")" && pwd)
exec unshare -m --propagation private bash -c 'mount --bind "$0" /etc/ssl/certs && exec "$@"' "${PKI:-$here/pki}/fakesys" "$@"
