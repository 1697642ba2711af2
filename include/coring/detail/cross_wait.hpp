// The fair wait list of detail/wait_list.hpp, for primitives shared between loop threads
// (coring::channel): the same model (FIFO waiters, tokens granted to a woken waiter that
// pass on when it is cancelled before resuming, final notifications), but every call is
// made under the primitive's spin lock and a waiter on another thread is woken through
// its thread's inbox (detail/threads.hpp) instead of the local ready queue.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <utility>

#include "coring/detail/fair_wait.hpp"
#include "coring/detail/threads.hpp"

namespace coring::detail {

// A lock for short critical sections between loop threads: never a system call (a futex
// would put a loop to sleep behind another thread's critical section of a few stores).
class spin_lock {
 public:
  void lock() noexcept {
    while (flag_.exchange(true, std::memory_order_acquire))
      while (flag_.load(std::memory_order_relaxed)) relax();
  }
  void unlock() noexcept { flag_.store(false, std::memory_order_release); }

 private:
  static void relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }
  std::atomic<bool> flag_{false};
};

struct cross_wait_tag {};
class cross_wait_list;

// A task parked on a cross_wait_list. Every member function but the constructors is called
// with the list's lock held, on the waiter's own thread.
class cross_waiter : public fair_waiter<cross_waiter, cross_wait_list, cross_wait_tag> {
 public:
  cross_waiter() noexcept { msg_.w = this; }
  cross_waiter(cross_waiter&& o) noexcept : fair_waiter(std::move(o)) { msg_.w = this; }
  // Leaves the list (a granted token passes on). Takes the lock itself.
  ~cross_waiter();

  // Parks the current task at the back of `l`; false (do not suspend) when it is cancelled.
  bool wait_on(cross_wait_list& l, std::coroutine_handle<> h, const char* what);
  // First thing in await_resume: how the wait ended; throws coring::cancelled when it was
  // refused or aborted (a token held then has been passed on).
  outcome finish();

 private:
  friend class fair_list<cross_waiter, cross_wait_tag>;
  struct wake_msg : remote_item {
    cross_waiter* w = nullptr;
  };
  static void on_abort(wait_hook* h) noexcept;
  static void on_wake(remote_item* m) noexcept;
  // From any thread of the runtime, lock held: through the waiter's inbox when it runs
  // elsewhere.
  void deliver(bool final) noexcept;
  // On its way to the ready queue already: it sees `notified` when it resumes.
  void revoked() noexcept {}
  void uncount() noexcept;

  wake_msg msg_;
  hub* home_ = nullptr;  // null in a single-thread runtime
  bool final_ = false;
  bool msg_pending_ = false;
  bool counted_ = false;
};

// The list: fair_wait.hpp's (waiting(), in_flight(), grant_one(), notify_all()), every
// call with the lock held.
class cross_wait_list : public fair_list<cross_waiter, cross_wait_tag> {
 public:
  cross_wait_list(spin_lock& lock, give_back_fn fn, void* owner) noexcept : fair_list(fn, owner), lock_(lock) {}
  spin_lock& lock() noexcept { return lock_; }

 private:
  spin_lock& lock_;
};

}  // namespace coring::detail
