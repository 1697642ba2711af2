// coring::barrier — n tasks wait for each other (asyncio.Barrier without abort/reset), in
// user space: waiting and releasing never make a system call.
//
// Each task calls `co_await b.wait()`; the n-th arrival releases the n-1 waiting tasks and
// itself, and the barrier is ready for the next round at once (generations: a task that
// arrives again right after a release waits for n new arrivals). Waiters sit on the same
// fair wait list as the queue and semaphore; a waiter that is cancelled before the release
// leaves it, and no longer counts towards the n.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "coring/detail/wait_list.hpp"

namespace coring {

class barrier {
 public:
  class [[nodiscard]] wait_awaiter {
   public:
    explicit wait_awaiter(barrier& b) noexcept : b_(&b) {}
    wait_awaiter(wait_awaiter&& o) noexcept : b_(o.b_) {}
    bool await_ready() noexcept {
      // A cancelled task goes through await_suspend, which refuses (and it does not
      // count): wait() is a cancellation point even for the last arrival.
      if (detail::this_task()->cancelled()) return false;
      if (b_->waiters_.waiting() + 1 < b_->parties_) return false;
      b_->release();
      return true;
    }
    bool await_suspend(std::coroutine_handle<> h) { return w_.wait_on(b_->waiters_, h, "barrier.wait"); }
    void await_resume() { w_.finish(); }

   private:
    barrier* b_;
    detail::list_waiter w_;
  };

  // A barrier for `parties` tasks. Not copyable or movable: waiting tasks refer to it.
  // Errors: std::invalid_argument when `parties` is 0.
  //
  // Example: examples/barrier_rounds.cpp (`coring::barrier b(workers);`).
  explicit barrier(std::size_t parties) : parties_(parties) {
    if (parties == 0)
      throw std::invalid_argument("coring::barrier: 0 parties; pass the number of tasks that meet at it (1 or more)");
  }
  barrier(const barrier&) = delete;
  barrier& operator=(const barrier&) = delete;

  // Waits until `parties` tasks (this one included) are waiting, then all of them go on:
  // the waiting ones are queued to run in the order they arrived, the last arrival returns
  // without suspending. Zero system calls.
  // Cancellation: a cancellation point (a cancelled task gets coring::cancelled and does
  // not count as arrived). A waiter cancelled before the release leaves and no longer
  // counts; one released has passed the barrier and returns normally (a cancellation
  // comes at its next suspension point).
  // Errors: coring::cancelled only.
  //
  // Example (examples/barrier_rounds.cpp):
  //   for (int round = 0; round < rounds; ++round) {
  //     ++done[w];              // this round's work
  //     co_await b.wait();      // until every worker finished the round
  //     for (int d : done) in_step = in_step && d == round + 1;
  //     co_await b.wait();      // the barrier is reused for the next round
  //   }
  wait_awaiter wait() noexcept { return wait_awaiter(*this); }

  // The number of tasks that meet at the barrier.
  std::size_t parties() const noexcept { return parties_; }
  // Tasks waiting now for the current round. Never throws.
  std::size_t waiting() const noexcept { return waiters_.waiting(); }
  // Rounds completed so far (each release starts a new generation). Never throws.
  std::uint64_t generation() const noexcept { return generation_; }

 private:
  void release() noexcept {
    ++generation_;
    waiters_.notify_all();
  }

  std::size_t parties_;
  std::uint64_t generation_ = 0;
  detail::wait_list waiters_;
};

}  // namespace coring
