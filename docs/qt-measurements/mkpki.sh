#!/bin/sh
# Builds the measurement PKI and OCSP responses of docs/qt-measured-verification.md
# with the openssl CLI (OpenSSL 3.0, Debian 12) in ./pki (or $1).
set -eu
D=${1:-pki}; rm -rf "$D"; mkdir -p "$D"; cd "$D"
cat > ext.cnf <<'X'
[ca]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[int]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[leaf]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
[cnonly]
basicConstraints=CA:FALSE
extendedKeyUsage=serverAuth
[cnsan]
basicConstraints=CA:FALSE
extendedKeyUsage=serverAuth
subjectAltName=DNS:other.invalid
[wild]
basicConstraints=CA:FALSE
extendedKeyUsage=serverAuth
subjectAltName=DNS:f*.example.com
[ocspsign]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=OCSPSigning
[noocspsign]
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
[ca_conf]
dir=.
database=./index.txt
new_certs_dir=./newcerts
serial=./serial
default_md=sha256
policy=pol
unique_subject=no
copy_extensions=none
[pol]
commonName=supplied
X
mkdir -p newcerts; : > index.txt; echo "unique_subject = no" > index.txt.attr; echo 1000 > serial
key() {
  case $2 in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $1.key 2>/dev/null ;;
    rsa*) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:${2#rsa} -out $1.key 2>/dev/null ;;
  esac
}
# sign NAME CN ISSUER|self EXT [KEYTYPE] [DIGEST] [START END]
sign() {
  n=$1 cn=$2 iss=$3 ext=$4 kt=${5:-ec} md=${6:-sha256} st=${7:-} en=${8:-}
  key $n $kt
  openssl req -new -key $n.key -subj "/CN=$cn" -out $n.csr 2>/dev/null
  dates="-days 30"; [ -n "$st" ] && dates="-startdate $st -enddate $en"
  if [ "$iss" = self ]; then signer="-selfsign -keyfile $n.key"; else signer="-cert $iss.pem -keyfile $iss.key"; fi
  openssl ca -batch -config ext.cnf -name ca_conf $signer -in $n.csr -out $n.pem \
    -extfile ext.cnf -extensions $ext -md $md $dates -notext 2>/dev/null
}
OLD="20200101000000Z 20210101000000Z"
sign root "Test Root" self ca
sign int "Test Intermediate" root int
sign leaf localhost int leaf
sign expired localhost int leaf ec sha256 $OLD
sign selfexp localhost self leaf ec sha256 $OLD
sign other "Other Root" self ca
sign otherint "Other Intermediate" other int
sign multi localhost otherint leaf ec sha256 $OLD
cat otherint.pem other.pem > otherint.chain
sign otherleaf localhost other leaf
sign leafroot localhost root leaf
cp root.pem rootchain.pem
# host names
sign cnonly localhost int cnonly
sign cnsan localhost int cnsan
sign wild x int wild
sign cnip 127.0.0.1 int cnonly
# security level 2
sign rsa1024 localhost int leaf rsa1024
sign rsa1024exp localhost int leaf rsa1024 sha256 $OLD
sign sha1leaf localhost int leaf ec sha1
sign intrsa "RSA Intermediate" root int rsa2048
sign md5leaf localhost intrsa leaf rsa2048 md5
sign int1024 "Weak Intermediate" root int rsa1024
sign under1024 localhost int1024 leaf
sign intsha1 "SHA1 Intermediate" root int ec sha1
sign undersha1 localhost intsha1 leaf
sign root1024 "Weak Root" self ca rsa1024
sign int_r1024 "Intermediate Under Weak Root" root1024 int
sign leaf_r1024 localhost int_r1024 leaf
sign rootsha1 "SHA1 Root" self ca ec sha1
sign int_rsha1 "Intermediate Under SHA1 Root" rootsha1 int
sign leaf_rsha1 localhost int_rsha1 leaf
# blacklisted (Qt's "MD5 Collisions Inc." entry, serial 41) and expired
echo 41 > serial.bl; mv serial serial.keep; mv serial.bl serial
sign bl "MD5 Collisions Inc. (http:\/\/www.phreedom.org\/md5)" int leaf ec sha256 $OLD
mv serial.keep serial
# OCSP responders
sign deleg "Delegated Responder" int ocspsign
sign nodeleg "Not A Responder" int noocspsign
# OCSP responses about leaf (and leafroot), good and revoked (keyCompromise)
cp index.txt index.good
openssl ca -config ext.cnf -name ca_conf -revoke leaf.pem -crl_reason keyCompromise -cert int.pem -keyfile int.key 2>/dev/null
cp index.txt index.revoked; cp index.good index.txt
for i in good revoked; do cp index.txt.attr index.$i.attr; done
resp() { # OUT INDEX SIGNER [options]  (about leaf, issuer int)
  o=$1 idx=$2 s=$3; shift 3
  openssl ocsp -index $idx -rsigner $s.pem -rkey $s.key -CA int.pem -issuer int.pem -cert leaf.pem \
    -respout $o -ndays 7 "$@" >/dev/null 2>&1
}
resp good_emb.der index.good int
resp good_nocerts.der index.good int -resp_no_certs
resp rev_emb.der index.revoked int
resp rev_nocerts.der index.revoked int -resp_no_certs
resp rev_keyid.der index.revoked int -resp_key_id
resp good_byroot.der index.good root
resp rev_byroot.der index.revoked root
resp deleg_emb.der index.good deleg
resp deleg_nocerts.der index.good deleg -resp_no_certs
resp nodeleg_emb.der index.good nodeleg
openssl ocsp -index index.good -rsigner root.pem -rkey root.key -CA root.pem -issuer root.pem -cert leafroot.pem \
  -respout lr_emb.der -ndays 7 >/dev/null 2>&1
openssl ocsp -index index.good -rsigner root.pem -rkey root.key -CA root.pem -issuer root.pem -cert leafroot.pem \
  -respout lr_nocerts.der -ndays 7 -resp_no_certs >/dev/null 2>&1
# a pretend system store (for the default-CA measurement): Other Root only
mkdir -p fakesys; cp other.pem fakesys/; c_rehash fakesys >/dev/null 2>&1 || openssl rehash fakesys
echo "PKI ready in $(pwd)"
