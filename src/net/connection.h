// Connection: one client socket served by one I/O thread.
//
// Reads go into the I/O thread's shared read chunk, which the RESP parser scans; every
// complete request is executed in order and its reply appended to one output buffer, which is
// written once per batch (pipelined replies leave in few writes). Only the bytes of an
// unfinished request move to the connection's own ReadBuffer, which grows with the bytes that
// arrive (never with a declared length) and is freed once consumed: an idle connection owns
// no read buffer, and its output buffer is freed after kIdleReleaseMs without traffic.
//
// Memory bounds: when a client does not read its replies, the connection stops reading its
// requests once the pending output passes a bound (the kernel's flow control then holds the
// client back); a reply is checked against client-output-buffer-limit while it is built
// (ReplyBuilder); the memory of all connections is summed for maxmemory-clients. An
// allocation that fails anywhere while serving a request (reading, parsing, executing,
// replying) closes this connection with an error, not the server.
//
// A bulk argument of at least limits::kLargeValueMin bytes does not go through the read buffer:
// once the parser has its `$N` line, the bytes that follow are read from the socket into a block
// of their own (base/shared_block.h) that grows with the bytes received, and the command gets
// the block with its arguments (ClientState::arg_blocks), so SET keeps the value without a copy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "commands/dispatcher.h"
#include "commands/pubsub.h"
#include "net/event_loop.h"
#include "net/read_buffer.h"
#include "protocol/resp_parser.h"
#include "server/client_state.h"
#include "server/transport.h"

namespace fdb {

class IoThread;

class Connection : public EventHandler, public PubSubEndpoint {
 public:
  // `transport`: plain or TLS, chosen by the listener that accepted fd (server/transport.h).
  // unix_socket: fd came from the Unix socket listener (a local client, CLIENT LIST's `U`).
  Connection(IoThread* owner, int fd, uint64_t id, std::unique_ptr<Transport> transport,
             bool unix_socket = false);
  ~Connection() override;

  void OnEvent(uint32_t events) override;
  void Close();
  bool closed() const { return closed_; }
  // A TLS handshake not finished yet (the I/O thread closes one that stalls).
  bool handshaking() const { return transport_->Handshaking(); }
  // Reads what the transport holds already decrypted (SSL_pending), which no socket event
  // announces: called by the I/O thread after its batch (IoThread::QueuePendingRead).
  void ReadPending();
  // Output stuck above the soft limit (client-output-buffer-limit) with no new output to
  // trigger the check: closes the client once the soft seconds have passed, as Redis's
  // clientsCron. Run by the I/O thread's once-a-second check.
  void CheckSoftLimitWithoutTraffic() {
    if (!closed_ && soft_limit_since_ms_ != 0) (void)CheckOutputLimits();
  }
  // Replies wait until the log holds the records of their commands (see IoThread).
  uint64_t held_sequence() const { return hold_seq_; }
  // Sends the held replies once the fate of their records is known: true when done (nothing
  // is held any more), false while some are still pending. A reply whose record was
  // discarded after a log failure becomes the MISCONF error (the write did not happen), and
  // so does the reply of a command that appended nothing after it (it saw that write); every
  // other reply stands. `committed`: the log's CommittedSequence().
  bool ResolveHeld(StorageEngine& storage, uint64_t committed);
  ClientState& state() { return state_; }
  // The reply of this client's blocking command (served by another command, or its timeout):
  // appended after the replies before it, held until the log commits `log_seq` (0: none); then
  // the requests that arrived meanwhile are processed. REQUIRES: the owning thread.
  void Unblock(std::string_view reply, uint64_t log_seq);
  // Queues raw bytes and tries to send them (used for the max-clients refusal).
  void SendAndClose(std::string_view bytes);
  // Frees the buffers of a connection without traffic since kIdleReleaseMs (the I/O thread's
  // once-a-second sweep).
  void ReleaseIdleMemory(int64_t now_ms);
  // CLIENT PAUSE: whether a command of this client is held, and running it again (the I/O
  // thread's timer calls this while the pause may have ended; a command still held stays).
  bool postponed() const { return postponed_; }
  void ResumePostponed();

  // Pub/sub (commands/pubsub.h). PushMessage appends a message and leaves the write to
  // AfterPush, which the I/O thread calls once after its batch for every connection that got
  // messages (one write for many messages). Past the pubsub hard limit, messages are dropped
  // and the client is closed by AfterPush. REQUIRES: the owning thread.
  void PushMessage(const std::string& msg) override;
  void CloseForPubSubLimit() override;
  void ShardChannelLost(const std::string& channel) override;
  void AfterPush();

 private:
  // Runs fn; an allocation failure inside it closes this connection (OnAllocationFailure).
  template <class Fn>
  void Guarded(Fn&& fn);
  void OnAllocationFailure();
  void OnReadable();
  // Executes the complete requests in data[0, len); returns the bytes they took. Stops early
  // when the client blocks, is closed, or has too much output pending.
  size_t ProcessRequests(const char* data, size_t len);
  // ProcessRequests over the connection's own read buffer.
  void ProcessInput();
  // Room for the next read in rbuf_: a read chunk, or for a big argument the part of it still
  // missing, in steps of the bytes already received, bounded by kReadGrowthStepMin/Max.
  void ReserveForRead();
  // Drops the reply of the command just run while CLIENT REPLY is OFF or SKIP, and steps SKIP on.
  void ApplyReplyMode(size_t reply_start);
  // Runs one request through the dispatcher and books its reply; returns the log sequence
  // the reply waits for. When CLIENT PAUSE held it (state_.postponed), nothing was written.
  uint64_t RunCommand(CmdArgs args);
  // Keeps a held request for ResumePostponed (see client_pause.h), and ends that state.
  void Postpone(std::vector<std::string> args);
  void EndPostponed();
  // The client passed its output buffer limit: closed, with Redis's log line.
  void CloseForOutputLimit(const char* which);
  // The client's output buffer limit class: pubsub while subscribed, as Redis.
  Config::ClientClass OutputClass() const {
    return state_.subscribed() ? Config::kPubsub : Config::kNormal;
  }
  // Whether nothing configured bounds what this client's replies may hold: its class has no
  // hard limit (`client-output-buffer-limit normal 0 0 0`, Redis's default and redis.conf's),
  // and maxmemory-clients is off or the client is CLIENT NO-EVICT. Only then does flow control
  // stop reading its requests while more than 4 MB of its replies wait: a client that never
  // reads holds at most that. A configured limit governs the client as in Redis (the server
  // reads on, and closes the client at the limit), so a pipeline whose replies pass 4 MB is
  // not held back, and the client's memory grows as Redis's suite and tools expect.
  bool OutputUnbounded() const;
  // Flow control holds the client's requests now (OutputUnbounded and over 4 MB pending).
  bool OutputPaused() const;
  // Checks the pending output against the soft and hard limits; false if the client closed.
  bool CheckOutputLimits();
  // Publishes this connection's memory (tot-mem, the server's sum) and, when all clients use
  // more than maxmemory-clients, closes the biggest ones.
  void UpdateMemory();
  // CLIENT LIST qbuf: the unread input (a large argument's body alone while it arrives).
  size_t QueryBufferBytes() const;
  void Flush();
  void UpdateInterest();
  void HoldReply(size_t start, uint64_t seq);
  void ReleaseHeld();
  // After ProcessRequests stopped at the unfinished request req[0, len): when the parser waits
  // for the body of a large bulk, moves the body's bytes already read into a new block (the
  // rest is read there) and returns where the body began; else returns len. The caller keeps
  // req[0, result) as the request's bytes.
  size_t StartLargeArg(const char* req, size_t len);
  // Reads from the socket into the large argument's block; once complete, hands the block to
  // the parser and returns true (false: incomplete, or the connection was closed).
  bool ReadLargeArg();

  // PSYNC / SYNC: the socket goes to the replication sender (commands/replication.h) and this
  // connection closes.
  void HandOverToReplication();
  // Asks the I/O thread to read again after its batch when the transport holds bytes.
  void CheckPending();

  IoThread* owner_;
  int fd_;
  std::unique_ptr<Transport> transport_;
  ClientState state_;
  RespParser parser_;
  ReadBuffer rbuf_;  // the bytes of an unfinished request (see the top of this file)
  std::string wbuf_;
  size_t wpos_ = 0;
  ReplyBuilder rb_;
  std::vector<std::string_view> args_;
  BlockRef large_;                    // the large argument being read; empty when none
  size_t large_want_ = 0;             // its bytes to read: the bulk and the CRLF after it
  std::vector<BlockRef> large_args_;  // the complete large arguments of the current request
  bool closed_ = false;
  bool socket_handed_over_ = false;  // to the replication sender: Close does not close it
  bool close_when_flushed_ = false;
  bool reading_ = true;
  bool want_read_ = true;  // EPOLLIN asked for: reading_, or a TLS write waiting for input
  bool want_write_ = false;
  bool push_pending_ = false;   // in the I/O thread's list of connections to AfterPush
  bool push_overflow_ = false;  // a message passed the pubsub hard limit: close in AfterPush
  bool executing_ = false;      // a command of this connection is running
  std::string own_pushes_;      // messages it published to itself: after its reply
  bool postponed_ = false;      // a request held by CLIENT PAUSE waits in postponed_args_
  std::vector<std::string> postponed_args_;
  uint64_t hold_seq_ = 0;            // replies in wbuf_ wait for this log sequence
  size_t hold_start_ = 0;            // wbuf_ offset of the first held reply
  size_t mem_ = 0;                   // memory last published in state_.tot_mem / client_memory
  int64_t soft_limit_since_ms_ = 0;  // pending output above the soft limit since (0: not)
  // One per reply from hold_start_ on (and per reply of the batch being executed): where it
  // ends in wbuf_ and the last log sequence this thread had appended when it was made.
  struct HeldReply {
    size_t end;
    uint64_t seq;
  };
  std::vector<HeldReply> held_;
};

}  // namespace fdb
