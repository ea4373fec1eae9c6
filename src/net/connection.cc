#include "net/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/clock.h"
#include "base/limits.h"
#include "net/io_thread.h"

namespace fdb {

namespace {

// Pending output above which the connection stops reading requests (flow control).
constexpr size_t kOutputPauseBytes = 4 * 1024 * 1024;

std::string SockAddr(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
               : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (r != 0) return "?:0";
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
    port = ntohs(a->sin6_port);
  }
  return std::string(ip) + ":" + std::to_string(port);
}

}  // namespace

Connection::Connection(IoThread* owner, int fd, uint64_t id) : owner_(owner), fd_(fd), rb_(&wbuf_) {
  state_.id = id;
  state_.fd = fd;
  state_.addr = SockAddr(fd, true);
  state_.laddr = SockAddr(fd, false);
  state_.created_ms = NowMs();
  state_.last_interaction_ms = state_.created_ms;
  state_.authenticated = !owner->server().config().requirepass_set();
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  rbuf_.resize(limits::kReadChunk);
}

Connection::~Connection() {
  if (!closed_) Close();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  if (state_.blocked != nullptr) {
    // Leaves nothing behind: the waiter leaves every key's queue (or, if a push is serving it
    // right now, its reply goes nowhere).
    owner_->server().blocking().Cancel(state_.blocked, /*disconnect=*/true);
    owner_->Unblocked(this);
    state_.blocked.reset();
  }
  owner_->loop().Remove(fd_);
  close(fd_);
  owner_->Closed(this);
}

void Connection::SendAndClose(std::string_view bytes) {
  ssize_t r = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  (void)r;
  Close();
}

void Connection::OnEvent(uint32_t events) {
  if (closed_) return;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) OnReadable();
  if (closed_) return;
  if (events & EPOLLOUT) Flush();
}

void Connection::OnReadable() {
  if (large_) {  // a large argument goes to its own block, not to the read buffer
    if (ReadLargeArg()) {
      ProcessInput();
      if (!closed_) Flush();
    }
    return;
  }
  // Make room: compact consumed bytes away, then grow for a large bulk being read.
  if (rstart_ > 0 && (rstart_ == rend_ || rstart_ > rbuf_.size() / 2)) {
    memmove(rbuf_.data(), rbuf_.data() + rstart_, rend_ - rstart_);
    rend_ -= rstart_;
    rstart_ = 0;
  }
  size_t want = limits::kReadChunk;
  size_t expected = parser_.expected_bytes();
  if (expected > rend_ - rstart_ && expected - (rend_ - rstart_) > want) {
    want = expected - (rend_ - rstart_);  // read a big argument straight to its final place
  }
  if (rbuf_.size() - rend_ < want) rbuf_.resize(rend_ + want);

  ssize_t n = read(fd_, rbuf_.data() + rend_, rbuf_.size() - rend_);
  if (n == 0) {
    Close();
    return;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    Close();
    return;
  }
  rend_ += n;
  ThreadStats& st = owner_->stats();
  st.net_input_bytes.store(st.net_input_bytes.load(std::memory_order_relaxed) + n,
                           std::memory_order_relaxed);
  state_.last_interaction_ms.store(NowMs(), std::memory_order_relaxed);

  if (static_cast<int64_t>(rend_ - rstart_) > owner_->server().config().query_buffer_limit()) {
    // As Redis: a client past client-query-buffer-limit is closed without a reply.
    fprintf(stderr, "fdb: closing client %s that reached max query buffer length\n",
            state_.addr.c_str());
    Close();
    return;
  }
  ProcessInput();
  if (closed_) return;
  // Return memory after a big request has been consumed.
  if (rstart_ == rend_ && rbuf_.size() > 4 * limits::kReadChunk) {
    rbuf_.resize(limits::kReadChunk);
    rbuf_.shrink_to_fit();
    rstart_ = rend_ = 0;
  }
  Flush();
}

void Connection::ProcessInput() {
  ServerContext& server = owner_->server();
  const size_t batch_start = wbuf_.size();
  size_t executed = 0;
  // While a large argument is being read, the request is incomplete: nothing to parse.
  while (rstart_ < rend_ && !large_ && !close_when_flushed_ && state_.blocked == nullptr) {
    if (wbuf_.size() - wpos_ > kOutputPauseBytes) break;  // resume after the client reads
    ParserLimits lim{server.config().proto_max_bulk_len(),
                     state_.authenticated.load(std::memory_order_relaxed)};
    const char* buf = rbuf_.data() + rstart_;
    RespParser::Result r = parser_.Parse(buf, rend_ - rstart_, lim);
    if (r == RespParser::Result::kNeedMore) {
      StartLargeArg();
      break;
    }
    if (r == RespParser::Result::kError) {
      large_args_.clear();
      rb_.Error("ERR " + parser_.error());
      close_when_flushed_ = true;
      break;
    }
    args_.clear();
    if (parser_.inline_request()) {
      for (const auto& a : parser_.inline_args()) args_.emplace_back(a);
    } else {
      for (size_t i = 0; i < parser_.argc(); i++) args_.push_back(parser_.Arg(buf, i));
    }
    size_t consumed = parser_.consumed();
    if (!args_.empty()) {
      rb_.set_resp3(state_.resp3.load(std::memory_order_relaxed));
      state_.arg_blocks.swap(large_args_);  // the large arguments go with the command
      owner_->dispatcher().Execute(args_, state_, rb_);
      state_.arg_blocks.clear();  // what the command kept, it shares
      state_.commands.fetch_add(1, std::memory_order_relaxed);
      if (state_.blocked != nullptr) {
        // Blocked: no reply yet, and no further request until Unblock (as Redis).
        owner_->Blocked(this);
      } else {
        executed++;
      }
      if (state_.close_after_reply) close_when_flushed_ = true;
    }
    parser_.Reset();
    rstart_ += consumed;
    if (closed_) {
      owner_->dispatcher().ReleaseLocks();
      return;
    }
  }
  // The batch is over: the shard lock kept for pipelined commands goes before anything waits.
  owner_->dispatcher().ReleaseLocks();
  state_.qbuf.store(rend_ - rstart_ + (large_ ? large_->size() : 0), std::memory_order_relaxed);
  // Commands that changed data appended records: their replies leave only once those are
  // written (or fsynced, under fsync always). The wait happens once per event batch for all
  // connections of this thread (group commit), in IoThread::AfterBatch.
  if (server.storage() != nullptr) {
    uint64_t seq = server.storage()->TakeThreadSequence();
    if (seq > 0 || hold_seq_ != 0) HoldReply(batch_start, executed, seq);
  }
}

bool Connection::StartLargeArg() {
  const int64_t len = parser_.pending_bulk_len();
  if (len < static_cast<int64_t>(limits::kLargeValueMin)) return false;
  const size_t want = static_cast<size_t>(len) + 2;
  const size_t body = rstart_ + parser_.pending_bulk_offset();  // in rbuf_
  // The parser waits for the body, so every byte after its start belongs to it (checked, not
  // assumed: the block is sized from it).
  if (body > rend_ || rend_ - body >= want) return false;
  const size_t have = rend_ - body;
  SharedBlock* b = SharedBlock::New(std::min(want, std::max(limits::kLargeValueFirstBlock, have)));
  if (b == nullptr) {
    rb_.Error("ERR out of memory reading a large argument");
    close_when_flushed_ = true;
    return false;
  }
  memcpy(b->mutable_data(), rbuf_.data() + body, have);
  b->set_size(have);
  rend_ = body;  // the read buffer ends where the body began (AdoptPendingBulk)
  large_ = BlockRef::Adopt(b);
  large_want_ = want;
  return true;
}

bool Connection::ReadLargeArg() {
  SharedBlock* b = large_.get();
  ThreadStats& st = owner_->stats();
  for (int i = 0; i < limits::kLargeValueReadsPerEvent && b->size() < large_want_; i++) {
    // Room doubles as bytes arrive, never beyond the announced length: memory follows what
    // the client actually sent.
    if (b->size() == b->capacity() &&
        !b->Reserve(
            std::min(large_want_, std::max(2 * b->capacity(), limits::kLargeValueFirstBlock)))) {
      rb_.Error("ERR out of memory reading a large argument");
      close_when_flushed_ = true;
      large_.reset();
      Flush();
      return false;
    }
    ssize_t n = read(fd_, b->mutable_data() + b->size(), b->capacity() - b->size());
    if (n == 0) {
      Close();
      return false;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      Close();
      return false;
    }
    b->set_size(b->size() + n);
    st.net_input_bytes.store(st.net_input_bytes.load(std::memory_order_relaxed) + n,
                             std::memory_order_relaxed);
  }
  state_.last_interaction_ms.store(NowMs(), std::memory_order_relaxed);
  state_.qbuf.store(rend_ - rstart_ + b->size(), std::memory_order_relaxed);
  if (static_cast<int64_t>(rend_ - rstart_ + b->size()) >
      owner_->server().config().query_buffer_limit()) {
    fprintf(stderr, "fdb: closing client %s that reached max query buffer length\n",
            state_.addr.c_str());
    Close();
    return false;
  }
  if (b->size() < large_want_) return false;
  b->set_size(large_want_ - 2);  // as Redis, the two bytes after a bulk are skipped unchecked
  parser_.AdoptPendingBulk(b->view());
  large_args_.push_back(std::move(large_));
  return true;
}

void Connection::HoldReply(size_t start, size_t cmds, uint64_t seq) {
  if (hold_seq_ == 0) {
    owner_->Hold(this);
    hold_start_ = start;
    held_cmds_ = 0;
  }
  held_cmds_ += cmds;
  hold_seq_ = std::max(hold_seq_, seq);
}

void Connection::Unblock(std::string_view reply, uint64_t log_seq) {
  if (closed_) return;
  state_.blocked.reset();
  owner_->Unblocked(this);
  size_t start = wbuf_.size();
  wbuf_.append(reply);
  if (owner_->server().storage() != nullptr && (log_seq > 0 || hold_seq_ != 0)) {
    HoldReply(start, 1, log_seq);
  }
  ProcessInput();
  if (!closed_) Flush();
}

void Connection::FailHeld(std::string_view error) {
  wbuf_.resize(hold_start_);
  for (size_t i = 0; i < held_cmds_; i++) rb_.Error(error);
  hold_seq_ = 0;
  held_cmds_ = 0;
  if (!closed_) Flush();
}

void Connection::ReleaseHeld() {
  hold_seq_ = 0;
  held_cmds_ = 0;
  if (!closed_) Flush();
}

void Connection::Flush() {
  if (hold_seq_ != 0) return;  // released by IoThread::AfterBatch
  while (wpos_ < wbuf_.size()) {
    ssize_t n = send(fd_, wbuf_.data() + wpos_, wbuf_.size() - wpos_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) break;
      Close();
      return;
    }
    wpos_ += n;
    ThreadStats& st = owner_->stats();
    st.net_output_bytes.store(st.net_output_bytes.load(std::memory_order_relaxed) + n,
                              std::memory_order_relaxed);
  }
  if (wpos_ == wbuf_.size()) {
    wbuf_.clear();
    wpos_ = 0;
    if (wbuf_.capacity() > 1024 * 1024) wbuf_.shrink_to_fit();
    if (close_when_flushed_) {
      Close();
      return;
    }
  } else if (wbuf_.size() - wpos_ > limits::kOutputBufferHardLimitDefault) {
    Close();
    return;
  }
  state_.obuf.store(wbuf_.size() - wpos_, std::memory_order_relaxed);
  // Requests held back by flow control are processed once the output has drained.
  bool had_pending_input = rstart_ < rend_ && wbuf_.size() - wpos_ <= kOutputPauseBytes;
  UpdateInterest();
  if (had_pending_input && !close_when_flushed_ && wpos_ == 0 && wbuf_.empty()) {
    size_t before = rend_ - rstart_;
    ProcessInput();
    if (!closed_ && (rend_ - rstart_) != before) Flush();
  }
}

void Connection::UpdateInterest() {
  bool want_write = wpos_ < wbuf_.size();
  bool reading = !close_when_flushed_ && (wbuf_.size() - wpos_ <= kOutputPauseBytes);
  if (want_write == want_write_ && reading == reading_) return;
  want_write_ = want_write;
  reading_ = reading;
  uint32_t ev = (reading ? static_cast<uint32_t>(EPOLLIN) : 0u) |
                (want_write ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  owner_->loop().Modify(fd_, ev, this);
}

}  // namespace fdb
