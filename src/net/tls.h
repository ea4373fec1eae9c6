// TLS with OpenSSL: the server's SSL_CTX, built from the tls-* parameters, and the TLS
// transport of an accepted connection (server/transport.h); and the client SSL_CTX of the
// connections this server makes (a replica's link to its master, tls-replication).
//
// One SSL_CTX serves every connection accepted while it is current. CONFIG SET of a tls-*
// parameter builds a new one (certificates, key, CA, protocols, ciphers are read again) and
// swaps it in under a mutex taken only here and at accept; a connection's SSL object holds its
// own reference to the SSL_CTX it was made from, so existing connections keep theirs and are not
// dropped, and the old SSL_CTX is freed with its last connection. If building fails, the reason
// is logged as Redis logs it ("Failed to load certificate: ...") and the current one stays.
//
// The I/O path takes no lock: every connection owns its SSL object and is served by one I/O
// thread; the handshake is driven by the event loop like any read (SSL_read returns
// WANT_READ/WANT_WRITE until it is done), never by a blocking call.
#pragma once

#include <memory>
#include <string>

#include "base/mutex.h"
#include "base/status.h"
#include "server/config.h"
#include "server/transport.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace fdb {

// A server SSL_CTX from cfg's tls-* parameters, the one TlsContext::Configure makes current,
// for a listener that is not the RESP one (the HTTP listener's http-tls). nullptr and why on
// error. The caller frees it.
SSL_CTX* NewServerSslContext(const Config& cfg, std::string* why);

class TlsContext {
 public:
  TlsContext() = default;
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // Builds an SSL_CTX from cfg's tls-* parameters and makes it current. On error the reason is
  // logged (warning) and returned; the current context, if any, stays. Thread-safe.
  [[nodiscard]] Status Configure(const Config& cfg);
  // Whether Configure succeeded once. Thread-safe.
  bool configured() const;
  // A TLS transport for an accepted socket, in the server role, using the current context;
  // nullptr when none is configured. Thread-safe.
  std::unique_ptr<Transport> NewTransport(int fd);
  // A TLS transport for a socket this server connected, in the client role (it verifies the
  // peer's certificate); nullptr when none is configured. Thread-safe.
  std::unique_ptr<Transport> NewClientTransport(int fd);

 private:
  // A session on `fd` from the server context (`client` false) or the client one.
  std::unique_ptr<Transport> NewSession(int fd, bool client);

  mutable Mutex mu_;
  SSL_CTX* ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
  SSL_CTX* client_ctx_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace fdb
