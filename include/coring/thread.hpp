// Several loop threads (runtime_options::threads): which thread a task runs on, running a
// structured child on another thread (on_thread), and the threads' counters.
//
// Model (Seastar's shard-per-core, with Trio's structure): every thread has its own loop
// and io_uring ring; nothing on the hot path is shared. Work crosses threads as messages:
// on_thread sends a function to thread k, which runs it as a task there and sends the
// result back; task_group::spawn_on makes such a call a child of a group, so the group's
// rules (first failure cancels every sibling, on every thread; the group waits for all;
// every thread's errors in one exception_group) hold across threads; coring::channel
// (channel.hpp) streams values between threads. Cancellation crosses too: cancelling the
// caller cancels the child on its thread, kernel operations included, and the caller
// waits until the child has ended, so no task outlives the scope that started it.
//
// Example (examples/thread_on_thread.cpp):
//   coring::task<int> main_task() {
//     // Runs on thread 1, as a child of this task: its value (or exception) comes back.
//     const unsigned where = co_await coring::on_thread(1, []() -> coring::task<unsigned> {
//       co_await coring::sleep(1ms);  // thread 1's timer and ring
//       co_return coring::thread_index();
//     });
//     co_return where == 1 && coring::thread_index() == 0 ? 0 : 1;
//   }
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "coring/detail/threads.hpp"
#include "coring/detail/waiter.hpp"
#include "coring/runtime.hpp"
#include "coring/task.hpp"
#include "coring/task_group.hpp"

namespace coring {

// The index of the loop thread running the caller: 0 for the thread that called
// coring::run (and outside any runtime), 1..thread_count()-1 for the others. Not an
// awaitable; never throws. Example: at the top of this header.
unsigned thread_index() noexcept;
// The number of loop threads of the runtime running the caller (runtime_options::threads);
// 0 outside any runtime. Not an awaitable; never throws.
//
// Example (examples/thread_spawn_on.cpp):
//   for (unsigned k = 0; k < coring::thread_count(); ++k)
//     tg.spawn_on(k, [k]() -> coring::task<> { co_await serve_shard(k); }, fmt::format("shard-{}", k));
unsigned thread_count() noexcept;

namespace detail {

// The part of a cross-thread call that does not depend on the function: the messages and
// the protocol between the caller's thread (A) and the child's (B).
//  A: start -> B: the child runs in a scope of its own under B's root scope;
//  A: cancel (the caller was cancelled) -> B: that scope is cancelled;
//  B: done (the child ended and, if a cancel was sent, it has been seen) -> A: resumes.
// `state_` decides, without a lock, whether the cancel message is still to come: A sets
// `cancel_bit` before sending it, B sets `finished_bit` when the child ends; whoever comes
// second knows whether the other's message exists, so B never sends `done` while A's
// cancel message (memory in A's frame) may still be unread.
class remote_call : finisher {
 public:
  remote_call(unsigned k, std::string name);
  ~remote_call();
  remote_call(const remote_call&) = delete;
  remote_call& operator=(const remote_call&) = delete;

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h);
  // Rethrows the child's exception, or coring::cancelled when the caller was cancelled
  // before the call started.
  void await_resume();

 protected:
  // B side, supplied by the typed call: make the child's task (its frame is B's), and move
  // its value out of the finished promise.
  std::coroutine_handle<> (*make_)(remote_call*) = nullptr;
  void (*take_)(remote_call*, promise_base&) noexcept = nullptr;
  promise_base* promise_ = nullptr;  // the child's, set by make_

 private:
  struct msg : remote_item {
    remote_call* call = nullptr;
  };
  struct call_waiter : waiter {
    remote_call* call = nullptr;
  };
  static constexpr unsigned cancel_bit = 1, finished_bit = 2;
  static void on_start(remote_item* m) noexcept;
  static void on_cancel(remote_item* m) noexcept;
  static void on_done_msg(remote_item* m) noexcept;
  void task_ended(promise_base& p) noexcept override;  // B: the child's final suspend
  static void on_abort(wait_hook* w) noexcept;
  void child_finished() noexcept;  // B

  hub* home_;    // the caller's thread
  hub* target_;  // the child's thread
  msg start_msg_, cancel_msg_, done_msg_;
  call_waiter w_;
  std::atomic<unsigned> state_{0};
  bool in_flight_ = false;  // A: started, done not yet received
  // B side (A reads error_ and the value only after `done`):
  std::string name_;
  char what_[32];
  std::optional<scope_state> scope_;
  task_node child_;
  std::coroutine_handle<> frame_;
  bool finished_ = false, cancel_seen_ = false;
  std::exception_ptr error_;
};

template <class F>
using thread_result_t = await_result_t<std::invoke_result_t<F&>>;

template <class F>
class remote_call_of final : public remote_call {
  using R = thread_result_t<F>;
  using stored = std::conditional_t<std::is_void_v<R>, char, R>;

 public:
  remote_call_of(unsigned k, F& fn, std::string name) : remote_call(k, std::move(name)), fn_(fn) {
    make_ = [](remote_call* c) -> std::coroutine_handle<> {
      auto* self = static_cast<remote_call_of*>(c);
      auto h = call_and_await(std::move(self->fn_)).release();
      self->promise_ = &h.promise();
      return h;
    };
    take_ = [](remote_call* c, promise_base& p) noexcept {
      auto* self = static_cast<remote_call_of*>(c);
      if constexpr (std::is_void_v<R>)
        self->value_.emplace('\0');
      else
        self->value_.emplace(std::move(*static_cast<promise<R>&>(p).value));
    };
  }
  R take() {
    if constexpr (!std::is_void_v<R>) return std::move(*value_);
  }

 private:
  F& fn_;
  std::optional<stored> value_;
};

[[noreturn]] void bad_thread_index(const char* call, unsigned k);

template <class F>
auto on_thread_impl(unsigned k, F fn, std::string name) -> task<thread_result_t<F>> {
  if (k >= thread_count()) bad_thread_index("on_thread", k);
  if (k == thread_index()) co_return co_await fn();
  remote_call_of<F> call(k, fn, std::move(name));
  co_await call;
  co_return call.take();
}

}  // namespace detail

// Runs `fn()` on loop thread `k` as a structured child of the caller and returns its
// result (rethrows its exception). `fn` is a callable returning a task or any awaitable; it
// is called on thread k, so the child's frames, timers and I/O are thread k's (open
// descriptors on thread k; a descriptor made elsewhere can be used, as descriptors are
// per process). `fn` is kept in the caller's frame and moved to thread k: its captures must
// be safe to use there while the caller waits. On the caller's own thread the child just
// runs inline. Costs two messages in user space (no system call while thread k is busy;
// one wake-up when it sleeps).
// Cancellation: a cancellation point. Cancelling the caller cancels the child on thread k
// (its cancel scope; kernel operations there get their ASYNC_CANCEL on thread k's ring)
// and the caller resumes only once the child has ended, with the child's outcome: its
// coring::cancelled, or its value if it finished first (a result is never lost; the
// caller's cancellation is then raised at its next suspension point). A caller cancelled
// before the call starts sends nothing.
// Errors: whatever the child throws; std::invalid_argument when k >= thread_count();
// coring::cancelled.
// Example: at the top of this header.
template <class F>
  requires detail::task_factory<F>
auto on_thread(unsigned k, F fn) -> task<detail::thread_result_t<F>> {
  return detail::on_thread_impl(k, std::move(fn), std::string());
}

template <class F>
auto task_group::spawn_on(unsigned k, F fn, std::string name) -> task_handle<detail::spawn_result_t<F>> {
  if (k >= thread_count()) detail::bad_thread_index("task_group::spawn_on", k);
  std::string remote = name;  // the child's name on its thread (before `name` is moved)
  return spawn([k, fn = std::move(fn), remote = std::move(remote)]() mutable {
    return detail::on_thread_impl(k, std::move(fn), remote);
  }, std::move(name));
}

// The counters of every loop thread (index = thread), gathered with one on_thread call
// to each. Zero system calls while the threads are busy.
// Cancellation: a cancellation point (as on_thread).
// Errors: coring::cancelled.
//
// Example (examples/thread_stats.cpp):
//   std::vector<coring::runtime_stats> per_thread = co_await coring::thread_stats();
//   coring::runtime_stats all = coring::total(per_thread);
//   ok = per_thread.size() == 2 && all.tasks == per_thread[0].tasks + per_thread[1].tasks;
task<std::vector<runtime_stats>> thread_stats();
// The sum of `per_thread`'s counters (`ring_flags` and `thread` of the first). Never throws
// (std::bad_alloc aside). Example: under thread_stats.
runtime_stats total(const std::vector<runtime_stats>& per_thread);

}  // namespace coring
