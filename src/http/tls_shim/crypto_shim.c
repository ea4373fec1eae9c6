/* Loaded under the name "libcrypto.so" before civetweb starts TLS (http/civetweb_tls.h).
 *
 * civetweb opens dlopen("libcrypto.so"), a name only the -dev package provides (a symlink); a
 * machine with the runtime library alone has libcrypto.so.3. This library defines nothing: its
 * one dependency, libcrypto.so.3, is where civetweb's lookups through it land. */
typedef int fdb_crypto_shim_is_empty; /* ISO C wants a declaration in every file */
