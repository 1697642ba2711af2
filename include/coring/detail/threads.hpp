// Layer 2 internals of a multi-thread runtime: one loop per thread, each with its own ring
// (single issuer: no thread ever touches another's ring or task tree), and a per-loop inbox
// through which threads hand each other work.
//
// The inbox is a lock-free multi-producer, single-consumer stack of `remote_item`s. A
// sender pushes with a release; the owning loop takes the whole stack with an acquire at
// the start of each iteration, restores posting order and runs the items on its thread.
// Waking a sleeping owner costs ONE message per batch, never one per item, and no system
// call at all while the owner runs: the owner raises `sleeping` before it waits and looks
// at the stack once more (both sequentially consistent); a sender that pushes and then sees
// `sleeping` clears it, and only the sender that cleared it sends the wake-up: an
// IORING_OP_MSG_RING queued on the SENDER's own ring (submitted with its next enter) or,
// without MSG_RING, an eventfd write. The wake-up carries no data (detail/wake.hpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "coring/detail/request.hpp"
#include "coring/detail/scope.hpp"
#include "coring/detail/wake.hpp"

namespace coring {
struct runtime_options;
}  // namespace coring

namespace coring::detail {

// A message for another loop: `run` is called on the target's thread, once. The item must
// stay alive until then; its owner learns that it ran from what `run` does.
struct remote_item {
  remote_item* next = nullptr;
  void (*run)(remote_item*) noexcept = nullptr;
};

class thread_set;
class bell_sender;

// One loop thread's end of the hand-offs. Everything but the inbox and `sleeping_` is used
// by the owning thread only.
class hub : public remote_hook {
 public:
  hub(thread_set& set, unsigned index);
  ~hub();
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  // On the owning thread, once its loop exists / before it is destroyed.
  void attach(loop& l);
  void detach() noexcept;

  unsigned index() const noexcept { return index_; }
  loop& owner_loop() noexcept { return *lp_; }
  thread_set& set() noexcept { return set_; }
  // The scope of the tasks other threads start here (on_thread children).
  scope_state& root_scope() noexcept { return root_; }

  // Tasks of this thread waiting for another thread (a cross-thread call, a channel):
  // while there are some, an idle loop sleeps instead of reporting a deadlock.
  unsigned remote_waits = 0;
  // Set by the stop message: the worker's loop returns.
  bool stop = false;
  // Wake-ups this loop sent and received (runtime_stats::wakeups_sent / _received).
  std::uint64_t wakeups_sent = 0;
  std::uint64_t wakeups_received = 0;

  // Pushes `m` into this hub's inbox, from any loop thread of the same runtime.
  void post(remote_item& m) noexcept;

 private:
  friend class bell_sender;
  static void drain_fn(remote_hook* h) noexcept;
  static bool prepare_sleep_fn(remote_hook* h) noexcept;
  static void woke_fn(remote_hook* h) noexcept;
  static bool keeps_alive_fn(remote_hook* h) noexcept;
  static void on_bell(completion* c, const io_uring_cqe& cqe) noexcept;
  static void on_efd_read(request* r, const io_uring_cqe& cqe) noexcept;
  static void on_efd_settled(request* r) noexcept;
  void ring_bell(hub& target) noexcept;  // on the sender's thread
  void flush_bells() noexcept;           // eventfd mode: the writes ring_bell deferred
  void arm_efd();

  thread_set& set_;
  unsigned index_;
  loop* lp_ = nullptr;
  scope_state root_{nullptr, false};
  alignas(64) std::atomic<remote_item*> head_{nullptr};
  std::atomic<bool> sleeping_{false};
  struct bell_record : completion {
    hub* owner;
  };
  struct efd_request : request {
    hub* owner;
    explicit efd_request(hub* h) noexcept : request(&on_efd_read, &on_efd_settled), owner(h) {}
  };
  alignas(64) bell_record bell_{{&on_bell}, this};  // MSG_RING wake-ups land here (user_data)
  int ring_fd_ = -1;
  int efd_ = -1;  // eventfd mode
  efd_request efd_read_{this};
  std::uint64_t efd_buf_ = 0;
  bool detaching_ = false;
  std::vector<std::unique_ptr<bell_sender>> senders_;  // MSG_RING mode: one per target
  // eventfd mode: targets to wake at the end of this turn (a MSG_RING waits for the turn's
  // enter by itself), so a burst of hand-offs within one turn costs one write per target.
  std::vector<hub*> bells_due_;
};

// The loop threads of one runtime: thread 0 is the one that made the runtime; the others
// are started here and joined by the destructor.
class thread_set {
 public:
  // Starts opts.threads - 1 loop threads (their rings set up as `main`'s) and waits until
  // each is ready. Errors: as the loop's constructor (std::system_error), rethrown here
  // after the threads that did start are stopped.
  thread_set(const runtime_options& opts, loop& main);
  // Stops every worker (they have no tasks left: every cross-thread child is structured)
  // and joins them.
  ~thread_set();
  thread_set(const thread_set&) = delete;
  thread_set& operator=(const thread_set&) = delete;

  unsigned size() const noexcept { return static_cast<unsigned>(hubs_.size()); }
  hub& at(unsigned k) noexcept { return *hubs_[k]; }
  wakeup mode() const noexcept { return mode_; }
  struct impl;  // the threads and their start / stop latches (threads.cpp)

 private:
  void shutdown() noexcept;
  wakeup mode_;
  std::vector<std::unique_ptr<hub>> hubs_;
  std::unique_ptr<impl> impl_;
};

// This thread's hub, or null outside a multi-thread runtime.
hub* this_hub() noexcept;

// Tests: use the eventfd wake-up in runtimes created from now on even where MSG_RING works.
void force_thread_wakeup(wakeup mode) noexcept;

}  // namespace coring::detail
