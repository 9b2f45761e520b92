#!/bin/bash
# measure.sh: every scenario of docs/qt-measured-verification.md, in order.
# Needs: ./mkpki.sh run, qtverify built in ./build (cmake -S . -B build && make -C build).
here=$(cd "$(dirname "$0")" && pwd); cd "$here"
r() { echo "== $*"; ./run.sh "$@" | grep -v '^Qt '; }
echo "## $(./build/qtverify --version)"
echo "# 1 OCSP (client trusts Test Root, stapling on)"
for st in good_emb good_nocerts rev_emb rev_nocerts rev_keyid good_byroot rev_byroot deleg_emb deleg_nocerts nodeleg_emb; do
  r leaf int.pem $st.der -- --ca root.pem --ocsp
  r leaf - $st.der -- --ca root.pem --ocsp
done
r leafroot - lr_emb.der -- --ca root.pem --ocsp
r leafroot - lr_nocerts.der -- --ca root.pem --ocsp
r leafroot rootchain.pem lr_nocerts.der -- --ca root.pem --ocsp
echo "# 2 peerVerifyError order (peer verify name wrong.invalid)"
r expired int.pem - -- --ca root.pem --name wrong.invalid
r selfexp - - -- --ca root.pem --name wrong.invalid
r leaf - - -- --ca root.pem --name wrong.invalid
r multi otherint.chain - -- --ca root.pem --name wrong.invalid
r bl int.pem - -- --ca root.pem --name wrong.invalid --ocsp
r expired int.pem - -- --ca root.pem --name wrong.invalid --interrupt
r expired int.pem - -- --ca root.pem --name wrong.invalid --interrupt --ocsp
echo "# 3 security level 2"
for c in "rsa1024 int.pem" "rsa1024exp int.pem" "sha1leaf int.pem" "md5leaf intrsa.pem" "under1024 int1024.pem" "undersha1 intsha1.pem" "rsa1024 -"; do
  set -- $c; r $1 $2 - -- --ca root.pem
done
r leaf_r1024 int_r1024.pem - -- --ca root1024.pem
r leaf_rsha1 int_rsha1.pem - -- --ca rootsha1.pem
r rsa1024 int.pem - -- --ca root.pem --ignore
r rsa1024 int.pem - -- --ca root.pem --interrupt
echo "# 4 default CA certificates (private /etc/ssl/certs holding Other Root)"
echo "== control, outside the namespace: server under Other Root, default configuration"; ./run.sh otherleaf - - -- | grep -v '^Qt '
echo "== server under Other Root, default configuration"; ./sysns.sh ./run.sh otherleaf - - -- | grep -v '^Qt '
echo "== same, after defaultConfiguration().addCaCertificates(Test Root) + setDefaultConfiguration"; ./sysns.sh ./run.sh otherleaf - - -- --adddefault root.pem | grep -v '^Qt '
echo "== server under Test Root, same"; ./sysns.sh ./run.sh leaf int.pem - -- --adddefault root.pem | grep -v '^Qt '
echo "== server under Other Root, socket's sslConfiguration().addCaCertificates(Test Root)"; ./sysns.sh ./run.sh otherleaf - - -- --addca root.pem | grep -v '^Qt '
echo "# 5 host names (client trusts Test Root; peer verify name given)"
r cnonly int.pem - -- --ca root.pem --name localhost
r cnsan int.pem - -- --ca root.pem --name localhost
r cnip int.pem - -- --ca root.pem --name 127.0.0.1
r wild int.pem - -- --ca root.pem --name foo.example.com
