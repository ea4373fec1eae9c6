#!/usr/bin/env bash
# gen-test-certs.sh [DIR]: test certificates for TLS, made with openssl, in DIR (default
# tests/tls). The layout is the one Redis's test suite expects in its tests/tls:
#   ca.crt ca.key            a test CA
#   redis.crt redis.key      a certificate for both roles (server and client), signed by the CA
#   server.crt server.key    server role only (CN Server-only)
#   client.crt client.key    client role only (CN Client-only)
#   redis.dh                 DH parameters (tls-dh-params-file)
# and, for FDB's own tests of refused certificates:
#   expired.crt expired.key  a client certificate signed by the CA that has expired
#   other-ca.crt other-ca.key  another CA
#   other.crt other.key      a client certificate signed by that other CA
# For tests only: the keys are not encrypted and the directory is meant to be a temporary one
# (never commit it).
set -euo pipefail
dir=${1:-tests/tls}
mkdir -p "$dir"
cd "$dir"

days=365
key() { openssl genrsa -out "$1" 2048 2>/dev/null; }
ca() {  # name subject
  key "$1.key"
  openssl req -x509 -new -nodes -sha256 -key "$1.key" -days 3650 -subj "$2" -out "$1.crt"
}
# sign name ca cn [extensions-section]: a certificate for name.key signed by ca
sign() {
  local name=$1 ca=$2 cn=$3 ext=${4:-}
  [ -f "$name.key" ] || key "$name.key"
  local args=()
  [ -n "$ext" ] && args=(-extfile openssl.cnf -extensions "$ext")
  openssl req -new -sha256 -subj "/O=FDB Test/CN=$cn" -key "$name.key" |
    openssl x509 -req -sha256 -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial \
      -days "$days" "${args[@]}" -out "$name.crt" 2>/dev/null
}

cat >openssl.cnf <<'CNF'
[ server_cert ]
keyUsage = digitalSignature, keyEncipherment
nsCertType = server
subjectAltName = IP:127.0.0.1, DNS:localhost

[ client_cert ]
keyUsage = digitalSignature, keyEncipherment
nsCertType = client

[ both_cert ]
keyUsage = digitalSignature, keyEncipherment
subjectAltName = IP:127.0.0.1, DNS:localhost
CNF

ca ca "/O=FDB Test/CN=Certificate Authority"
sign server ca Server-only server_cert
sign client ca Client-only client_cert
sign redis ca Generic-cert both_cert
ca other-ca "/O=Other Test/CN=Other Certificate Authority"
sign other other-ca Other-client client_cert

# An expired certificate: validity in the past. `openssl x509 -req` cannot back-date, so a
# one-row CA database signs it with explicit start and end dates.
key expired.key
mkdir -p expired-ca.d
: >expired-ca.d/index.txt
echo 1000 >expired-ca.d/serial
cat >expired-ca.cnf <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
dir = expired-ca.d
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = any
unique_subject = no
[ any ]
commonName = supplied
CNF
openssl req -new -sha256 -subj "/O=FDB Test/CN=Expired" -key expired.key -out expired.csr
openssl ca -batch -config expired-ca.cnf -cert ca.crt -keyfile ca.key -in expired.csr \
  -startdate 20200101000000Z -enddate 20200102000000Z -out expired.crt >/dev/null 2>&1
rm -rf expired-ca.d expired-ca.cnf expired.csr

# The RFC 7919 group ffdhe2048 in PKCS#3 form ("DH PARAMETERS", which redis-server reads too):
# instant, where generating new parameters takes a minute on a busy machine.
[ -f redis.dh ] || openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out redis.dh
