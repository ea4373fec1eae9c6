#include "net/io_thread.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/clock.h"
#include "base/limits.h"
#include "base/logging.h"
#include "commands/collection_util.h"
#include "commands/context.h"
#include "commands/errors.h"

namespace fdb {

namespace {
constexpr int kBlockTimeoutTickMs = 10;
}  // namespace

IoThread::IoThread(ServerContext& server, int index, TlsContext* tls)
    : server_(server),
      index_(index),
      tls_(tls),
      stats_(server.NewThreadStats()),
      dispatcher_(server, stats_),
      read_chunk_(new char[limits::kReadChunk]) {
  dispatcher_.set_keep_locks(true);
  loop_.AddTimer(1000, [this] { CheckIdle(); });
  // Blocked clients time out with a resolution of 10 ms (Redis's is its event loop's, ~ms).
  block_timer_ = loop_.AddTimer(kBlockTimeoutTickMs, [this] { CheckBlockedTimeouts(); });
  loop_.SetTimerEnabled(block_timer_, false);
  loop_.SetAfterBatch([this] { AfterBatch(); });
  loop_.SetBeforeSleep([this] { server_.replication().FlushWakes(); });
  if (StorageEngine* storage = server_.storage()) {
    storage->AddProgressListener([this] {
      if (waiting_.load() && !wake_posted_.exchange(true)) {
        loop_.Post([this] {
          wake_posted_.store(false);
          CheckCommitted();
        });
      }
    });
  }
}

IoThread::~IoThread() { Stop(); }

void IoThread::AddListener(int fd, ListenerKind kind) {
  auto a = std::make_unique<Acceptor>();
  a->thread = this;
  a->fd = fd;
  a->kind = kind;
  // EPOLLEXCLUSIVE: one listening socket shared by every loop; the kernel wakes one of them
  // per incoming connection, so connections spread across threads without a hand-off.
  loop_.Add(fd, EPOLLIN | EPOLLEXCLUSIVE, a.get());
  acceptors_.push_back(std::move(a));
}

void IoThread::Start() {
  thread_ = std::thread([this] {
    Replication::DeferWakesOnThisThread();
    loop_.Run();
  });
}

void IoThread::Stop() {
  if (!thread_.joinable()) return;
  loop_.Stop();
  thread_.join();
  for (auto& [id, c] : conns_) {
    if (!c->closed()) c->Close();
  }
  loop_.Post([] {});  // nothing: the loop is stopped; connections are freed below
  conns_.clear();
}

void IoThread::SwitchListeners(ListenerKind kind, std::vector<int> fds, std::shared_ptr<void> old) {
  loop_.Post([this, kind, fds = std::move(fds), old = std::move(old)]() mutable {
    // Tasks run amid a batch of events, and a later event of this batch may still name a
    // removed acceptor: it is freed by a task of its own (a later batch), and accepts nothing
    // meanwhile (fd -1), since its socket may be closed and the number reused by then.
    auto retired = std::make_shared<std::vector<std::unique_ptr<Acceptor>>>();
    std::erase_if(acceptors_, [&](std::unique_ptr<Acceptor>& a) {
      if (a->kind != kind) return false;
      loop_.Remove(a->fd);
      a->fd = -1;
      retired->push_back(std::move(a));
      return true;
    });
    if (!retired->empty()) loop_.Post([retired] {});
    for (int fd : fds) AddListener(fd, kind);
    old.reset();  // the last thread to switch closes the old sockets
  });
}

IoThread* IoThread::TakeLeastLoaded() {
  IoThread* best = this;
  int least = nconns_.load(std::memory_order_relaxed);
  const int64_t now = MonoUs();
  for (IoThread* p : peers_) {
    // A peer that has been running one batch for a while (DEBUG SLEEP, a long KEYS) would
    // leave the new client unanswered until it is done: it gets none now.
    const int64_t busy = p->loop_.busy_since_us();
    if (p != this && busy != 0 && now - busy > kStuckBatchUs) continue;
    int n = p->nconns_.load(std::memory_order_relaxed);
    if (n < least) {
      best = p;
      least = n;
    }
  }
  best->nconns_.fetch_add(1, std::memory_order_relaxed);
  return best;
}

void IoThread::Accept(const Acceptor& a) {
  // The kernel wakes one loop per readable event of the shared socket, and that loop accepts
  // the whole burst: 50 clients connecting at once all landed on the first thread. Each
  // accepted socket goes to the thread serving the fewest connections instead.
  for (int i = 0; i < 64; i++) {
    int fd = accept4(a.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: another loop took it, or none left
    server_.total_connections.fetch_add(1, std::memory_order_relaxed);
    IoThread* target = TakeLeastLoaded();
    const ListenerKind kind = a.kind;
    if (target == this) {
      AddConnection(fd, kind);
    } else {
      target->loop().Post([target, fd, kind] { target->AddConnection(fd, kind); });
    }
  }
}

void IoThread::AddConnection(int fd, ListenerKind kind) {
  std::unique_ptr<Transport> transport;
  if (kind == ListenerKind::kTls) {
    transport = tls_ != nullptr ? tls_->NewTransport(fd) : nullptr;
    if (transport == nullptr) {  // no context (TLS was turned off meanwhile), or no memory
      nconns_.fetch_sub(1, std::memory_order_relaxed);
      close(fd);
      return;
    }
  } else {
    transport = NewPlainTransport(fd);
  }
  uint64_t id = server_.NextClientId();
  auto conn = std::make_unique<Connection>(this, fd, id, std::move(transport),
                                           /*unix_socket=*/kind == ListenerKind::kUnix);
  Connection* c = conn.get();
  if (static_cast<int>(server_.clients().size()) >= server_.config().maxclients()) {
    server_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
    std::string msg = std::string("-") + errors::kMaxClients + "\r\n";
    conns_[id] = std::move(conn);
    c->SendAndClose(msg);
    return;
  }
  // Protected mode, as Redis 7.0: while the default user has no password, only clients on the
  // loopback addresses 127.0.0.1 and ::1 or the Unix socket (ClientState::local) are served;
  // the others get Redis's explanation and are closed.
  if (!c->state().local && server_.acl().DefaultNoPass() && server_.config().protected_mode()) {
    server_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
    FDB_LOG_NOTICE("protected mode: refused client %s (no password for the default user)",
                   c->state().addr.c_str());
    conns_[id] = std::move(conn);
    c->SendAndClose(errors::kProtectedModeDenied);
    return;
  }
  EventLoop* loop = &loop_;
  c->state().request_close = [loop, this, id] { loop->Post([this, id] { Kill(id); }); };
  c->state().unblock = [loop, this, id](std::string reply, uint64_t log_seq) {
    loop->Post([this, id, reply = std::move(reply), log_seq]() mutable {
      DeliverUnblock(id, std::move(reply), log_seq);
    });
  };
  c->state().process_events_while_blocked = [this, c] { ProcessEventsWhileBlocked(c); };
  c->state().io_thread = index_;
  c->state().pubsub_sink = this;
  c->state().pubsub_endpoint = c;
  c->state().push_handle = std::make_shared<Subscriber>(id, this, c);
  conns_[id] = std::move(conn);
  server_.clients().Add(&c->state());
  loop_.Add(fd, EPOLLIN, c);
}

void IoThread::Closed(Connection* c) {
  nconns_.fetch_sub(1, std::memory_order_relaxed);
  if (!c->state().watched.empty()) {
    dispatcher().ReleaseLocks();
    ReleaseWatches(server_.keyspace(), c->state(), /*all_shards_held=*/false);
  }
  server_.clients().Remove(&c->state());
  uint64_t id = c->state().id;
  // Freed after the current batch of events: later events of this batch may still name it.
  loop_.Post([this, id] { conns_.erase(id); });
}

void IoThread::AfterBatch() {
  // Group commit without blocking: the replies of this batch's writes wait in their
  // connections while the flusher writes (and fsyncs, under always) everything pending, back
  // to back; meanwhile this thread goes on serving other connections, whose records join the
  // next commit. The flusher's progress listener wakes this thread to release replies.
  // Releasing replies resumes held-back input, which may hold more connections: go on until
  // nothing new is held, or those would wait for the next event.
  // A held connection that ran more commands since it was held waits for a later sequence than
  // the one asked for then: ask for the highest one every batch while anything is held.
  FlushOutbox();
  TrimOpDeltaBuffer();
  FlushPushed();
  if (!pending_reads_.empty()) ReadPending();
  do {
    CommitHeld();
  } while (!new_held_.empty());
}

void IoThread::ReadPending() {
  std::vector<uint64_t> ids;
  ids.swap(pending_reads_);
  for (uint64_t id : ids) {
    auto it = conns_.find(id);
    if (it != conns_.end()) it->second->ReadPending();
  }
  FlushOutbox();
  FlushPushed();
  // Still more: run again after the next batch, which this wake-up makes come at once.
  if (!pending_reads_.empty()) loop_.Post([] {});
}

void IoThread::Hand(const Delivery& d) {
  d.ForEach([&](Subscriber& s) {
    if (s.endpoint == nullptr) return;
    if (d.shard_channel_lost) {
      s.endpoint->ShardChannelLost(*d.msg);
    } else {
      s.endpoint->PushMessage(*d.msg);
    }
  });
}

void IoThread::Deliver(std::vector<Delivery>& batch, bool local, int64_t hard_limit) {
  if (local) {
    for (const Delivery& d : batch) Hand(d);
    return;
  }
  bool post = false;
  {
    MutexLock l(inbox_mu_);
    for (Delivery& d : batch) {
      const int64_t size = static_cast<int64_t>(d.msg->size());
      // Bounded: a thread that cannot drain its inbox (stopped in DEBUG SLEEP) must not make
      // the publishers grow memory. Dropped past the hard limit, and its receivers are closed
      // when the thread comes back (see "Memory" in commands/pubsub.h).
      if (hard_limit > 0 && inbox_bytes_ + size > hard_limit) {
        if (d.to != nullptr) {
          if (!d.to->overflowed.exchange(true)) inbox_.push_back({d.to, nullptr});
        } else {
          for (const auto& s : *d.group) {
            if (!s->overflowed.exchange(true)) inbox_.push_back({s, nullptr});
          }
        }
        continue;
      }
      inbox_bytes_ += size;
      inbox_.push_back(std::move(d));
    }
    if (!inbox_posted_) inbox_posted_ = post = true;
  }
  if (post) loop_.Post([this] { DrainInbox(); });
}

void IoThread::Send(MessageSink* to, std::vector<Delivery>& batch, int64_t hard_limit) {
  Outgoing* o = nullptr;
  for (Outgoing& e : outbox_) {
    if (e.to == to) {
      o = &e;
      break;
    }
  }
  if (o == nullptr) o = &outbox_.emplace_back(Outgoing{to, {}});
  for (Delivery& d : batch) o->batch.push_back(std::move(d));
  outbox_hard_limit_ = hard_limit;
  outbox_pending_ = true;
  if (o->batch.size() >= kOutboxMax) {
    to->Deliver(o->batch, /*local=*/false, hard_limit);
    o->batch.clear();
  }
}

void IoThread::FlushOutboxSlow() {
  outbox_pending_ = false;
  for (Outgoing& o : outbox_) {
    if (o.batch.empty()) continue;
    o.to->Deliver(o.batch, /*local=*/false, outbox_hard_limit_);
    o.batch.clear();
  }
}

void IoThread::DrainInbox() {
  std::vector<Delivery>& batch = draining_;
  {
    MutexLock l(inbox_mu_);
    batch.swap(inbox_);  // inbox_ takes the capacity of the last drained batch
    inbox_bytes_ = 0;
    inbox_posted_ = false;
  }
  for (const Delivery& d : batch) {
    if (d.msg == nullptr) {  // the overflow mark (see Deliver)
      if (d.to->endpoint != nullptr) d.to->endpoint->CloseForPubSubLimit();
      continue;
    }
    Hand(d);
  }
  batch.clear();
  // Written by AfterBatch, which runs after this task's batch (FlushPushed).
}

void IoThread::FlushPushed() {
  if (pushed_.empty()) return;
  std::vector<uint64_t> ids;
  ids.swap(pushed_);
  for (uint64_t id : ids) {
    auto it = conns_.find(id);
    if (it != conns_.end()) it->second->AfterPush();
  }
}

void IoThread::CommitHeld() {
  StorageEngine* storage = server_.storage();
  uint64_t max_seq = 0;
  for (uint64_t id : new_held_) {
    auto it = conns_.find(id);
    if (it == conns_.end()) continue;
    max_seq = std::max(max_seq, it->second->held_sequence());
    held_.push_back(id);
  }
  new_held_.clear();
  if (held_.empty()) return;
  for (uint64_t id : held_) {
    auto it = conns_.find(id);
    if (it != conns_.end()) max_seq = std::max(max_seq, it->second->held_sequence());
  }
  // Under everysec and no, this thread writes the batch's records itself when no other write is
  // in progress, as Redis writes its AOF before replying: the replies then leave in this same
  // pass instead of after a hand-over to the flusher thread and a wake-up back (two context
  // switches per batch). Under always, or when a write is in progress, the flusher does it.
  // `waiting_` is raised only then: raised before its own write, this thread's progress listener
  // would post it a wake-up for every batch it wrote itself (an eventfd write, an epoll wake and
  // a read, for nothing). A commit that lands before it is raised is seen by CheckCommitted.
  if (storage != nullptr && !storage->TryCommitNow(max_seq)) {
    waiting_.store(true);
    storage->RequestCommit(max_seq);
  }
  CheckCommitted();
}

void IoThread::CheckCommitted() {
  StorageEngine* storage = server_.storage();
  if (held_.empty() || storage == nullptr) {
    waiting_.store(false);
    return;
  }
  // A failed log does not fail the held replies by itself: each waits for its records' fate
  // (committed, or discarded and undone), which the log reports through the same wake-up.
  const uint64_t discarded = storage->LastDiscarded();
  uint64_t committed = storage->CommittedSequence();
  std::vector<uint64_t> still;
  for (uint64_t id : held_) {
    auto it = conns_.find(id);
    if (it == conns_.end() || it->second->closed()) continue;
    Connection* c = it->second.get();
    if (c->held_sequence() == 0) continue;
    if (!c->ResolveHeld(*storage, committed)) still.push_back(id);
  }
  held_.swap(still);
  waiting_.store(!held_.empty());
  // A commit may have completed between reading `committed` and clearing `waiting_`: look again
  // rather than wait for a wake-up that was not posted.
  if (!held_.empty() &&
      (storage->CommittedSequence() > committed || storage->LastDiscarded() > discarded) &&
      !wake_posted_.load()) {
    wake_posted_.store(true);
    loop_.Post([this] {
      wake_posted_.store(false);
      CheckCommitted();
    });
  }
}

void IoThread::Kill(uint64_t id) {
  auto it = conns_.find(id);
  if (it != conns_.end() && !it->second->closed()) it->second->Close();
}

void IoThread::Blocked(Connection* c) {
  blocked_.insert(c->state().id);
  loop_.SetTimerEnabled(block_timer_, true);
}

void IoThread::Unblocked(Connection* c) {
  blocked_.erase(c->state().id);
  UpdateBlockTimer();
}

void IoThread::Postponed(Connection* c) {
  postponed_.push_back(c->state().id);
  loop_.SetTimerEnabled(block_timer_, true);
}

void IoThread::Unpostponed(Connection* c) {
  auto it = std::find(postponed_.begin(), postponed_.end(), c->state().id);
  if (it != postponed_.end()) postponed_.erase(it);
  UpdateBlockTimer();
}

void IoThread::UpdateBlockTimer() {
  if (blocked_.empty() && postponed_.empty()) loop_.SetTimerEnabled(block_timer_, false);
}

void IoThread::ResumePostponed() {
  if (postponed_.empty()) return;
  // Under ALL nothing runs; under WRITE reads held by an earlier ALL do, and writes are held
  // again (a cheap check, once per tick).
  if (server_.client_pause().Current(NowMs()) == ClientPause::kAll) return;
  const std::vector<uint64_t> ids = postponed_;
  for (uint64_t id : ids) {
    auto it = conns_.find(id);
    if (it != conns_.end() && !it->second->closed()) it->second->ResumePostponed();
  }
}

void IoThread::DeliverUnblock(uint64_t id, std::string reply, uint64_t log_seq) {
  auto it = conns_.find(id);
  // A client that disconnected while a push was serving it: the element it took is gone with
  // it, as in Redis when the connection drops after the reply was queued.
  if (it == conns_.end() || it->second->closed()) return;
  it->second->Unblock(reply, log_seq);
}

void IoThread::CheckBlockedTimeouts() {
  ResumePostponed();
  if (blocked_.empty()) {
    AfterBatch();
    return;
  }
  int64_t now = NowMs();
  std::vector<Connection*> expired;
  for (uint64_t id : blocked_) {
    auto it = conns_.find(id);
    if (it == conns_.end() || it->second->closed()) continue;
    const auto& w = it->second->state().blocked;
    if (w != nullptr && w->deadline_ms != 0 && now >= w->deadline_ms) {
      expired.push_back(it->second.get());
    }
  }
  for (Connection* c : expired) {
    std::shared_ptr<Waiter> w = c->state().blocked;
    if (w == nullptr || c->closed()) continue;
    // A push serving it right now wins; its reply is on the way.
    if (!server_.blocking().Cancel(w, /*disconnect=*/false)) continue;
    std::string out;
    ReplyBuilder rb(&out);
    rb.set_resp3(w->client.resp3.load(std::memory_order_relaxed));
    w->on_timeout(rb);
    c->state().blocked_call.reset();  // as Redis 7.0, a call that timed out is not in SLOWLOG
    c->Unblock(out, 0);
  }
  // Requests that ran after the unblocked replies may have held replies: commit them now
  // rather than after the next event.
  AfterBatch();
}

void IoThread::CheckIdle() {
  if (server_.cron_paused.load(std::memory_order_relaxed)) return;  // DEBUG PAUSE-CRON
  int64_t timeout_s = server_.config().timeout_s();
  int64_t now = NowMs();
  std::vector<Connection*> idle;
  for (auto& [id, c] : conns_) {
    c->CheckSoftLimitWithoutTraffic();
    if (c->closed()) continue;
    // A TLS client that does not finish its handshake holds an SSL object and a socket: it gets
    // limits::kTlsHandshakeTimeoutMs (or `timeout`, if shorter) to do so.
    if (c->handshaking()) {
      const int64_t age = now - c->state().created_ms;
      if (age > limits::kTlsHandshakeTimeoutMs || (timeout_s > 0 && age > timeout_s * 1000)) {
        idle.push_back(c.get());
      }
      continue;
    }
    // As Redis, a blocked client is not idle (it waits for its command's timeout).
    if (timeout_s > 0 && c->state().blocked == nullptr && !c->postponed() &&
        !c->state().subscribed() &&
        now - c->state().last_interaction_ms.load() > timeout_s * 1000) {
      idle.push_back(c.get());
    } else {
      c->ReleaseIdleMemory(now);
    }
  }
  for (Connection* c : idle) c->Close();
}

}  // namespace fdb
