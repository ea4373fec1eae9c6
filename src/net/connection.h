// Connection: one client socket served by one I/O thread.
//
// Reads go into a buffer that the RESP parser scans incrementally; every complete request in
// the buffer is executed in order and its reply appended to one output buffer, which is
// written once per batch (pipelined replies leave in few writes). When a client does not read
// its replies, the connection stops reading its requests once the pending output passes a
// bound: the kernel's flow control then holds the client back, and memory stays bounded.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "commands/dispatcher.h"
#include "net/event_loop.h"
#include "protocol/resp_parser.h"
#include "server/client_state.h"

namespace fdb {

class IoThread;

class Connection : public EventHandler {
 public:
  Connection(IoThread* owner, int fd, uint64_t id);
  ~Connection() override;

  void OnEvent(uint32_t events) override;
  void Close();
  bool closed() const { return closed_; }
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

 private:
  void OnReadable();
  void ProcessInput();
  void Flush();
  void UpdateInterest();
  void HoldReply(size_t start, uint64_t seq);
  void ReleaseHeld();

  IoThread* owner_;
  int fd_;
  ClientState state_;
  RespParser parser_;
  std::vector<char> rbuf_;
  size_t rstart_ = 0;  // start of the request being parsed
  size_t rend_ = 0;    // end of valid data
  std::string wbuf_;
  size_t wpos_ = 0;
  ReplyBuilder rb_;
  std::vector<std::string_view> args_;
  bool closed_ = false;
  bool close_when_flushed_ = false;
  bool reading_ = true;
  bool want_write_ = false;
  uint64_t hold_seq_ = 0;  // replies in wbuf_ wait for this log sequence
  size_t hold_start_ = 0;  // wbuf_ offset of the first held reply
  // One per reply from hold_start_ on (and per reply of the batch being executed): where it
  // ends in wbuf_ and the last log sequence this thread had appended when it was made.
  struct HeldReply {
    size_t end;
    uint64_t seq;
  };
  std::vector<HeldReply> held_;
};

}  // namespace fdb
