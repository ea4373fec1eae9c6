#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string_view>

#include "base/logging.h"
#include "net/sock_addr.h"

namespace fdb {

namespace {

std::string Param(const Config& cfg, const char* name) {
  auto got = cfg.Get(name);
  return got.empty() ? std::string() : got[0].second;
}

// The reason of the last OpenSSL error of this thread, as Redis logs it.
std::string SslError() {
  char buf[256];
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown error";
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

// The key's passphrase callback: tls-key-file-pass, or nothing (never a terminal prompt).
int PassCallback(char* buf, int size, int /*rwflag*/, void* user) {
  const auto* pass = static_cast<const std::string*>(user);
  if (pass == nullptr || size <= 0) return 0;
  const int n = static_cast<int>(std::min(pass->size(), static_cast<size_t>(size)));
  memcpy(buf, pass->data(), n);
  return n;
}

// tls-protocols as Redis's parseProtocolsConfig: space-separated, case-insensitive; empty is
// TLSv1.2 and TLSv1.3. Returns the SSL_OP_NO_* options for the protocols not listed, or -1.
long ProtocolOptions(const std::string& value) {
  constexpr int kV1 = 1, kV11 = 2, kV12 = 4, kV13 = 8;
  int on = 0;
  size_t pos = 0;
  while (pos < value.size()) {
    size_t end = value.find(' ', pos);
    if (end == std::string::npos) end = value.size();
    std::string tok = value.substr(pos, end - pos);
    pos = end + 1;
    if (tok.empty()) continue;
    std::transform(tok.begin(), tok.end(), tok.begin(), [](unsigned char c) { return tolower(c); });
    if (tok == "tlsv1") {
      on |= kV1;
    } else if (tok == "tlsv1.1") {
      on |= kV11;
    } else if (tok == "tlsv1.2") {
      on |= kV12;
    } else if (tok == "tlsv1.3") {
      on |= kV13;
    } else {
      return -1;
    }
  }
  if (on == 0) on = kV12 | kV13;
  long opts = 0;
  if (!(on & kV1)) opts |= SSL_OP_NO_TLSv1;
  if (!(on & kV11)) opts |= SSL_OP_NO_TLSv1_1;
  if (!(on & kV12)) opts |= SSL_OP_NO_TLSv1_2;
  if (!(on & kV13)) opts |= SSL_OP_NO_TLSv1_3;
  return opts;
}

// SSL_get_error needs this thread's error queue empty before each SSL call. Emptying it costs a
// pass over its slots (a few percent of a small request's CPU); looking whether anything is
// there is a load: it is emptied only when not empty (it rarely is: failures drain it).
inline void ClearErrors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

class TlsTransport final : public Transport {
 public:
  TlsTransport(SSL* ssl, int fd, bool client) : ssl_(ssl), fd_(fd), client_(client) {}
  ~TlsTransport() override { SSL_free(ssl_); }

  ssize_t Read(char* buf, size_t len) override {
    ClearErrors();
    const int n = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(len, INT_MAX)));
    if (n > 0) {
      read_wants_write_ = false;
      read_blocked_ = false;
      return n;
    }
    return Failed(n, /*reading=*/true);
  }

  ssize_t Write(const char* buf, size_t len) override {
    ClearErrors();
    const int n = SSL_write(ssl_, buf, static_cast<int>(std::min<size_t>(len, INT_MAX)));
    if (n > 0) {
      write_wants_read_ = false;
      return n;
    }
    return Failed(n, /*reading=*/false);
  }

  // With read-ahead, OpenSSL's buffer may hold whole records not yet decrypted (SSL_pending
  // counts only the decrypted bytes of the current one): readable too, unless the last read
  // found only part of a record there (the rest comes with a socket event).
  bool HasPending() const override {
    return !dead_ && (SSL_pending(ssl_) > 0 || (!read_blocked_ && SSL_has_pending(ssl_)));
  }
  bool ReadWantsWrite() const override { return read_wants_write_; }
  bool WriteWantsRead() const override { return write_wants_read_; }
  bool Handshaking() const override { return !SSL_is_init_finished(ssl_); }
  bool is_tls() const override { return true; }

  void Shutdown() override {
    // After a fatal error OpenSSL must not send anything more; otherwise one close_notify,
    // without waiting for the peer's.
    if (dead_ || !SSL_is_init_finished(ssl_)) return;
    ERR_clear_error();
    (void)SSL_shutdown(ssl_);
    ERR_clear_error();
  }

 private:
  ssize_t Failed(int n, bool reading) {
    const int saved_errno = errno;
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_WANT_READ:
        if (reading) read_blocked_ = true;
        if (!reading) write_wants_read_ = true;
        errno = EAGAIN;
        return -1;
      case SSL_ERROR_WANT_WRITE:
        if (reading) read_wants_write_ = true;
        errno = EAGAIN;
        return -1;
      case SSL_ERROR_ZERO_RETURN:  // the peer's close_notify (or EOF, see Configure)
        dead_ = true;
        if (reading) return 0;
        errno = EPIPE;
        return -1;
      case SSL_ERROR_SYSCALL:
        dead_ = true;
        if (reading && saved_errno == 0) return 0;
        errno = saved_errno != 0 ? saved_errno : ECONNRESET;
        return -1;
      default: {
        dead_ = true;
        const std::string why = SslError();
        if (client_) {
          // This server's own link (a replica's to its master): its failure is the operator's
          // to see, a refused certificate first.
          FDB_LOG_WARNING("TLS error on the connection to %s: %s",
                          SockAddr(fd_, /*peer=*/true).c_str(), why.c_str());
        } else if (!SSL_is_init_finished(ssl_)) {
          // As Redis: a failed handshake (plain text on the TLS port, a refused certificate) is
          // the client's problem, logged at verbose.
          FDB_LOG_VERBOSE("Error accepting a client connection: %s (addr=%s)", why.c_str(),
                          SockAddr(fd_, /*peer=*/true).c_str());
        } else {
          FDB_LOG_VERBOSE("TLS error on client connection %s: %s",
                          SockAddr(fd_, /*peer=*/true).c_str(), why.c_str());
        }
        errno = EPROTO;
        return -1;
      }
    }
  }

  SSL* ssl_;
  int fd_;
  bool client_;  // this side connected (a replica's link); otherwise it accepted
  bool read_wants_write_ = false;
  bool write_wants_read_ = false;
  bool read_blocked_ = false;  // the last read wanted more from the socket
  bool dead_ = false;          // a fatal error or the peer's close: no more I/O, no close_notify
};

// Builds a server context or, `client`, the context of the connections this server makes (a
// replica's link to its master), as Redis's: it presents tls-client-cert-file and -key-file if
// both are set, tls-cert-file and -key-file otherwise, and always verifies the peer's
// certificate against the CA (no host name check, as Redis). Returns nullptr and why on error.
SSL_CTX* BuildContext(const Config& cfg, bool client, std::string* why) {
  const bool own_client_cert = client && !Param(cfg, "tls-client-cert-file").empty() &&
                               !Param(cfg, "tls-client-key-file").empty();
  const std::string cert = Param(cfg, own_client_cert ? "tls-client-cert-file" : "tls-cert-file");
  const std::string key = Param(cfg, own_client_cert ? "tls-client-key-file" : "tls-key-file");
  const std::string pass =
      Param(cfg, own_client_cert ? "tls-client-key-file-pass" : "tls-key-file-pass");
  const std::string ca_file = Param(cfg, "tls-ca-cert-file");
  const std::string ca_dir = Param(cfg, "tls-ca-cert-dir");
  const std::string auth = Param(cfg, "tls-auth-clients");
  const std::string dh_file = Param(cfg, "tls-dh-params-file");
  const std::string ciphers = Param(cfg, "tls-ciphers");
  const std::string suites = Param(cfg, "tls-ciphersuites");
  if (cert.empty()) {
    *why = "No tls-cert-file configured!";
    return nullptr;
  }
  if (key.empty()) {
    *why = "No tls-key-file configured!";
    return nullptr;
  }
  if ((auth != "no" || Param(cfg, "tls-replication") == "yes") && ca_file.empty() &&
      ca_dir.empty()) {
    *why =
        "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
        "tls-replication or tls-auth-clients are enabled!";
    return nullptr;
  }
  const long no_protocols = ProtocolOptions(Param(cfg, "tls-protocols"));
  if (no_protocols < 0) {
    *why =
        "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' "
        "and 'TLSv1.3'.";
    return nullptr;
  }
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method());
  if (ctx == nullptr) {
    *why = "Failed to create TLS context: " + SslError();
    return nullptr;
  }
  auto fail = [&](std::string reason) {
    *why = std::move(reason);
    SSL_CTX_free(ctx);
    return nullptr;
  };
  // No renegotiation asked by clients (a way to make the server spend CPU), no compression
  // (CRIME); an EOF without close_notify is an ordinary close, as for a plain socket.
  long opts = SSL_OP_NO_SSLv2 | SSL_OP_NO_SSLv3 | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
              SSL_OP_IGNORE_UNEXPECTED_EOF | no_protocols;
  if (Param(cfg, "tls-prefer-server-ciphers") == "yes") opts |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  SSL_CTX_set_options(ctx, opts);
  // The output buffer is written in pieces and may move between a blocked write and its retry.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  // Read-ahead: one read(2) takes whatever the socket holds (several records of a pipeline), not
  // a record's 5-byte header and then its body in two. What it leaves in OpenSSL's buffer is
  // served by the I/O thread's pending reads (Transport::HasPending).
  SSL_CTX_set_read_ahead(ctx, 1);
  if (client) {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  } else if (Param(cfg, "tls-session-caching") == "yes") {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, std::stol(Param(cfg, "tls-session-cache-size")));
    SSL_CTX_set_timeout(ctx, std::stol(Param(cfg, "tls-session-cache-timeout")));
    static const unsigned char kSessionContext[] = "fdb";
    SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof(kSessionContext) - 1);
  } else {
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  }
  SSL_CTX_set_default_passwd_cb(ctx, PassCallback);
  SSL_CTX_set_default_passwd_cb_userdata(ctx, pass.empty() ? nullptr : (void*)&pass);
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) <= 0) {
    return fail("Failed to load certificate: " + cert + ": " + SslError());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) <= 0) {
    return fail("Failed to load private key: " + key + ": " + SslError());
  }
  SSL_CTX_set_default_passwd_cb_userdata(ctx, nullptr);  // `pass` does not outlive this call
  if (SSL_CTX_check_private_key(ctx) <= 0) {
    return fail("Failed to load private key: " + key + ": " + SslError());
  }
  if ((!ca_file.empty() || !ca_dir.empty()) &&
      SSL_CTX_load_verify_locations(ctx, ca_file.empty() ? nullptr : ca_file.c_str(),
                                    ca_dir.empty() ? nullptr : ca_dir.c_str()) <= 0) {
    return fail("Failed to configure CA certificate(s) file/directory: " + SslError());
  }
  if (!dh_file.empty()) {
    BIO* bio = BIO_new_file(dh_file.c_str(), "r");
    if (bio == nullptr) return fail("Failed to load " + dh_file + ": " + SslError());
    EVP_PKEY* dh = PEM_read_bio_Parameters(bio, nullptr);
    BIO_free(bio);
    if (dh == nullptr) return fail("Failed to load DH params file: " + dh_file + ": " + SslError());
    if (SSL_CTX_set0_tmp_dh_pkey(ctx, dh) <= 0) {
      EVP_PKEY_free(dh);
      return fail("Failed to load DH params file: " + dh_file + ": " + SslError());
    }
  } else {
    SSL_CTX_set_dh_auto(ctx, 1);
  }
  if (!ciphers.empty() && SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) <= 0) {
    return fail("Failed to configure ciphers: " + ciphers);
  }
  if (!suites.empty() && SSL_CTX_set_ciphersuites(ctx, suites.c_str()) <= 0) {
    return fail("Failed to configure ciphersuites: " + suites);
  }
  // tls-auth-clients: yes requires a certificate signed by the CA, optional verifies one if
  // given, no asks for none.
  int verify = SSL_VERIFY_NONE;
  if (client)
    verify = SSL_VERIFY_PEER;  // the master's certificate, signed by the CA
  else if (auth == "yes")
    verify = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  else if (auth == "optional")
    verify = SSL_VERIFY_PEER;
  SSL_CTX_set_verify(ctx, verify, nullptr);
  return ctx;
}

}  // namespace

SSL_CTX* NewServerSslContext(const Config& cfg, std::string* why) {
  return BuildContext(cfg, /*client=*/false, why);
}

TlsContext::~TlsContext() {
  MutexLock l(mu_);
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
  if (client_ctx_ != nullptr) SSL_CTX_free(client_ctx_);
}

Status TlsContext::Configure(const Config& cfg) {
  std::string why;
  SSL_CTX* ctx = BuildContext(cfg, /*client=*/false, &why);
  SSL_CTX* client_ctx = ctx == nullptr ? nullptr : BuildContext(cfg, /*client=*/true, &why);
  if (client_ctx == nullptr) {
    if (ctx != nullptr) SSL_CTX_free(ctx);
    FDB_LOG_WARNING("%s", why.c_str());
    return Status::InvalidArgument(why);
  }
  SSL_CTX *old, *old_client;
  {
    MutexLock l(mu_);
    old = ctx_;
    old_client = client_ctx_;
    ctx_ = ctx;
    client_ctx_ = client_ctx;
  }
  // Connections made from the old contexts hold references of their own (SSL_new).
  if (old != nullptr) SSL_CTX_free(old);
  if (old_client != nullptr) SSL_CTX_free(old_client);
  return Status::OK();
}

bool TlsContext::configured() const {
  MutexLock l(mu_);
  return ctx_ != nullptr;
}

std::unique_ptr<Transport> TlsContext::NewTransport(int fd) { return NewSession(fd, false); }

std::unique_ptr<Transport> TlsContext::NewClientTransport(int fd) { return NewSession(fd, true); }

std::unique_ptr<Transport> TlsContext::NewSession(int fd, bool client) {
  SSL* ssl;
  {
    MutexLock l(mu_);
    SSL_CTX* ctx = client ? client_ctx_ : ctx_;
    if (ctx == nullptr) return nullptr;
    ssl = SSL_new(ctx);
  }
  if (ssl == nullptr) return nullptr;
  SSL_set_fd(ssl, fd);
  // A client's first Read or Write sends the ClientHello; a server's waits for it.
  if (client) {
    SSL_set_connect_state(ssl);
  } else {
    SSL_set_accept_state(ssl);
  }
  return std::make_unique<TlsTransport>(ssl, fd, client);
}

}  // namespace fdb
