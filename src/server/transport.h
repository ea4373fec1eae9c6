// Transport: how a connection moves bytes over its socket — plain TCP or TLS — chosen once when
// the connection is accepted. Connection calls Read and Write where it used read() and send();
// everything above (the read chunk, the parser, the output buffer and its limits) is the same
// for both. Replication uses it too (it sits below the command layer for that): a replica's
// sender thread takes over the accepted connection's transport at PSYNC, and a replica's link
// to its master is a client-side one (commands/replication.cc).
//
// The seam is one small virtual interface rather than `if (tls)` across connection.cc: a TLS
// connection differs in exactly four ways, and each is a method here. (1) Bytes are decrypted
// and encrypted (Read/Write). (2) A read may need the socket to be writable and a write may need
// it readable (a handshake, or a TLS key update): ReadWantsWrite/WriteWantsRead tell the
// connection which events to ask the loop for. (3) OpenSSL may hold decrypted bytes that the
// socket no longer signals (HasPending): the I/O thread reads them after its batch of events
// (IoThread::QueuePendingRead). (4) Closing sends a close_notify (Shutdown). A plain transport
// answers "no" to all of these.
//
// Thread safety: a transport belongs to its connection and is used only by the connection's I/O
// thread; TLS needs no lock on this path (each connection owns its SSL object).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>

namespace fdb {

class Transport {
 public:
  virtual ~Transport() = default;
  // As read(2): >0 bytes read, 0 the peer closed, -1 with errno set (EAGAIN: wait for the event
  // the Wants* methods name, EINTR: try again; anything else: close).
  virtual ssize_t Read(char* buf, size_t len) = 0;
  // As send(2) without SIGPIPE: bytes written (possibly fewer), or -1 with errno set. After
  // EAGAIN the next Write must start with the same bytes (the connection's output buffer does:
  // it only grows at its end until everything pending is written).
  virtual ssize_t Write(const char* buf, size_t len) = 0;
  // Decrypted bytes are waiting inside the transport: readable without a socket event.
  virtual bool HasPending() const { return false; }
  // The last Read returned EAGAIN until the socket is writable (TLS handshake step).
  virtual bool ReadWantsWrite() const { return false; }
  // The last Write returned EAGAIN until the socket is readable.
  virtual bool WriteWantsRead() const { return false; }
  // The handshake is still in progress (the I/O thread closes one that stalls).
  virtual bool Handshaking() const { return false; }
  // Before the socket is closed: TLS sends its close_notify, best effort, without waiting.
  virtual void Shutdown() {}
  virtual bool is_tls() const { return false; }
};

// read(2) and send(2) on fd. The fd stays the connection's (it closes it).
std::unique_ptr<Transport> NewPlainTransport(int fd);

}  // namespace fdb
