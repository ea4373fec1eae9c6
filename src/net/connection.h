// Connection: one client socket served by one I/O thread.
//
// Reads go into a buffer that the RESP parser scans incrementally; every complete request in
// the buffer is executed in order and its reply appended to one output buffer, which is
// written once per batch (pipelined replies leave in few writes). When a client does not read
// its replies, the connection stops reading its requests once the pending output passes a
// bound: the kernel's flow control then holds the client back, and memory stays bounded.
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
  void ReleaseHeld();
  // The log failed: the held replies are replaced by one error per held command, since what
  // is not persisted must not be acknowledged.
  void FailHeld(std::string_view error);
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
  void HoldReply(size_t start, size_t cmds, uint64_t seq);
  // After the parser returned kNeedMore: when it waits for the body of a large bulk, moves the
  // body's bytes already read into a new block and reads the rest there. True if it did.
  bool StartLargeArg();
  // Reads from the socket into the large argument's block; once complete, hands the block to
  // the parser and returns true (false: incomplete, or the connection was closed).
  bool ReadLargeArg();

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
  BlockRef large_;                    // the large argument being read; empty when none
  size_t large_want_ = 0;             // its bytes to read: the bulk and the CRLF after it
  std::vector<BlockRef> large_args_;  // the complete large arguments of the current request
  bool closed_ = false;
  bool close_when_flushed_ = false;
  bool reading_ = true;
  bool want_write_ = false;
  uint64_t hold_seq_ = 0;  // replies in wbuf_ wait for this log sequence
  size_t hold_start_ = 0;  // wbuf_ offset of the first held reply
  size_t held_cmds_ = 0;   // commands whose replies are held
};

}  // namespace fdb
