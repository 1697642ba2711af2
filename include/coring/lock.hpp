// coring::lock — mutual exclusion between tasks (asyncio.Lock, Trio's Lock), in user space:
// acquiring and releasing never make a system call.
//
// A lock is a semaphore of one unit that remembers which task holds it, so it shares the
// semaphore's fair wait list and its rules: strict FIFO, no barging (a task that releases
// and at once acquires again queues behind the tasks already waiting), and a lock handed
// to a waiter that is cancelled before it resumes passes to the next waiter. The holder is
// recorded so that coring::condition can check that its caller holds the lock.
//
// Locks are rarely needed between coring tasks: code between two suspension points
// already runs alone on its thread. Use one to keep a sequence of awaits exclusive (write
// a record with several sends; refresh a cache entry once while others wait).
#pragma once

#include <coroutine>
#include <utility>

#include "coring/semaphore.hpp"

namespace coring {

class condition;

class lock {
 public:
  // Ownership of the lock, released when the guard is destroyed or release() is called
  // (once; later calls do nothing). Movable, not copyable. An empty guard (moved from, or
  // from a failed try_acquire) converts to false.
  class [[nodiscard]] guard {
   public:
    guard() noexcept = default;
    guard(guard&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
    guard& operator=(guard&& o) noexcept {
      if (this != &o) {
        release();
        l_ = std::exchange(o.l_, nullptr);
      }
      return *this;
    }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;
    ~guard() { release(); }

    // Unlocks now: the longest waiter (if any) is queued to run holding the lock.
    // Idempotent. Never throws.
    void release() noexcept {
      if (lock* l = std::exchange(l_, nullptr)) l->unlock();
    }
    explicit operator bool() const noexcept { return l_ != nullptr; }

   private:
    friend class lock;
    explicit guard(lock* l) noexcept : l_(l) {}
    lock* l_ = nullptr;
  };

  class [[nodiscard]] acquire_awaiter {
   public:
    explicit acquire_awaiter(lock& l) noexcept : l_(&l), inner_(l.sem_.acquire()) {}
    acquire_awaiter(acquire_awaiter&& o) noexcept : l_(o.l_), inner_(std::move(o.inner_)) {}
    bool await_ready() noexcept { return inner_.await_ready(); }
    bool await_suspend(std::coroutine_handle<> h) { return inner_.await_suspend(h); }
    guard await_resume() {
      l_->take(inner_.await_resume());  // throws cancelled: the lock was not taken
      return guard(l_);
    }

   private:
    lock* l_;
    semaphore::acquire_awaiter inner_;
  };

  // An unlocked lock. Not copyable or movable: waiting tasks and guards refer to it, so it
  // must outlive them.
  lock() = default;
  lock(const lock&) = delete;
  lock& operator=(const lock&) = delete;

  // Waits until the lock is free and takes it, returning an RAII guard (`async with lock:`).
  // Strict FIFO: tasks get the lock in the order they called acquire; a free lock is taken
  // at once only when nobody waits. Zero system calls. The lock is not re-entrant: a task
  // that acquires a lock it holds waits for itself (the runtime reports the deadlock when
  // nothing else can run).
  // Cancellation: a cancellation point (also when the lock is free: a cancelled task gets
  // coring::cancelled and the lock stays as it was). A cancelled acquire never takes the
  // lock; when the lock was handed to it before it could resume, it passes to the next
  // waiter (or becomes free).
  // Errors: coring::cancelled only.
  //
  // Example (examples/lock_acquire.cpp):
  //   auto guard = co_await mu.acquire();  // async with lock:
  //   int seen = balance;
  //   co_await coring::checkpoint();       // others run here, but not in this block
  //   balance = seen + 1;
  acquire_awaiter acquire() noexcept { return acquire_awaiter(*this); }

  // Takes the lock if it is free and nobody waits (no barging); otherwise returns an
  // empty guard. Never suspends, so not a cancellation point. Never throws.
  //
  // Example (examples/lock_try_acquire.cpp):
  //   if (auto guard = refreshing.try_acquire()) {
  //     co_await coring::checkpoint();  // the refresh itself
  //     ++refreshes;
  //   } else {
  //     ++skipped;  // someone is refreshing already
  //   }
  guard try_acquire() noexcept {
    semaphore::permit p = sem_.try_acquire();
    if (!p) return guard();
    take(std::move(p));
    return guard(this);
  }

  // True when some task holds the lock or it is being handed to a woken waiter: acquire()
  // would wait. Never throws.
  bool locked() const noexcept { return sem_.value() == 0; }

  // A snapshot for logs and tests (value 1 when free); fmt-formattable. Never throws.
  //
  //   fmt::print("{}\n", mu.statistics());   // semaphore(value=0 waiters=2 ...)
  semaphore_statistics statistics() const noexcept { return sem_.statistics(); }

 private:
  friend class condition;
  void take(semaphore::permit p) noexcept {
    held_ = std::move(p);
    owner_ = detail::this_task();
  }
  void unlock() noexcept {
    owner_ = nullptr;
    held_.release();
  }
  bool held_by_current_task() const noexcept { return held_ && owner_ == detail::this_task(); }

  semaphore sem_{1};
  semaphore::permit held_;  // the one unit, while someone holds the lock
  detail::task_node* owner_ = nullptr;
};

}  // namespace coring
