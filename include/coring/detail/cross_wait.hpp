// The fair wait list of detail/wait_list.hpp, for primitives shared between loop threads
// (coring::channel): the same model (FIFO waiters, tokens granted to a woken waiter that
// pass on when it is cancelled before resuming, final notifications), but every call is
// made under the primitive's spin lock and a waiter on another thread is woken through
// its thread's inbox (detail/threads.hpp) instead of the local ready queue.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>

#include "coring/detail/ilist.hpp"
#include "coring/detail/threads.hpp"
#include "coring/detail/waiter.hpp"

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
class cross_waiter : public waiter, public hook<cross_wait_tag> {
 public:
  enum class outcome : unsigned char { none, granted, notified };

  cross_waiter() noexcept { msg_.w = this; }
  cross_waiter(cross_waiter&&) noexcept : waiter(), hook<cross_wait_tag>() { msg_.w = this; }
  cross_waiter& operator=(cross_waiter&&) = delete;
  // Leaves the list (a granted token passes on). Takes the lock itself.
  ~cross_waiter();

  // Parks the current task at the back of `l`; false (do not suspend) when it is cancelled.
  bool wait_on(cross_wait_list& l, std::coroutine_handle<> h, const char* what);
  // First thing in await_resume: how the wait ended; throws coring::cancelled when it was
  // refused or aborted (a token held then has been passed on).
  outcome finish();

 private:
  friend class cross_wait_list;
  enum class state : unsigned char { idle, waiting, granted, notified, done };
  struct wake_msg : remote_item {
    cross_waiter* w = nullptr;
  };
  static void on_abort(wait_hook* h) noexcept;
  static void on_wake(remote_item* m) noexcept;
  // From any thread of the runtime, lock held.
  void wake_any(bool final) noexcept;
  void uncount() noexcept;

  wake_msg msg_;
  cross_wait_list* list_ = nullptr;
  hub* home_ = nullptr;  // null in a single-thread runtime
  state state_ = state::idle;
  bool final_ = false;
  bool msg_pending_ = false;
  bool counted_ = false;
};

class cross_wait_list {
 public:
  using give_back_fn = void (*)(void* owner) noexcept;
  cross_wait_list(spin_lock& lock, give_back_fn fn, void* owner) noexcept
      : lock_(lock), give_back_(fn), owner_(owner) {}
  cross_wait_list(const cross_wait_list&) = delete;
  cross_wait_list& operator=(const cross_wait_list&) = delete;
  ~cross_wait_list();

  // All with the lock held.
  std::size_t waiting() const noexcept { return waiting_; }
  bool empty() const noexcept { return waiting_ == 0; }
  std::size_t in_flight() const noexcept { return in_flight_; }
  bool grant_one() noexcept;
  std::size_t notify_all(bool revoke = false) noexcept;
  spin_lock& lock() noexcept { return lock_; }

 private:
  friend class cross_waiter;
  void return_token() noexcept {
    --in_flight_;
    if (give_back_) give_back_(owner_);
  }
  spin_lock& lock_;
  ilist<cross_waiter, cross_wait_tag> waiting_list_;
  ilist<cross_waiter, cross_wait_tag> granted_list_;
  std::size_t waiting_ = 0;
  std::size_t in_flight_ = 0;
  give_back_fn give_back_;
  void* owner_;
};

}  // namespace coring::detail
