// Blocking work off the loop (layer 7): run_blocking runs a function on a small
// process-wide thread pool and resumes the caller on its own loop THROUGH THE RING.
//
// How the result comes back: the worker stores the result in the awaiting frame, then posts
// a CQE into the caller's ring with IORING_OP_MSG_RING from a tiny ring of its own
// (Linux 5.18+). The job's kernel-request record expects that CQE (detail/request.hpp), so
// the loop simply waits in io_uring_enter: no polling, no extra thread wake-ups, and the
// caller's ring is only ever touched by its own thread (SINGLE_ISSUER). Where MSG_RING is
// unavailable, the worker queues the completion and writes an eventfd that the loop keeps a
// read on.
//
// The pool: at most blocking_threads() workers (default: the number of CPUs, at least 2 and
// at most 4; set_blocking_threads() changes it), started on demand, each with its wake-up
// ring created BEFORE it takes a job, so a process out of descriptors or locked memory gets
// a std::system_error from run_blocking instead of a worker that cannot report back. Jobs
// wait in an unbounded FIFO (each is an awaiting task's frame, so tasks bound it). Workers
// block every signal (so signalfd-based wait_for_signal sees them) and are joined at exit.
#pragma once

#include <atomic>
#include <exception>
#include <optional>
#include <stop_token>
#include <type_traits>
#include <utility>

#include "coring/detail/request.hpp"
#include "coring/detail/wake.hpp"
#include "coring/detail/waiter.hpp"

namespace coring {

namespace detail {

// One unit of work for the pool. `run` executes on a worker thread; then the worker
// announces the completion to the loop that submitted the job, through the job's request
// record (a MSG_RING CQE, or the eventfd inbox calling complete()).
struct blocking_job : request {
  using request::request;
  void (*run)(blocking_job*) noexcept = nullptr;
  // Filled by submit_blocking: how to wake the submitting loop.
  int target_ring_fd = -1;
  void* inbox = nullptr;  // eventfd fallback: the submitting thread's inbox
  // Set (release) by the worker once `run` returned, before the MSG_RING announcing it;
  // acquired by the loop before it reads the result (the eventfd path hands jobs over under
  // a mutex instead).
  std::atomic<bool> ran{false};
  void acquire_result() const noexcept { (void)ran.load(std::memory_order_acquire); }
};

// Hands `job` to the pool (starting a worker if one is needed and allowed) and makes the
// job's record expect the completion. Called on the loop thread. Errors: std::system_error
// when no worker exists and none can be started (thread or wake-up ring creation failed);
// the job is then not queued.
void submit_blocking(blocking_job& job);
// Takes `job` back out of the pool's queue if no worker has started it: true when it will
// never run (its record is settled; its owner is notified only with `notify`). Called on
// the loop thread.
bool withdraw_blocking(blocking_job& job, bool notify) noexcept;

// Which wake-up path the pool uses; the eventfd path can be forced for tests.
using blocking_wakeup = wakeup;
blocking_wakeup blocking_wakeup_mode() noexcept;
// What the kernel offers, ignoring any forcing (the MSG_RING probe).
blocking_wakeup probed_blocking_wakeup() noexcept;
void force_blocking_wakeup(blocking_wakeup mode) noexcept;

template <class F>
inline constexpr bool takes_stop_token = std::is_invocable_v<F&, std::stop_token>;

template <class F>
struct blocking_result {
  using type = std::invoke_result_t<F&>;
};
template <class F>
  requires takes_stop_token<F>
struct blocking_result<F> {
  using type = std::invoke_result_t<F&, std::stop_token>;
};
template <class F>
using blocking_result_t = typename blocking_result<F>::type;

template <class F>
class blocking_op : blocking_job, parked {
  using R = blocking_result_t<F>;
  using stored = std::conditional_t<std::is_void_v<R>, bool, R>;

 public:
  explicit blocking_op(F fn) : blocking_job(&on_cqe, &on_settled), fn_(std::move(fn)) { run = &run_fn; }
  blocking_op(blocking_op&& o) : blocking_job(&on_cqe, &on_settled), parked(), fn_(std::move(o.fn_)) { run = &run_fn; }
  blocking_op& operator=(blocking_op&&) = delete;
  // The frame is being destroyed while a worker may still use it: take the job back if it
  // has not started, else wait for the completion that says it is done (fn cannot be
  // interrupted).
  ~blocking_op() {
    if (busy() && !withdraw_blocking(*this, false)) (void)settle();
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    if (!park(h, &on_abort, "run_blocking")) return false;
    try {
      submit_blocking(*this);
    } catch (...) {
      done_waiting();
      throw;
    }
    return true;
  }
  R await_resume() {
    done_waiting();
    check();  // refused, withdrawn, or cancelled while fn ran: the result is discarded
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<R>) return std::move(*value_);
  }

 private:
  static void run_fn(blocking_job* j) noexcept {
    auto* self = static_cast<blocking_op*>(j);
    try {
      if constexpr (std::is_void_v<R>) {
        self->invoke();
        self->value_.emplace(true);
      } else {
        self->value_.emplace(self->invoke());
      }
    } catch (...) {
      self->error_ = std::current_exception();
    }
  }
  decltype(auto) invoke() {
    if constexpr (takes_stop_token<F>)
      return fn_(stop_.get_token());
    else
      return fn_();
  }
  // The worker stored the result; pair its release (see blocking_job::ran).
  static void on_cqe(request* r, const io_uring_cqe&) noexcept { static_cast<blocking_job*>(r)->acquire_result(); }
  static void on_settled(request* r) noexcept {
    auto* self = static_cast<blocking_op*>(static_cast<blocking_job*>(r));
    self->done_waiting();
    self->resume_on(*self->owner_loop());
  }
  // Cancellation: a job no worker has started is withdrawn (it never runs, the caller
  // resumes at once); a running one is asked to stop through its stop_token, if it takes
  // one, and awaited.
  static void on_abort(wait_hook* w) noexcept {
    auto* self = static_cast<blocking_op*>(static_cast<parked*>(w));
    if (!withdraw_blocking(*self, true)) self->stop_.request_stop();
  }

  F fn_;
  std::optional<stored> value_;
  std::exception_ptr error_;
  std::stop_source stop_;
};

}  // namespace detail

// Runs `fn()` on the blocking thread pool and returns its result (or rethrows its
// exception) on the caller's loop. Use it for calls that would stall the loop:
// getaddrinfo, CPU-heavy work, libraries without async APIs. `fn` may take a
// std::stop_token: it is then called as fn(token), and cancelling the caller requests a
// stop, so long work can cooperate (check token.stop_requested()).
// `fn` must be safe to run on another thread; it is moved into the awaiting frame and
// invoked once there (by reference), so captured references must outlive the await.
// Cancellation: a cancellation point. A call still waiting in the pool's queue is removed
// and never runs; the caller resumes at once with coring::cancelled. A call already running
// cannot be interrupted: its stop_token (if it takes one) is signalled, the caller waits
// until fn returns, then throws coring::cancelled and the result is discarded. A task
// cancelled before the call never starts fn.
// Errors: whatever fn throws; std::system_error when the pool cannot start its first worker
// (no thread, or no descriptor / locked memory for the worker's wake-up ring): the process
// keeps running and a later call tries again.
//
// Example (examples/blocking_run_blocking.cpp):
//   // A computation off the loop; the loop keeps serving other tasks meanwhile.
//   const long sum = co_await coring::run_blocking([] {
//     long s = 0;
//     for (long i = 1; i <= 1000; ++i) s += i;
//     return s;
//   });
//   // Long work that cooperates with cancellation through its stop_token.
//   const bool finished = co_await coring::move_on_after(10ms, coring::run_blocking([](std::stop_token st) {
//     while (!st.stop_requested()) std::this_thread::sleep_for(1ms);
//   }));
//   // sum == 500500, finished == false
//
template <class F>
  requires(std::is_invocable_v<F&> || detail::takes_stop_token<F>)
auto run_blocking(F fn) {
  return detail::blocking_op<F>(std::move(fn));
}

// The pool's size bound (workers are started on demand up to it) and a way to change it
// (1..1024; std::invalid_argument otherwise). Lowering it does not stop running workers;
// raising it lets queued jobs start.
unsigned blocking_threads() noexcept;
void set_blocking_threads(unsigned n);

}  // namespace coring
