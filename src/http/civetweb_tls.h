// HTTPS with Debian 12's civetweb.
//
// Debian 12's libcivetweb (1.15) is built to open OpenSSL at run time: dlopen("libssl.so") and
// dlopen("libcrypto.so"), then dlsym of each function by its OpenSSL 1.1 name. On Debian 12 that
// fails twice: "libssl.so" and "libcrypto.so" exist only with libssl-dev (a symlink), and one of
// the 58 names, SSL_get_peer_certificate, is a macro in OpenSSL 3 and not in libssl.so.3, so
// civetweb's TLS does not start ("Error initializing SSL context").
//
// Before civetweb's TLS starts, LoadCivetwebTls loads two small libraries built into fdb-server
// (src/http/tls_shim/) whose DT_SONAMEs are "libssl.so" and "libcrypto.so": the dynamic loader
// answers a dlopen by name with an object already loaded under that SONAME, so civetweb gets
// them, and its dlsym finds SSL_get_peer_certificate in the first (a call of
// SSL_get1_peer_certificate) and every other function in their dependencies, the system's
// libssl.so.3 and libcrypto.so.3 (the ones fdb-server links). They are written to anonymous
// memory files (memfd_create) and opened through /proc/self/fd, so nothing is installed beside
// the binary. The SSL_CTX civetweb uses is FDB's own (net/tls.h), from the tls-* parameters.
//
// Rejected: another HTTP library (the listener, its limits and its tests are civetweb's), a TLS
// relay of our own in front of a plain civetweb port (more code on the request path, and the
// client's address would have to be carried across), civetweb built from source (not a Debian
// package).
#pragma once

#include "base/status.h"

namespace fdb {

// Loads the two libraries (once per process) and starts civetweb's TLS. Thread-safe; later calls
// return the first call's result.
Status LoadCivetwebTls();

}  // namespace fdb
