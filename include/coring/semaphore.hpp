// coring::semaphore — a counting semaphore with strict FIFO hand-off (asyncio.Semaphore,
// Trio's Semaphore), in user space: acquiring and releasing never make a system call.
//
// Fairness: a release with tasks waiting hands its permit straight to the longest waiter
// instead of raising the count, and the fast path is taken only when the count is positive
// and nobody waits — so a task that releases and immediately acquires again cannot barge
// ahead of a task that was already waiting. A permit handed to a waiter that is cancelled
// before it resumes goes to the next waiter (or back to the count): no permit is lost.
//
// Example (examples/semaphore_limit.cpp):
//   coring::semaphore limit(10);
//   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//     for (const auto& url : urls)
//       tg.spawn([&limit, &url]() -> coring::task<> {  // pass the callable: spawn keeps it alive
//         auto p = co_await limit.acquire();  // at most 10 fetches at a time
//         co_await fetch(url);
//       });  // the permit is released when the task ends
//     co_return;
//   });
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "coring/detail/wait_list.hpp"

namespace coring {

// A snapshot of a semaphore, for logs and tests: fmt::print("{}\n", sem.statistics()).
struct semaphore_statistics {
  std::ptrdiff_t value = 0;     // permits available now
  std::size_t waiters = 0;      // tasks blocked in acquire()
  std::size_t handing_off = 0;  // permits given to woken tasks that have not resumed yet
  std::uint64_t acquired = 0;   // successful acquires so far (fast and slow)
  std::uint64_t waited = 0;     // acquires that had to wait
};

class semaphore {
 public:
  // One acquired unit, released when the permit is destroyed or release() is called
  // (once; later calls do nothing). Movable, not copyable. An empty permit (moved from, or
  // from a failed try_acquire) converts to false.
  class [[nodiscard]] permit {
   public:
    permit() noexcept = default;
    permit(permit&& o) noexcept : sem_(std::exchange(o.sem_, nullptr)) {}
    permit& operator=(permit&& o) noexcept {
      if (this != &o) {
        release();
        sem_ = std::exchange(o.sem_, nullptr);
      }
      return *this;
    }
    permit(const permit&) = delete;
    permit& operator=(const permit&) = delete;
    ~permit() { release(); }

    // Gives the unit back now (to the first waiter, if any). Idempotent.
    void release() noexcept {
      if (semaphore* s = std::exchange(sem_, nullptr)) s->release();
    }
    explicit operator bool() const noexcept { return sem_ != nullptr; }

   private:
    friend class semaphore;
    explicit permit(semaphore* s) noexcept : sem_(s) {}
    semaphore* sem_ = nullptr;
  };

  class acquire_awaiter {
   public:
    explicit acquire_awaiter(semaphore& s) noexcept : sem_(&s) {}
    acquire_awaiter(acquire_awaiter&& o) noexcept : sem_(o.sem_) {}

    bool await_ready() noexcept {
      // A cancelled task goes through await_suspend, which refuses and makes
      // await_resume throw: acquire is a cancellation point even when a unit is free.
      if (detail::current_task_cancelled()) return false;
      if (sem_->count_ > 0 && sem_->waiters_.empty()) {
        --sem_->count_;
        fast_ = true;
        return true;
      }
      return false;
    }
    bool await_suspend(std::coroutine_handle<> h) {
      return w_.wait_on(sem_->waiters_, h, "semaphore.acquire");
    }
    permit await_resume() {
      if (fast_) {
        ++sem_->acquired_;
        return permit(sem_);
      }
      // Throws cancelled on a refused or aborted wait: the count was not touched, and a
      // permit granted meanwhile has already gone to the next waiter.
      w_.finish();
      ++sem_->acquired_;
      ++sem_->waited_;
      return permit(sem_);
    }

   private:
    semaphore* sem_;
    detail::list_waiter w_;
    bool fast_ = false;
  };

  // A semaphore with `initial` units (default 1: a lock). Not copyable or movable: tasks
  // and permits refer to it, so it must outlive them.
  // Errors: std::invalid_argument when `initial` is negative. Example: at the top of this
  // header, and under release() for semaphore(0).
  explicit semaphore(std::ptrdiff_t initial = 1)
      : count_(initial), waiters_(&give_back, this) {
    if (initial < 0)
      throw std::invalid_argument("coring::semaphore: initial value " + std::to_string(initial) +
                                  " is negative; pass 0 or more");
  }
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  // Waits for a unit and returns it as an RAII permit. Strict FIFO: waiters get units in
  // the order they called acquire; a free unit is taken at once only when nobody waits.
  // Zero system calls.
  // Cancellation: a cancellation point (also when a unit is free: a cancelled task gets
  // coring::cancelled and the count is unchanged). A cancelled acquire never changes the
  // count; a unit handed to it before it could resume passes to the next waiter.
  // Errors: coring::cancelled only. Example: at the top of this header.
  [[nodiscard]] acquire_awaiter acquire() noexcept { return acquire_awaiter(*this); }

  // Takes a unit if one is free and nobody waits (no barging); else returns an empty
  // permit. Never suspends, so not a cancellation point. Never throws.
  //
  // Example (examples/semaphore_limit.cpp):
  //   if (auto p = limit.try_acquire()) {
  //     fmt::print("got a permit without waiting; {} left\n", limit.value());
  //   }  // released here
  //   fmt::print("{}\n", limit.statistics());  // semaphore(value=10 waiters=0 ...)
  permit try_acquire() noexcept {
    if (count_ > 0 && waiters_.empty()) {
      --count_;
      ++acquired_;
      return permit(this);
    }
    return permit();
  }

  // Returns one unit: to the first waiter if any (it is queued to run; no system call),
  // else to the count. Use it for units taken without a permit object, or to raise the
  // count (a semaphore(0) used as a signal). Permits call it for you. Never throws.
  // Releasing more often than acquiring raises the count above its initial value (as
  // asyncio.Semaphore does, not BoundedSemaphore).
  //
  // Example (examples/semaphore_limit.cpp):
  //   coring::semaphore ready(0);  // a signal: acquire waits until somebody releases
  //   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
  //     tg.spawn([&]() -> coring::task<> { auto p = co_await ready.acquire(); });
  //     ready.release();  // hands the unit straight to the waiter
  //     co_return;
  //   });
  void release() noexcept {
    if (!waiters_.grant_one()) ++count_;
  }

  // Units available now (never negative). Units already handed to woken waiters are not
  // counted. Never throws.
  std::ptrdiff_t value() const noexcept { return count_; }
  // True when acquire() would wait. Never throws.
  bool locked() const noexcept { return count_ == 0 || !waiters_.empty(); }

  // A snapshot for logs and tests; fmt-formattable. Never throws. Example: under
  // try_acquire().
  semaphore_statistics statistics() const noexcept {
    return {count_, waiters_.waiting(), waiters_.in_flight(), acquired_, waited_};
  }

 private:
  // A unit granted to a waiter that was cancelled before resuming.
  static void give_back(void* self) noexcept { static_cast<semaphore*>(self)->release(); }

  std::ptrdiff_t count_;
  detail::wait_list waiters_;
  std::uint64_t acquired_ = 0;
  std::uint64_t waited_ = 0;
};

}  // namespace coring

template <>
struct fmt::formatter<coring::semaphore_statistics> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const coring::semaphore_statistics& s, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "semaphore(value={} waiters={} handing_off={} acquired={} waited={})",
                          s.value, s.waiters, s.handing_off, s.acquired, s.waited);
  }
};
