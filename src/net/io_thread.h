// IoThread: one event loop, its connections and its dispatcher. A command runs on the thread
// that read it, directly against the keyspace (shard locks give atomicity), so an ordinary
// command never hops between threads.
#pragma once

#include <memory>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "commands/dispatcher.h"
#include "commands/server_context.h"
#include "net/connection.h"
#include "net/event_loop.h"
#include "net/tls.h"

namespace fdb {

// The kinds of listening socket; a connection is served as its listener's kind says.
enum class ListenerKind { kTcp, kTls, kUnix };

class IoThread : public MessageSink {
 public:
  // tls: the server's TLS context (nullptr without TLS), used for the clients of kTls listeners.
  IoThread(ServerContext& server, int index, TlsContext* tls = nullptr);
  ~IoThread() override;

  // Accepts on `fd` too, a listening socket every thread shares (the server owns it).
  // REQUIRES: called before Start.
  void AddListener(int fd, ListenerKind kind);
  void Start();
  void Stop();  // thread-safe; joins
  // Accepts on `fds` from now on instead of the current listeners of `kind` (CONFIG SET port /
  // bind / tls-port); `old` owns the previous sockets, which are closed once every thread has
  // dropped it. Thread-safe.
  void SwitchListeners(ListenerKind kind, std::vector<int> fds, std::shared_ptr<void> old);
  // c's transport holds decrypted bytes no socket event will announce: read them after this
  // batch of events (before the loop waits again).
  void QueuePendingRead(Connection* c) { pending_reads_.push_back(c->state().id); }

  EventLoop& loop() { return loop_; }
  ServerContext& server() { return server_; }
  Dispatcher& dispatcher() { return dispatcher_; }
  ThreadStats& stats() { return *stats_; }
  int index() const { return index_; }
  // The server's I/O threads, this one included, among which accepted connections are spread.
  // REQUIRES: called before Start.
  void SetPeers(std::vector<IoThread*> peers) { peers_ = std::move(peers); }
  // The read chunk shared by this thread's connections (limits::kReadChunk bytes): a request
  // is read and parsed there, so a connection needs a buffer of its own only for the bytes of
  // an unfinished request. REQUIRES: the loop thread.
  char* read_chunk() { return read_chunk_.get(); }
  // While a busy script polls the loop (EventLoop::PollWhileBlocked), the shared chunk still
  // holds the script's own request: connections read into their own buffers then.
  bool polling_while_blocked() const { return polling_while_blocked_; }
  // Serves the other connections' ready events while `running` runs a busy script.
  void ProcessEventsWhileBlocked(Connection* running) {
    if (polling_while_blocked_) return;
    polling_while_blocked_ = true;
    loop_.PollWhileBlocked(running);
    polling_while_blocked_ = false;
  }

  // Called by a connection when it closes; the object is freed after the current batch.
  void Closed(Connection* c);
  // Closes the connection with this id if this thread owns it.
  void Kill(uint64_t id);
  // Blocking commands: c is blocked (its deadline is checked by this thread's timer), or no
  // longer.
  void Blocked(Connection* c);
  void Unblocked(Connection* c);
  // CLIENT PAUSE holds a command of c (commands/client_pause.h), or no longer. This thread's
  // timer runs held commands again, in the order they were held, once the pause may allow.
  void Postponed(Connection* c);
  void Unpostponed(Connection* c);
  // Holds c's replies until the log has committed its commands' records (see AfterBatch).
  void Hold(Connection* c) { new_held_.push_back(c->state().id); }

  // Pub/sub. Deliver takes messages for this thread's subscribers: at once when called on
  // this thread, else through the inbox, drained by one posted task (one wake-up however
  // many messages arrive meanwhile). Pushed notes a connection that got messages; after the
  // batch it is written once (Connection::AfterPush).
  void Deliver(std::vector<Delivery>& batch, bool local, int64_t hard_limit) override;
  // Hands one delivery to its receivers' endpoints (a message, or a lost shard channel).
  void Hand(const Delivery& d);
  void Pushed(Connection* c) { pushed_.push_back(c->state().id); }
  // Pushes this thread's commands make for other threads' connections wait in an outbox, one
  // list per target thread, and go over in one Deliver call each (one inbox hand-over, at most
  // one wake-up) when FlushOutbox runs: before a connection writes its replies
  // (Connection::Flush) and after every batch of events, so a message is in its receiver's
  // inbox before the PUBLISH that made it has replied. A list that reaches kOutboxMax
  // deliveries goes over at once (a script publishing in a loop holds no more than that).
  void Send(MessageSink* to, std::vector<Delivery>& batch, int64_t hard_limit) override;
  void FlushOutbox() {
    if (outbox_pending_) FlushOutboxSlow();
  }

 private:
  // One listening socket's events, accepted by the thread that owns it.
  struct Acceptor : EventHandler {
    IoThread* thread = nullptr;
    int fd = -1;
    ListenerKind kind = ListenerKind::kTcp;
    void OnEvent(uint32_t) override { thread->Accept(*this); }
  };
  void Accept(const Acceptor& a);
  // Serves an accepted socket on this thread, as a client of a `kind` listener (over TLS for
  // kTls). Runs on this thread.
  void AddConnection(int fd, ListenerKind kind);
  // Reads what the connections' transports hold (QueuePendingRead); if more arrives meanwhile,
  // the loop is woken to do it again rather than wait for a socket event.
  void ReadPending();
  // The peer with the fewest connections (this thread on a tie), counted as taking one more.
  IoThread* TakeLeastLoaded();
  void CheckIdle();
  // Replies the timeout reply to blocked clients whose deadline passed.
  void CheckBlockedTimeouts();
  // Runs the commands CLIENT PAUSE held, when the pause in force may allow them.
  void ResumePostponed();
  // The timer of blocked and postponed clients runs while there is either.
  void UpdateBlockTimer();
  // A blocked client's reply, handed over by the thread that served it.
  void DeliverUnblock(uint64_t id, std::string reply, uint64_t log_seq);
  // Waits once for the log to hold the records of every held connection, then releases their
  // replies. After a log failure each reply waits for its record's fate instead: committed
  // (released) or discarded and undone (MISCONF), see Connection::ResolveHeld.
  void AfterBatch();
  // Moves the connections held in this batch to the waiting set and asks the log to commit up
  // to the highest sequence any held connection waits for.
  void CommitHeld();
  // Releases the replies of held connections whose records' fate is known (committed, or
  // discarded: MISCONF).
  void CheckCommitted();
  // Delivers what other threads queued in the inbox.
  void DrainInbox();
  // Writes the connections that got messages in this batch.
  void FlushPushed();
  void FlushOutboxSlow();

  ServerContext& server_;
  int index_;
  TlsContext* tls_;
  // Every listener this thread accepts on (TCP: one per bind address); this thread only.
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::vector<uint64_t> pending_reads_;  // connections whose transport holds bytes
  std::vector<IoThread*> peers_;  // set before Start; empty: this thread serves all it accepts
  // Connections served here, counted when one is handed to this thread (before it runs its
  // AddConnection), so a burst of accepts is spread instead of all going to the first peer.
  std::atomic<int> nconns_{0};
  static constexpr int64_t kStuckBatchUs = 10'000;
  EventLoop loop_;
  ThreadStats* stats_;
  Dispatcher dispatcher_;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns_;
  std::unique_ptr<char[]> read_chunk_;
  bool polling_while_blocked_ = false;
  std::thread thread_;
  std::unordered_set<uint64_t> blocked_;  // ids of blocked connections
  std::vector<uint64_t> postponed_;       // ids of connections CLIENT PAUSE holds, in order
  size_t block_timer_ = 0;                // checks blocked_'s deadlines; on while not empty
  std::vector<uint64_t> new_held_;        // held during the current event batch
  std::vector<uint64_t> held_;            // waiting for the log to commit
  std::atomic<bool> waiting_{false};      // held_ is not empty (read by the log's listener)
  std::atomic<bool> wake_posted_{false};  // a CheckCommitted task is queued
  std::vector<uint64_t> pushed_;          // connections that got messages in this batch
  struct Outgoing {
    MessageSink* to;
    std::vector<Delivery> batch;
  };
  static constexpr size_t kOutboxMax = 4096;
  std::vector<Outgoing> outbox_;  // this thread only; one entry per target, kept with capacity
  bool outbox_pending_ = false;   // some entry holds deliveries
  int64_t outbox_hard_limit_ = 0;
  std::vector<Delivery> draining_;  // DrainInbox's batch, kept with its capacity
  Mutex inbox_mu_;
  std::vector<Delivery> inbox_ ABSL_GUARDED_BY(inbox_mu_);
  int64_t inbox_bytes_ ABSL_GUARDED_BY(inbox_mu_) = 0;    // message bytes queued, once per message
  bool inbox_posted_ ABSL_GUARDED_BY(inbox_mu_) = false;  // a DrainInbox task is queued
};

}  // namespace fdb
