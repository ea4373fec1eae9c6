#include "net/io_thread.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/clock.h"
#include "commands/errors.h"

namespace fdb {

IoThread::IoThread(ServerContext& server, int listen_fd, int index)
    : server_(server),
      listen_fd_(listen_fd),
      index_(index),
      stats_(server.NewThreadStats()),
      dispatcher_(server, stats_) {
  // EPOLLEXCLUSIVE: one listening socket shared by every loop; the kernel wakes one of them
  // per incoming connection, so connections spread across threads without a hand-off.
  loop_.Add(listen_fd_, EPOLLIN | EPOLLEXCLUSIVE, this);
  loop_.AddTimer(1000, [this] { CheckIdle(); });
  loop_.SetAfterBatch([this] { AfterBatch(); });
}

IoThread::~IoThread() { Stop(); }

void IoThread::Start() {
  thread_ = std::thread([this] { loop_.Run(); });
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

void IoThread::OnEvent(uint32_t) { Accept(); }

void IoThread::Accept() {
  for (int i = 0; i < 64; i++) {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: another loop took it, or none left
    server_.total_connections.fetch_add(1, std::memory_order_relaxed);
    uint64_t id = server_.NextClientId();
    auto conn = std::make_unique<Connection>(this, fd, id);
    Connection* c = conn.get();
    if (static_cast<int>(server_.clients().size()) >= server_.config().maxclients()) {
      server_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
      std::string msg = std::string("-") + errors::kMaxClients + "\r\n";
      conns_[id] = std::move(conn);
      c->SendAndClose(msg);
      continue;
    }
    EventLoop* loop = &loop_;
    c->state().request_close = [loop, this, id] { loop->Post([this, id] { Kill(id); }); };
    conns_[id] = std::move(conn);
    server_.clients().Add(&c->state());
    loop_.Add(fd, EPOLLIN, c);
  }
}

void IoThread::Closed(Connection* c) {
  server_.clients().Remove(&c->state());
  uint64_t id = c->state().id;
  // Freed after the current batch of events: later events of this batch may still name it.
  loop_.Post([this, id] { conns_.erase(id); });
}

void IoThread::AfterBatch() {
  if (held_.empty()) return;
  StorageEngine* storage = server_.storage();
  std::vector<uint64_t> held;
  held.swap(held_);
  uint64_t max_seq = 0;
  for (uint64_t id : held) {
    auto it = conns_.find(id);
    if (it != conns_.end()) max_seq = std::max(max_seq, it->second->held_sequence());
  }
  Status s = storage ? storage->WaitForPolicy(max_seq) : Status::OK();
  for (uint64_t id : held) {
    auto it = conns_.find(id);
    if (it == conns_.end() || it->second->closed()) continue;
    if (s.ok()) {
      it->second->ReleaseHeld();
    } else {
      std::string msg = s.message();
      if (msg.rfind("MISCONF", 0) != 0) msg = "MISCONF Errors writing to the log: " + msg;
      it->second->FailHeld(msg);
    }
  }
}

void IoThread::Kill(uint64_t id) {
  auto it = conns_.find(id);
  if (it != conns_.end() && !it->second->closed()) it->second->Close();
}

void IoThread::CheckIdle() {
  int64_t timeout_s = server_.config().timeout_s();
  if (timeout_s <= 0) return;
  int64_t now = NowMs();
  std::vector<Connection*> idle;
  for (auto& [id, c] : conns_) {
    if (!c->closed() && now - c->state().last_interaction_ms.load() > timeout_s * 1000) {
      idle.push_back(c.get());
    }
  }
  for (Connection* c : idle) c->Close();
}

}  // namespace fdb
