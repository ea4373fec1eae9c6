/* Loaded under the name "libssl.so" before civetweb starts TLS (http/civetweb_tls.h).
 *
 * Debian 12's libcivetweb 1.15 opens OpenSSL at run time, dlopen("libssl.so"), and looks its
 * functions up by the names of OpenSSL 1.1. One of them is gone from OpenSSL 3's libssl:
 * SSL_get_peer_certificate, now a macro for SSL_get1_peer_certificate (same contract: a
 * reference the caller frees). This library carries that name; every other function civetweb
 * looks up is found in its dependency, the system's libssl.so.3. */
#include <openssl/ssl.h>

#undef SSL_get_peer_certificate
X509 *SSL_get_peer_certificate(const SSL *ssl);

X509 *SSL_get_peer_certificate(const SSL *ssl) { return SSL_get1_peer_certificate(ssl); }
