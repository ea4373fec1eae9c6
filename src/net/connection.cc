#include "net/connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <stdexcept>

#include "base/clock.h"
#include "base/limits.h"
#include "base/logging.h"
#include "commands/client_memory.h"
#include "engine/keyspace.h"
#include "net/io_thread.h"
#include "net/sock_addr.h"

namespace fdb {

namespace {

// Pending output above which a connection that no configured limit governs stops reading
// requests (flow control; see Connection::OutputUnbounded).
constexpr size_t kOutputPauseBytes = 4 * 1024 * 1024;
// Redis's PROTO_MBULK_BIG_ARG: bodies of 32 KB and more are big arguments there.
constexpr int64_t kBigArg = 32 * 1024;

}  // namespace

std::string SockAddr(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
               : getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (r != 0) return "?:0";
  char ip[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_UNIX) {
    // As Redis's CLIENT LIST: the socket's path for both ends (the client's end has no name).
    if (!peer) return std::string(reinterpret_cast<sockaddr_un*>(&ss)->sun_path) + ":0";
  } else if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
    port = ntohs(a->sin6_port);
  }
  // As Redis's anetFormatAddr: an IPv6 address in brackets ("[::1]:6379").
  if (ss.ss_family == AF_INET6) return "[" + std::string(ip) + "]:" + std::to_string(port);
  return std::string(ip) + ":" + std::to_string(port);
}

Connection::Connection(IoThread* owner, int fd, uint64_t id, std::unique_ptr<Transport> transport,
                       bool unix_socket)
    : owner_(owner), fd_(fd), transport_(std::move(transport)), rb_(&wbuf_) {
  state_.id = id;
  state_.fd = fd;
  state_.unix_socket = unix_socket;
  state_.laddr = SockAddr(fd, false);
  state_.addr = unix_socket ? state_.laddr : SockAddr(fd, true);
  // As Redis's islocalClient: the Unix socket and exactly the loopback addresses, not all of
  // 127/8.
  state_.local =
      unix_socket || state_.addr.rfind("127.0.0.1:", 0) == 0 || state_.addr.rfind("[::1]:", 0) == 0;
  state_.created_ms = NowMs();
  state_.last_interaction_ms = state_.created_ms;
  owner->server().acl().InitClient(state_);  // the default user
  rb_.set_error_sink(&owner->server().error_stats());
  int one = 1;
  if (!unix_socket) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  // No buffer yet: reads go to the thread's shared chunk (see connection.h).
  UpdateMemory();
}

Connection::~Connection() {
  if (!closed_) Close();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  // Leaves every channel; messages in flight to this client find it detached.
  PubSubLeaveAll(owner_->server(), state_);
  owner_->server().tracking().Disable(state_);
  if (state_.monitor.load(std::memory_order_relaxed)) owner_->server().monitors().Remove(state_.id);
  if (state_.push_handle) state_.push_handle->endpoint = nullptr;  // invalidations in flight
  if (state_.blocked != nullptr) {
    // Leaves nothing behind: the waiter leaves every key's queue (or, if a push is serving it
    // right now, its reply goes nowhere).
    owner_->server().blocking().Cancel(state_.blocked, /*disconnect=*/true);
    owner_->Unblocked(this);
    state_.blocked.reset();
    state_.is_blocked.store(false, std::memory_order_relaxed);
  }
  EndPostponed();
  // The buffers go now, not when the object is freed after the batch: a client closed for
  // its memory gives it back at once.
  rbuf_.Release();
  large_.reset();
  large_args_.clear();
  std::string().swap(wbuf_);
  wpos_ = 0;
  owner_->server().client_memory.fetch_sub(static_cast<int64_t>(mem_), std::memory_order_relaxed);
  mem_ = 0;
  state_.tot_mem.store(0, std::memory_order_relaxed);
  owner_->Closed(this);
  // The socket last: once the peer sees it closed, CLIENT LIST no longer lists this client and
  // its memory is given back.
  owner_->loop().Remove(fd_);
  if (socket_handed_over_) return;
  transport_->Shutdown();
  close(fd_);
}

void Connection::HandOverToReplication() {
  state_.psync_requested = false;
  ReplicaHello hello;
  hello.ip = state_.repl_ip;
  if (hello.ip.empty()) {
    hello.ip = state_.addr.substr(0, state_.addr.rfind(':'));
    if (hello.ip.size() > 2 && hello.ip.front() == '[')
      hello.ip = hello.ip.substr(1, hello.ip.size() - 2);
  }
  hello.listening_port = state_.repl_listening_port;
  hello.capa_fdb = state_.repl_capa_fdb;
  hello.psync = !state_.psync_replid.empty() || state_.psync_offset >= 0;
  hello.replid = state_.psync_replid;
  hello.offset = state_.psync_offset;
  // The replies before PSYNC that are still unsent go first; the socket and its transport (a
  // TLS session goes on, mid-stream) are the replication sender's from now on: Close leaves
  // them alone.
  std::string unsent = wbuf_.substr(wpos_);
  std::unique_ptr<Transport> transport = std::move(transport_);
  transport_ = NewPlainTransport(fd_);
  socket_handed_over_ = true;
  Close();
  owner_->server().replication().AttachReplica(fd_, std::move(transport), hello, std::move(unsent));
}

void Connection::SendAndClose(std::string_view bytes) {
  ssize_t r = transport_->Write(bytes.data(), bytes.size());
  (void)r;
  Close();
}

template <class Fn>
void Connection::Guarded(Fn&& fn) {
  try {
    fn();
    if (!closed_) UpdateMemory();
  } catch (const std::bad_alloc&) {
    OnAllocationFailure();
  } catch (const std::length_error&) {  // a size past max_size(): the same failure
    OnAllocationFailure();
  }
}

void Connection::OnAllocationFailure() {
  FDB_LOG_WARNING("closing client %s: out of memory while serving its request",
                  state_.addr.c_str());
  // Free this client's memory first: the rest of the clean-up may need a little.
  parser_.Reset();
  rbuf_.Release();
  large_.reset();
  large_args_.clear();
  state_.arg_blocks.clear();
  std::string().swap(wbuf_);
  wpos_ = 0;
  try {
    // Whatever ran unwound: the shard locks it held are released by their guards, and the
    // dispatcher committed the effects of what the command had changed before it rethrew
    // (Dispatcher::ExecuteCommand). What lives across commands is ended here: the
    // dispatcher's kept shard lock.
    owner_->dispatcher().ReleaseLocks();
    if (closed_) return;
    // Tell the client why it is closed (Redis has no such reply: it aborts the whole server
    // on an allocation failure).
    SendAndClose("-ERR out of memory while serving this request, closing the connection\r\n");
  } catch (const std::exception&) {
    // Still no memory: close without the reply. Close itself only posts a small task.
    if (!closed_) Close();
  }
}

void Connection::OnEvent(uint32_t events) {
  if (closed_) return;
  Guarded([&] {
    // A TLS read may wait for the socket to be writable (a handshake step) and a TLS write for
    // it to be readable: each runs again on the event it waits for.
    const bool in = events & (EPOLLIN | EPOLLHUP | EPOLLERR);
    const bool out = events & EPOLLOUT;
    const bool retry_write = in && transport_->WriteWantsRead();
    // EPOLLIN asked for only by a waiting write does not read while flow control holds input.
    if ((in && (reading_ || !retry_write)) || (out && transport_->ReadWantsWrite())) OnReadable();
    if (closed_) return;
    if (out || retry_write) Flush();
    if (!closed_) CheckPending();
  });
}

void Connection::CheckPending() {
  if (reading_ && transport_->HasPending()) owner_->QueuePendingRead(this);
}

void Connection::ReadPending() {
  if (closed_ || !reading_ || !transport_->HasPending()) return;
  OnEvent(EPOLLIN);
}

void Connection::ReserveForRead() {
  size_t have = rbuf_.size();
  size_t want = limits::kReadChunk;
  size_t expected = parser_.expected_bytes();
  if (expected > have) {
    // A big argument: room for what is still missing, but per step no more than has arrived
    // so far (the buffer at most doubles), at least kReadGrowthStepMin and at most
    // kReadGrowthStepMax. A client must send the bytes it declared before the server holds
    // memory for them. Never room past the request's end: the buffer ends the same size
    // however its bytes were split into reads (as Redis's, sized to a big argument exactly),
    // so clients that sent the same request hold the same memory (CLIENT LIST tot-mem, and
    // which client maxmemory-clients picks).
    size_t step = std::clamp(have, limits::kReadGrowthStepMin, limits::kReadGrowthStepMax);
    want = std::min(expected - have, step);
  }
  if (!rbuf_.Reserve(want)) throw std::bad_alloc();
}

void Connection::OnReadable() {
  if (large_) {  // a large argument goes to its own block, not to the read buffer
    if (ReadLargeArg()) {
      ProcessInput();
      if (!closed_) Flush();
    }
    return;
  }
  // Between requests the read goes to the thread's shared chunk: only an unfinished request
  // costs this connection memory.
  const bool shared = rbuf_.empty() && !owner_->polling_while_blocked();
  char* dst;
  size_t room;
  if (shared) {
    dst = owner_->read_chunk();
    room = limits::kReadChunk;
  } else {
    ReserveForRead();
    dst = rbuf_.write_ptr();
    room = rbuf_.writable();
  }
  ssize_t n = transport_->Read(dst, room);
  if (n == 0) {
    Close();
    return;
  }
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) {
      UpdateInterest();  // a TLS handshake step may wait for the socket to be writable
      return;
    }
    Close();
    return;
  }
  ThreadStats& st = owner_->stats();
  st.net_input_bytes.store(st.net_input_bytes.load(std::memory_order_relaxed) + n,
                           std::memory_order_relaxed);
  state_.last_interaction_ms.store(NowMs(), std::memory_order_relaxed);

  if (shared) {
    size_t used = ProcessRequests(dst, static_cast<size_t>(n));
    if (closed_) return;
    // The rest (an unfinished request, or requests held back) moves to the connection; the
    // body of a large argument goes to a block of its own instead.
    size_t keep = StartLargeArg(dst + used, n - used);
    if (keep > 0 && !rbuf_.Append(dst + used, keep)) throw std::bad_alloc();
    state_.qbuf.store(QueryBufferBytes(), std::memory_order_relaxed);
  } else {
    rbuf_.Commit(static_cast<size_t>(n));
  }
  if (static_cast<int64_t>(rbuf_.size()) > owner_->server().config().query_buffer_limit()) {
    // As Redis: a client past client-query-buffer-limit is closed without a reply.
    FDB_LOG_WARNING("closing client %s that reached max query buffer length", state_.addr.c_str());
    Close();
    return;
  }
  if (!shared) ProcessInput();
  if (closed_) return;
  Flush();
}

void Connection::ProcessInput() {
  size_t used = ProcessRequests(rbuf_.data(), rbuf_.size());
  if (closed_) return;
  rbuf_.Consume(used);
  rbuf_.Truncate(StartLargeArg(rbuf_.data(), rbuf_.size()));
  // Memory back after a big request, or all of it between requests; not while a big argument
  // is still arriving into the buffer (it grows toward it). A large one arrives elsewhere.
  if (large_ || parser_.expected_bytes() <= rbuf_.size()) rbuf_.Shrink();
  state_.qbuf.store(QueryBufferBytes(), std::memory_order_relaxed);
}

size_t Connection::ProcessRequests(const char* data, size_t len) {
  ServerContext& server = owner_->server();
  StorageEngine* storage = server.storage();
  const size_t batch_start = wbuf_.size();
  uint64_t batch_seq = 0;  // the highest log sequence a reply of this batch waits for
  size_t pos = 0;
  const Config::OutputLimit out_limit = server.config().output_limit(OutputClass());
  // The reply may take the buffer to the hard limit past what is pending now, and no further.
  rb_.set_limit(out_limit.hard > 0 ? wpos_ + static_cast<size_t>(out_limit.hard) : SIZE_MAX);
  // While a large argument is being read, the request is incomplete: nothing to parse (Flush
  // re-enters here through ProcessInput, and must not start the argument a second time).
  while (pos < len && !large_ && !close_when_flushed_ && state_.blocked == nullptr && !postponed_) {
    if (OutputPaused()) break;  // resume after the client reads
    ParserLimits lim{server.config().proto_max_bulk_len(),
                     state_.authenticated.load(std::memory_order_relaxed)};
    const char* buf = data + pos;
    RespParser::Result r = parser_.Parse(buf, len - pos, lim);
    if (r == RespParser::Result::kNeedMore) break;
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
      state_.arg_blocks.swap(large_args_);  // the large arguments go with the command
      // CLIENT LIST / INFO's qbuf while the command runs: the input not yet consumed, this
      // request included (as Redis's query buffer).
      state_.qbuf.store(len - pos, std::memory_order_relaxed);
      batch_seq = std::max(batch_seq, RunCommand(args_));
      if (state_.postponed) {
        // CLIENT PAUSE held it: keep a copy (its bytes are in the read chunk or a large
        // argument's block, both reused) and read nothing more from this client until it ran.
        Postpone(std::vector<std::string>(args_.begin(), args_.end()));
      }
      state_.arg_blocks.clear();  // what the command kept, it shares
      if (state_.psync_requested) {
        parser_.Reset();
        HandOverToReplication();
        owner_->dispatcher().ReleaseLocks();
        return len;
      }
    }
    parser_.Reset();
    if (args_.capacity() > RespParser::kKeptArgs) std::vector<std::string_view>().swap(args_);
    pos += consumed;
    if (rb_.overflowed()) CloseForOutputLimit("hard");
    if (closed_) {
      owner_->dispatcher().ReleaseLocks();
      return pos;
    }
  }
  // The batch is over: the shard lock kept for pipelined commands goes before anything waits.
  owner_->dispatcher().ReleaseLocks();
  // Commands that changed data appended records: their replies leave only once those are
  // written (or fsynced, under fsync always). The wait happens once per event batch for all
  // connections of this thread (group commit), in IoThread::AfterBatch.
  if (storage != nullptr) {
    if (batch_seq > 0 || hold_seq_ != 0) {
      HoldReply(batch_start, batch_seq);
    } else {
      held_.clear();  // nothing waits: the batch's marks are not needed
    }
  }
  return pos;
}

uint64_t Connection::RunCommand(CmdArgs args) {
  rb_.set_resp3(state_.resp3.load(std::memory_order_relaxed));
  executing_ = true;
  const size_t reply_start = wbuf_.size();
  ExecResult done = owner_->dispatcher().Execute(args, state_, rb_);
  executing_ = false;
  if (state_.postponed) return 0;  // not run: nothing was written
  if (state_.reply_mode != ClientState::ReplyMode::kOn) ApplyReplyMode(reply_start);
  if (!own_pushes_.empty()) {  // messages this command published to this client itself
    wbuf_ += own_pushes_;
    std::string().swap(own_pushes_);
  }
  state_.commands.fetch_add(1, std::memory_order_relaxed);
  if (state_.blocked != nullptr) {
    // Blocked: no reply yet, and no further request until Unblock (as Redis).
    owner_->Blocked(this);
  } else if (owner_->server().storage() != nullptr) {
    // Where this reply ends and the record it depends on (see ResolveHeld).
    held_.push_back({wbuf_.size(), done.sequence});
  }
  if (state_.close_after_reply) close_when_flushed_ = true;
  return done.sequence;
}

void Connection::Postpone(std::vector<std::string> args) {
  state_.postponed = false;
  postponed_args_ = std::move(args);
  if (!postponed_) {
    postponed_ = true;
    owner_->server().client_pause().postponed_clients.fetch_add(1, std::memory_order_relaxed);
    owner_->Postponed(this);
  }
}

void Connection::EndPostponed() {
  if (!postponed_) return;
  postponed_ = false;
  postponed_args_.clear();
  owner_->server().client_pause().postponed_clients.fetch_sub(1, std::memory_order_relaxed);
  owner_->Unpostponed(this);
}

void Connection::ResumePostponed() {
  if (closed_ || !postponed_) return;
  Guarded([&] {
    std::vector<std::string> saved = std::move(postponed_args_);
    std::vector<std::string_view> argv(saved.begin(), saved.end());
    const size_t start = wbuf_.size();
    const uint64_t seq = RunCommand(argv);
    owner_->dispatcher().ReleaseLocks();
    if (state_.postponed) {  // still held
      state_.postponed = false;
      postponed_args_ = std::move(saved);
      return;
    }
    EndPostponed();
    if (owner_->server().storage() != nullptr) {
      if (seq > 0 || hold_seq_ != 0) {
        HoldReply(start, seq);
      } else {
        held_.clear();
      }
    }
    if (closed_) return;
    ProcessInput();
    if (!closed_) Flush();
  });
}

void Connection::ApplyReplyMode(size_t reply_start) {
  using Mode = ClientState::ReplyMode;
  // The reply this command wrote is dropped (CLIENT REPLY OFF / SKIP). Only its own bytes:
  // wbuf_ ends with them, since messages to this client that arrive while a command runs wait
  // in own_pushes_. The subscription commands' replies are pushes, and sent (as Redis 7).
  static constexpr std::string_view kPushReplies[] = {
      "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe"};
  const std::string_view cmd = state_.last_cmd.load(std::memory_order_relaxed);
  bool push = false;
  for (std::string_view p : kPushReplies) push |= cmd == p;
  if (!push && state_.blocked == nullptr && wbuf_.size() > reply_start) wbuf_.resize(reply_start);
  if (state_.reply_mode == Mode::kSkip) state_.reply_mode = Mode::kOn;
  if (state_.reply_mode == Mode::kSkipNext) state_.reply_mode = Mode::kSkip;
}

void Connection::CloseForOutputLimit(const char* which) {
  // Redis logs "Client ... scheduled to be closed ASAP for overcoming of output buffer
  // limits." and drops the pending output; so does FDB.
  FDB_LOG_WARNING(
      "closing client %s that reached max output buffer (client-output-buffer-limit "
      "%s, %s limit)",
      state_.addr.c_str(), OutputClass() == Config::kPubsub ? "pubsub" : "normal", which);
  owner_->server().output_limit_disconnections.fetch_add(1, std::memory_order_relaxed);
  Close();
}

bool Connection::CheckOutputLimits() {
  const Config::OutputLimit lim = owner_->server().config().output_limit(OutputClass());
  const size_t pending = wbuf_.size() - wpos_;
  if (lim.hard > 0 && pending > static_cast<size_t>(lim.hard)) {
    CloseForOutputLimit("hard");
    return false;
  }
  if (lim.soft > 0 && pending > static_cast<size_t>(lim.soft)) {
    // As Redis: over the soft limit for more than soft-seconds without a break closes.
    int64_t now = NowMs();
    if (soft_limit_since_ms_ == 0) {
      soft_limit_since_ms_ = now;
    } else if (now - soft_limit_since_ms_ > lim.soft_seconds * 1000) {
      CloseForOutputLimit("soft");
      return false;
    }
  } else {
    soft_limit_since_ms_ = 0;
  }
  return true;
}

size_t Connection::QueryBufferBytes() const {
  // As Redis, which drops a request's header from its query buffer once a big argument's body
  // begins (its qbuf is then the body so far): the body alone while one of 32 KB or more arrives.
  if (large_) return large_->size();
  const size_t body = parser_.pending_bulk_offset();
  if (parser_.pending_bulk_len() >= kBigArg && body <= rbuf_.size()) return rbuf_.size() - body;
  return rbuf_.size();
}

void Connection::UpdateMemory() {
  size_t mem = limits::kConnectionOverhead + rbuf_.capacity() + wbuf_.capacity();
  // A big argument counts at its announced length from its `$N` line on (CLIENT LIST tot-mem,
  // maxmemory-clients), as Redis's, which reserves its query buffer for it there: a client
  // that announces more than maxmemory-clients allows is evicted before its bytes arrive, and
  // clients that sent the same request weigh the same however much of it has been read. The
  // memory itself is still allocated only as the bytes arrive (ReserveForRead, ReadLargeArg).
  if (large_) {
    mem += std::max(large_->capacity(), large_want_);
  } else if (const int64_t bulk = parser_.pending_bulk_len(); bulk >= kBigArg) {
    const size_t end = parser_.pending_bulk_offset() + static_cast<size_t>(bulk) + 2;
    if (end > rbuf_.capacity()) mem += end - rbuf_.capacity();
  }
  for (const BlockRef& b : large_args_) mem += b->capacity();
  // A MULTI's queued commands and the WATCHed keys are the client's memory too, as Redis's.
  if (state_.queued.empty()) state_.queued_bytes.store(0, std::memory_order_relaxed);
  if (state_.watched.empty()) state_.watched_bytes.store(0, std::memory_order_relaxed);
  mem += state_.queued_bytes.load(std::memory_order_relaxed) +
         state_.watched_bytes.load(std::memory_order_relaxed);
  // Subscriptions and tracking prefixes, as Redis's getClientMemoryUsage.
  mem += state_.pubsub_bytes + state_.tracking.prefixes_bytes;
  if (mem == mem_) return;
  ServerContext& server = owner_->server();
  int64_t total =
      server.client_memory.fetch_add(static_cast<int64_t>(mem) - static_cast<int64_t>(mem_),
                                     std::memory_order_relaxed) +
      static_cast<int64_t>(mem) - static_cast<int64_t>(mem_);
  const size_t mem_before = mem_;
  mem_ = mem;
  state_.tot_mem.store(mem, std::memory_order_relaxed);
  if (mem > mem_before) {
    int64_t limit = server.config().maxmemory_clients_bytes();
    if (limit > 0 && total > limit) EvictClients(server, limit);
  }
}

size_t Connection::StartLargeArg(const char* req, size_t len) {
  if (large_ || closed_ || close_when_flushed_) return len;
  const int64_t bulk = parser_.pending_bulk_len();
  if (bulk < static_cast<int64_t>(limits::kLargeValueMin)) return len;
  const size_t want = static_cast<size_t>(bulk) + 2;
  const size_t body = parser_.pending_bulk_offset();  // in req
  // The parser waits for the body, so every byte after its start belongs to it (checked, not
  // assumed: the block is sized from it).
  if (body > len || len - body >= want) return len;
  const size_t have = len - body;
  SharedBlock* b = SharedBlock::New(std::min(want, std::max(limits::kLargeValueFirstBlock, have)));
  if (b == nullptr) throw std::bad_alloc();  // Guarded closes this client
  if (have > 0) memcpy(b->mutable_data(), req + body, have);
  b->set_size(have);
  large_ = BlockRef::Adopt(b);
  large_want_ = want;
  return body;  // the request's bytes end where the body began (AdoptPendingBulk)
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
      throw std::bad_alloc();  // Guarded closes this client
    }
    ssize_t n = transport_->Read(b->mutable_data() + b->size(), b->capacity() - b->size());
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
  state_.qbuf.store(QueryBufferBytes(), std::memory_order_relaxed);
  // The argument counts against maxmemory-clients while it arrives, not only once its
  // command has run (when it is gone again): a client whose argument takes it past the limit
  // is evicted before the command runs, as Redis's.
  UpdateMemory();
  if (!closed_ && state_.kill_requested.load(std::memory_order_relaxed)) Close();  // evicted
  if (closed_) return false;
  if (static_cast<int64_t>(rbuf_.size() + b->size()) >
      owner_->server().config().query_buffer_limit()) {
    // As Redis: a client past client-query-buffer-limit is closed without a reply.
    FDB_LOG_WARNING("closing client %s that reached max query buffer length", state_.addr.c_str());
    Close();
    return false;
  }
  if (b->size() < large_want_) return false;
  b->set_size(large_want_ - 2);  // as Redis, the two bytes after a bulk are skipped unchecked
  parser_.AdoptPendingBulk(b->view());
  large_args_.push_back(std::move(large_));
  return true;
}

void Connection::ReleaseIdleMemory(int64_t now_ms) {
  if (closed_ || hold_seq_ != 0 || wpos_ < wbuf_.size()) return;
  if (!owner_->server().reply_buffer_resizing.load(std::memory_order_relaxed)) return;
  if (now_ms - state_.last_interaction_ms.load(std::memory_order_relaxed) <
      limits::kIdleReleaseMs) {
    return;
  }
  if (wbuf_.capacity() > std::string().capacity()) std::string().swap(wbuf_);
  rbuf_.Shrink();
  UpdateMemory();
}

void Connection::PushMessage(const std::string& msg) {
  if (closed_ || push_overflow_) return;
  const int64_t hard = owner_->server().config().output_limit(OutputClass()).hard;
  if (hard > 0 &&
      wbuf_.size() - wpos_ + own_pushes_.size() + msg.size() > static_cast<size_t>(hard)) {
    // As Redis: over the hard limit the client is closed; until then nothing more is queued,
    // so a subscriber that stops reading costs at most the limit.
    push_overflow_ = true;
  } else {
    // A message this client publishes to itself goes after the reply of the command that
    // published it (as Redis 7.2): inside EXEC it would otherwise land in the middle of EXEC's
    // array (Redis 7.0's broken protocol, fixed in 7.2).
    // Pushes made while the dispatcher evicts before the command (pushes_before_reply) are no
    // command's own: they go first, as in Redis.
    std::string& out = executing_ && !state_.pushes_before_reply ? own_pushes_ : wbuf_;
    try {
      if (msg[0] == '+') {  // a MONITOR line: a status reply in either protocol
        out.append(msg);
      } else {
        out.push_back(state_.resp3.load(std::memory_order_relaxed) ? '>' : '*');
        out.append(msg, 1, std::string::npos);
      }
    } catch (const std::bad_alloc&) {
      push_overflow_ = true;  // no memory for this client's messages: closed as over its limit
    }
  }
  if (!push_pending_) {
    push_pending_ = true;
    owner_->Pushed(this);
  }
}

void Connection::ShardChannelLost(const std::string& channel) {
  if (closed_) return;
  const std::string push = PubSubShardChannelLost(owner_->server(), state_, channel);
  if (!push.empty()) PushMessage(push);
}

void Connection::CloseForPubSubLimit() {
  if (closed_) return;
  push_overflow_ = true;
  if (!push_pending_) {
    push_pending_ = true;
    owner_->Pushed(this);
  }
}

void Connection::AfterPush() {
  push_pending_ = false;
  if (closed_) return;
  if (push_overflow_) {
    CloseForOutputLimit("hard");
    return;
  }
  Guarded([&] { Flush(); });
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
  Guarded([&] {
    state_.blocked.reset();
    state_.is_blocked.store(false, std::memory_order_relaxed);
    owner_->Unblocked(this);
    owner_->dispatcher().RecordUnblocked(state_);
    size_t start = wbuf_.size();
    wbuf_.append(reply);
    if (owner_->server().storage() != nullptr && (log_seq > 0 || hold_seq_ != 0)) {
      held_.push_back({wbuf_.size(), log_seq});
      HoldReply(start, log_seq);
    }
    ProcessInput();
    if (!closed_) Flush();
  });
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
  if (!closed_) Guarded([&] { Flush(); });
}

void Connection::Flush() {
  // What this connection's commands published for other threads goes to their inboxes before
  // the replies leave (IoThread::Send).
  owner_->FlushOutbox();
  if (hold_seq_ != 0) return;  // released by IoThread::AfterBatch
  while (wpos_ < wbuf_.size()) {
    ssize_t n = transport_->Write(wbuf_.data() + wpos_, wbuf_.size() - wpos_);
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
    soft_limit_since_ms_ = 0;
    if (wbuf_.capacity() > limits::kOutputBufferKeep) std::string().swap(wbuf_);
    if (close_when_flushed_) {
      Close();
      return;
    }
  } else if (!CheckOutputLimits()) {
    return;
  }
  state_.obuf.store(wbuf_.size() - wpos_, std::memory_order_relaxed);
  // Requests held back by flow control are processed once the output has drained.
  bool had_pending_input = !rbuf_.empty() && !OutputPaused();
  UpdateInterest();
  if (had_pending_input && !close_when_flushed_ && wpos_ == 0 && wbuf_.empty()) {
    size_t before = rbuf_.size();
    ProcessInput();
    if (!closed_ && rbuf_.size() != before) Flush();
  }
}

bool Connection::OutputUnbounded() const {
  const Config& config = owner_->server().config();
  if (config.output_limit(OutputClass()).hard > 0) return false;
  return config.maxmemory_clients_bytes() <= 0 || state_.no_evict.load(std::memory_order_relaxed);
}

bool Connection::OutputPaused() const {
  return wbuf_.size() - wpos_ > kOutputPauseBytes && OutputUnbounded();
}

void Connection::UpdateInterest() {
  bool want_write = wpos_ < wbuf_.size() || transport_->ReadWantsWrite();
  bool reading = !close_when_flushed_ && !OutputPaused();
  const bool want_read = reading || (want_write && transport_->WriteWantsRead());
  if (want_write == want_write_ && reading == reading_ && want_read == want_read_) return;
  const bool resumed = reading && !reading_;
  want_write_ = want_write;
  reading_ = reading;
  want_read_ = want_read;
  uint32_t ev = (want_read ? static_cast<uint32_t>(EPOLLIN) : 0u) |
                (want_write ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  owner_->loop().Modify(fd_, ev, this);
  // Bytes TLS decrypted before reading paused raise no event when it resumes.
  if (resumed) CheckPending();
}

}  // namespace fdb
