// Blocking work off the loop (layer 7): run_blocking runs a function on a small
// process-wide thread pool and resumes the caller on its own loop THROUGH THE RING.
//
// How the result comes back: the worker stores the result in the awaiting frame, then posts
// a CQE into the caller's ring with IORING_OP_MSG_RING from a tiny ring of its own
// (Linux 5.18+). The loop counts that CQE as outstanding (loop::expect_cqe), so it simply
// waits in io_uring_enter: no polling, no extra thread wake-ups, and the caller's ring is
// only ever touched by its own thread (SINGLE_ISSUER). Where MSG_RING is unavailable, the
// worker queues the completion and writes an eventfd that the loop keeps a read on.
//
// The pool starts on first use (4 threads, or fewer on smaller machines) and lives for the
// process; its threads block every signal (so signalfd-based wait_for_signal sees them) and
// are joined at process exit.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "coring/detail/waiter.hpp"

namespace coring {

namespace detail {

// One unit of work for the pool. `run` executes on a worker thread; then the worker
// announces the completion (the `completion` base) to the loop that submitted the job.
struct blocking_job : completion {
  void (*run)(blocking_job*) noexcept = nullptr;
  // Filled by submit_blocking: how to wake the submitting loop.
  int target_ring_fd = -1;
  void* inbox = nullptr;  // eventfd fallback: the submitting thread's inbox
};

// Hands `job` to the pool (starting it on first use) and registers the CQE that will
// announce its end with the current loop. Called on the loop thread.
void submit_blocking(blocking_job& job);

// Which wake-up path the pool uses; the eventfd path can be forced for tests.
enum class blocking_wakeup { msg_ring, eventfd };
blocking_wakeup blocking_wakeup_mode() noexcept;
void force_blocking_wakeup(blocking_wakeup mode) noexcept;

template <class F>
using blocking_result_t = std::invoke_result_t<F&>;

template <class F>
class blocking_op : blocking_job, waiter {
  using R = blocking_result_t<F>;
  using stored = std::conditional_t<std::is_void_v<R>, bool, R>;

 public:
  explicit blocking_op(F fn) : fn_(std::move(fn)) { init(); }
  blocking_op(blocking_op&& o) : blocking_job(), waiter(), fn_(std::move(o.fn_)) { init(); }
  blocking_op& operator=(blocking_op&&) = delete;
  ~blocking_op() {
    // The frame is being destroyed while the worker may still use it: wait for the CQE
    // that says it is done (fn cannot be interrupted).
    if (pending_) {
      destroying_ = true;
      lp->drain(pending_);
    }
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    if (!park(h, &on_abort, "run_blocking")) return false;
    pending_ = 1;
    try {
      submit_blocking(*this);
    } catch (...) {
      pending_ = 0;
      done_waiting();
      throw;
    }
    return true;
  }
  R await_resume() {
    done_waiting();
    check();  // refused, or cancelled while fn ran: the result is discarded
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<R>) return std::move(*value_);
  }

 private:
  void init() noexcept {
    complete = &on_cqe;
    run = &run_fn;
  }
  static void run_fn(blocking_job* j) noexcept {
    auto* self = static_cast<blocking_op*>(j);
    try {
      if constexpr (std::is_void_v<R>) {
        self->fn_();
        self->value_.emplace(true);
      } else {
        self->value_.emplace(self->fn_());
      }
    } catch (...) {
      self->error_ = std::current_exception();
    }
  }
  static void on_cqe(completion* c, const io_uring_cqe&) noexcept {
    auto* self = static_cast<blocking_op*>(static_cast<blocking_job*>(c));
    self->pending_ = 0;
    if (!self->destroying_) self->wake();
  }
  // The function cannot be stopped: remember the cancel (aborted is set) and keep waiting.
  static void on_abort(wait_hook*) noexcept {}

  F fn_;
  std::optional<stored> value_;
  std::exception_ptr error_;
  unsigned char pending_ = 0;
  bool destroying_ = false;
};

}  // namespace detail

// Runs `fn()` on the blocking thread pool and returns its result (or rethrows its
// exception) on the caller's loop. Use it for calls that would stall the loop:
// getaddrinfo, CPU-heavy work, libraries without async APIs.
// `fn` must be safe to run on another thread; it is moved into the awaiting frame and
// invoked once there (by reference), so captured references must outlive the await.
// Cancellation: a cancellation point, but fn cannot be interrupted: a cancelled caller
// waits until fn returns, then throws coring::cancelled and the result is discarded. A task
// cancelled before the call never starts fn.
// Errors: whatever fn throws.
//
//   std::string text = co_await coring::run_blocking([] { return slow_compress(data); });
template <class F>
  requires std::is_invocable_v<F&>
auto run_blocking(F fn) {
  return detail::blocking_op<F>(std::move(fn));
}

}  // namespace coring
