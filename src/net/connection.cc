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
  StorageEngine* storage = server.storage();
  const size_t batch_start = wbuf_.size();
  while (rstart_ < rend_ && !close_when_flushed_ && state_.blocked == nullptr) {
    if (wbuf_.size() - wpos_ > kOutputPauseBytes) break;  // resume after the client reads
    ParserLimits lim{server.config().proto_max_bulk_len(),
                     state_.authenticated.load(std::memory_order_relaxed)};
    const char* buf = rbuf_.data() + rstart_;
    RespParser::Result r = parser_.Parse(buf, rend_ - rstart_, lim);
    if (r == RespParser::Result::kNeedMore) break;
    if (r == RespParser::Result::kError) {
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
      owner_->dispatcher().Execute(args_, state_, rb_);
      state_.commands.fetch_add(1, std::memory_order_relaxed);
      if (state_.blocked != nullptr) {
        // Blocked: no reply yet, and no further request until Unblock (as Redis).
        owner_->Blocked(this);
      } else if (storage != nullptr) {
        // Where this reply ends and the record it depends on (see ResolveHeld).
        held_.push_back({wbuf_.size(), owner_->dispatcher().last_sequence()});
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
  state_.qbuf.store(rend_ - rstart_, std::memory_order_relaxed);
  // Commands that changed data appended records: their replies leave only once those are
  // written (or fsynced, under fsync always). The wait happens once per event batch for all
  // connections of this thread (group commit), in IoThread::AfterBatch.
  if (storage != nullptr) {
    uint64_t seq = storage->TakeThreadSequence();
    if (seq > 0 || hold_seq_ != 0) {
      HoldReply(batch_start, seq);
    } else {
      held_.clear();  // nothing waits: the batch's marks are not needed
    }
  }
}

void Connection::HoldReply(size_t start, uint64_t seq) {
  if (hold_seq_ == 0) {
    owner_->Hold(this);
    hold_start_ = start;
  }
  hold_seq_ = std::max(hold_seq_, seq);
}

void Connection::Unblock(std::string_view reply, uint64_t log_seq) {
  if (closed_) return;
  state_.blocked.reset();
  owner_->Unblocked(this);
  size_t start = wbuf_.size();
  wbuf_.append(reply);
  if (owner_->server().storage() != nullptr && (log_seq > 0 || hold_seq_ != 0)) {
    held_.push_back({wbuf_.size(), log_seq});
    HoldReply(start, log_seq);
  }
  ProcessInput();
  if (!closed_) Flush();
}

bool Connection::ResolveHeld(StorageEngine& storage, uint64_t committed) {
  if (hold_seq_ == 0) return true;
  uint64_t first = hold_seq_;
  for (const HeldReply& h : held_) {
    if (h.seq != 0) {
      first = h.seq;
      break;
    }
  }
  if (first > storage.LastDiscarded()) {
    // The common case: no held record can have been discarded, so all wait for the highest.
    if (hold_seq_ > committed) return false;
    ReleaseHeld();
    return true;
  }
  // A failure discarded records. Each reply follows the fate of the record its command
  // appended last; one that appended nothing follows the write before it on this connection.
  std::vector<storage::Outcome> fate(held_.size(), storage::Outcome::kCommitted);
  uint64_t prev_seq = 0;
  storage::Outcome prev = storage::Outcome::kCommitted;
  for (size_t i = 0; i < held_.size(); i++) {
    if (held_[i].seq != 0 && held_[i].seq != prev_seq) {
      prev_seq = held_[i].seq;
      prev = storage.OutcomeOf(prev_seq);
    }
    if (prev == storage::Outcome::kPending) return false;
    fate[i] = prev;
  }
  std::string tail;
  ReplyBuilder rb(&tail);
  rb.set_resp3(state_.resp3.load(std::memory_order_relaxed));
  const std::string error = storage.DiscardedError();
  size_t pos = hold_start_;
  for (size_t i = 0; i < held_.size(); i++) {
    if (fate[i] == storage::Outcome::kDiscarded) {
      rb.Error(error);
    } else {
      tail.append(wbuf_, pos, held_[i].end - pos);
    }
    pos = held_[i].end;
  }
  tail.append(wbuf_, pos, std::string::npos);  // bytes after the last reply (a protocol error)
  wbuf_.resize(hold_start_);
  wbuf_ += tail;
  ReleaseHeld();
  return true;
}

void Connection::ReleaseHeld() {
  hold_seq_ = 0;
  held_.clear();
  if (held_.capacity() > 4096) held_.shrink_to_fit();
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
