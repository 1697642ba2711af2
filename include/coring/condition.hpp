// coring::condition — a condition variable over a coring::lock (asyncio.Condition, Trio's
// Condition), in user space: waiting and notifying never make a system call.
//
// A task holding the lock calls wait(): the lock is released, the task sleeps until
// notified, and it holds the lock again when wait() returns. notify(n) wakes the n tasks
// that have waited longest (FIFO), notify_all() every waiting task. Woken tasks take the
// lock in turn, behind the tasks already queued on it, so the state they wait for may have
// changed again by then: check it in a loop, or use wait_for(predicate), which does.
//
// Built on the same fair wait list as the queue and semaphore: a notification handed to a
// waiter that is cancelled before it resumes passes to the next waiter, so a notify is not
// swallowed by a task that will never act on it.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <string>
#include <stdexcept>
#include <type_traits>

#include "coring/detail/wait_list.hpp"
#include "coring/detail/waiter.hpp"
#include "coring/lock.hpp"
#include "coring/task.hpp"

namespace coring {

namespace detail {
// Parks the current task on a wait list until it is granted a token or notified.
class park_awaiter {
 public:
  park_awaiter(wait_list& l, const char* what) noexcept : l_(l), what_(what) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) { return w_.wait_on(l_, h, what_); }
  void await_resume() { w_.finish(); }  // throws cancelled when refused or aborted

 private:
  wait_list& l_;
  const char* what_;
  list_waiter w_;
};
}  // namespace detail

class condition {
 public:
  // A condition over `l`, which must outlive it (and the tasks waiting on it). Not
  // copyable or movable: waiting tasks refer to it.
  //
  // Example: examples/condition_wait.cpp (`coring::condition cv(mu);`).
  explicit condition(coring::lock& l) noexcept : lock_(&l), waiters_(&pass_on, this) {}
  condition(const condition&) = delete;
  condition& operator=(const condition&) = delete;

  // Releases the lock, waits until notified, and takes the lock again before returning
  // (asyncio's Condition.wait). Call it while holding the lock. The wait itself costs no
  // system call; re-taking the lock queues behind the tasks already waiting for it.
  // Cancellation: a cancellation point. A task cancelled before the call gets
  // coring::cancelled at once, still holding the lock. A task cancelled while waiting
  // stops waiting, takes the lock again (that re-acquire ignores the cancellation, like
  // asyncio), then throws coring::cancelled: it always leaves holding the lock, so its
  // guard stays right. A notification given to it before it could resume passes to the
  // next waiter.
  // Errors: std::logic_error when the calling task does not hold the lock;
  // coring::cancelled.
  //
  // Example (examples/condition_wait.cpp):
  //   auto guard = co_await mu.acquire();
  //   while (jobs.empty()) co_await cv.wait();  // unlocked while waiting, locked again after
  //   got = jobs.front();
  //   jobs.pop_front();
  task<> wait() {
    require_lock("wait");
    detail::throw_if_cancelled();
    detail::park_awaiter parked(waiters_, "condition.wait");
    lock_->unlock();  // nothing runs before the task parks below
    std::exception_ptr err;
    try {
      co_await parked;
    } catch (...) {
      err = std::current_exception();  // cancelled: leave only with the lock held
    }
    {
      detail::scope_guard shield(true);
      lock_->take(co_await lock_->sem_.acquire());
    }
    if (err) std::rethrow_exception(err);
  }

  // Waits until `pred()` is true (checked first, and again after every wake-up, always
  // with the lock held) and returns its last result, like asyncio's Condition.wait_for.
  // `pred` is taken by value and kept for the whole wait.
  // Cancellation: a cancellation point, also when `pred()` holds at once; as wait().
  // Errors: std::logic_error when the calling task does not hold the lock;
  // coring::cancelled; whatever `pred` throws.
  //
  // Example (examples/condition_wait_for.cpp):
  //   auto guard = co_await mu.acquire();
  //   all_in = co_await cv.wait_for([&] { return arrived == 3; });
  template <class P>
  auto wait_for(P pred) -> task<std::decay_t<std::invoke_result_t<P&>>> {
    require_lock("wait_for");
    detail::throw_if_cancelled();
    for (;;) {
      auto r = pred();
      if (r) co_return r;
      co_await wait();
    }
  }

  // Wakes the `n` tasks that have waited longest (fewer if fewer wait); each takes the
  // lock in turn before its wait() returns. Waking is a push onto the ready queue: no
  // system call, never suspends. May be called with or without the lock held (asyncio
  // requires it; here everything runs on one thread, so it is safe either way).
  //
  // Example: the producer side of examples/condition_wait.cpp (quoted at wait()):
  //   jobs.push_back(7);
  //   cv.notify();
  void notify(std::size_t n = 1) noexcept {
    for (; n > 0 && waiters_.grant_one(); --n) {
    }
  }

  // Wakes every waiting task. As notify().
  //
  // Example: examples/condition_wait_for.cpp, whose arriving tasks call cv.notify_all().
  void notify_all() noexcept {
    while (waiters_.grant_one()) {
    }
  }

  // Tasks blocked in wait() and not yet notified. Never throws.
  std::size_t waiting() const noexcept { return waiters_.waiting(); }
  // The lock this condition was built over.
  coring::lock& get_lock() const noexcept { return *lock_; }

 private:
  void require_lock(const char* call) const {
    if (!lock_->held_by_current_task())
      throw std::logic_error(std::string("coring::condition::") + call +
                             ": the calling task does not hold the lock; take it first "
                             "(auto g = co_await mu.acquire();)");
  }
  // A notification whose waiter was cancelled before it resumed goes to the next one.
  static void pass_on(void* self) noexcept { static_cast<condition*>(self)->waiters_.grant_one(); }

  coring::lock* lock_;
  detail::wait_list waiters_;
};

}  // namespace coring
