// Cancellation and timeouts (layer 4), Trio's model: cancel scopes.
//
// A cancel scope covers a block of one task and every task spawned inside it. Cancelling
// it (by hand, by its deadline, or by its task group) is level-triggered: every suspension
// point inside throws coring::cancelled until the scope is left. Operations already in the
// kernel are cancelled there (IORING_OP_ASYNC_CANCEL). A shield scope holds off outside
// cancellation so cleanup code can await. Timeouts ARE cancel scopes with a deadline; only
// the scope whose deadline expired turns the cancellation into timeout_error (or an empty
// optional), so an outside cancel racing the expiry stays a cancellation, and a result
// that is ready wins over the deadline.
//
// Deadlines: a relative one (with_timeout, fail_after, move_on_after) starts when the
// returned task is awaited, not when it is made (Trio's rule; asyncio's timeout starts at
// `async with`). Durations and time points of any std::chrono type are accepted; one too
// large to represent means "never" (it saturates, it never fires early). All deadlines run
// on coring::clock, so under runtime_options::virtual_time they expire in virtual time.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <type_traits>

#include "coring/detail/io_op.hpp"
#include "coring/detail/waiter.hpp"
#include "coring/task.hpp"
#include "coring/time.hpp"

namespace coring {

// A raw cancel scope for the current task, entered on construction and left on
// destruction (RAII): Trio's CancelScope for code that needs the scope object itself (to
// cancel it from elsewhere in the task, or to move its deadline). with_timeout,
// move_on_after and shield are built on it and are simpler to use.
// Create it only inside a running task, and destroy it in the same task in reverse order
// of creation; destroying it while a nested scope or a spawned task is still inside
// terminates the program with a message (it cannot be recovered).
// Cancellation: once cancelled (cancel(), or its deadline), every suspension point inside
// throws coring::cancelled; the code that catches it checks owns_cancellation() to tell
// this scope's cancel from an outer one, and rethrows an outer one. An outer cancellation
// reaches the inside too, unless the scope is shielded.
// Errors: none (arming a deadline may throw std::bad_alloc).
//
// Example (examples/cancel_cancel_scope.cpp):
//   bool expired = false;
//   {
//     coring::cancel_scope scope;
//     scope.set_deadline(coring::clock::now() + 1s);
//     try {
//       co_await coring::sleep(1h);
//     } catch (const coring::cancelled&) {
//       if (!scope.owns_cancellation()) throw;  // an outer cancel: not ours to swallow
//       expired = true;
//     }
//   }
class cancel_scope {
 public:
  struct shield_t {};
  // Tag for the shielded constructor.
  static constexpr shield_t shielded{};
  // Enters a new scope, nested in the task's current one.
  cancel_scope() : guard_(false) {}
  // Enters a shielded scope: cancellation of enclosing scopes does not reach inside (the
  // scope's own cancel and deadline still work). Trio's CancelScope(shield=True); see also
  // coring::shield.
  //
  // Example (examples/cancel_cancel_scope_shielded.cpp):
  //   coring::cancel_scope outer;
  //   outer.cancel();
  //   {
  //     coring::cancel_scope cleanup(coring::cancel_scope::shielded);
  //     co_await coring::sleep(5ms);  // does not throw: the outer cancel is held off
  //   }
  //   try {
  //     co_await coring::checkpoint();
  //   } catch (const coring::cancelled&) {
  //     ok = outer.owns_cancellation();  // raised again once the shield is left
  //   }
  explicit cancel_scope(shield_t) : guard_(true) {}
  cancel_scope(const cancel_scope&) = delete;
  cancel_scope& operator=(const cancel_scope&) = delete;

  // Cancels the scope: every task inside, and every non-shielded nested scope, is woken
  // from its suspension point with coring::cancelled (operations in the kernel get an
  // ASYNC_CANCEL), and every later suspension point inside throws too. Idempotent; cancels
  // the deadline timer. Never throws.
  //
  // Example (examples/cancel_cancel_scope_cancel.cpp):
  //   coring::cancel_scope scope;
  //   scope.cancel();
  //   int thrown = 0;
  //   for (int i = 0; i < 3; ++i) {
  //     try {
  //       co_await coring::checkpoint();
  //     } catch (const coring::cancelled&) {
  //       ++thrown;  // level-triggered: every suspension point throws
  //     }
  //   }
  //   ok = thrown == 3 && scope.cancel_called();
  void cancel() noexcept { guard_.state().cancel(); }
  // True once cancel() was called or the deadline expired. Never throws.
  bool cancel_called() const noexcept { return const_cast<cancel_scope*>(this)->guard_.state().cancel_called; }
  // True when this scope was cancelled and no enclosing scope is: a coring::cancelled
  // caught here is this scope's to swallow. Never throws. (Example: the class's.)
  bool owns_cancellation() const noexcept {
    return const_cast<cancel_scope*>(this)->guard_.state().owns_cancellation();
  }
  // Cancels the scope when coring::clock reaches `when` (a steady-clock time point of any
  // duration type), replacing any earlier deadline; a time already past cancels now, a
  // time too late to represent (time_point::max()) removes the deadline. No effect once
  // the scope is cancelled. Errors: std::bad_alloc if the timer heap cannot grow.
  // (Example: the class's.)
  template <class Dur>
  void set_deadline(std::chrono::time_point<std::chrono::steady_clock, Dur> when) {
    guard_.state().set_deadline(detail::saturate(when));
  }

 private:
  detail::scope_guard guard_;
};

namespace detail {

template <class R>
using move_on_result_t = std::conditional_t<std::is_void_v<R>, bool, std::optional<R>>;

// Runs `a` inside a new cancel scope that expires at `when` (resolved now, when the task
// runs). Returns the result (or true), or an empty optional (or false) when this scope's
// own deadline cancelled it.
template <class A, class R = await_result_t<A>>
task<move_on_result_t<R>> run_with_deadline(A a, deadline_spec when) {
  scope_guard g;
  g.state().set_deadline(when.resolve());
  try {
    if constexpr (std::is_void_v<R>) {
      co_await std::move(a);
      co_return true;
    } else {
      co_return move_on_result_t<R>(co_await std::move(a));
    }
  } catch (const cancelled&) {
    if (!g.state().owns_cancellation()) throw;
  }
  co_return move_on_result_t<R>{};
}

template <class A, class R = await_result_t<A>>
task<R> fail_at_impl(deadline_spec when, A a, const char* who) {
  auto r = co_await run_with_deadline(std::move(a), when);
  if (!r) throw timeout_error(std::string(who) + ": deadline expired");
  if constexpr (!std::is_void_v<R>) co_return std::move(*r);
}

template <class A, class R = await_result_t<A>>
task<R> shield_impl(A a) {
  scope_guard g(true);
  co_return co_await std::move(a);
}

// Beyond this a kernel link timeout saves nothing worth its timespec: the deadline becomes
// a cancel scope, whose saturating arithmetic makes an unrepresentable one "never".
inline constexpr duration max_link_timeout = std::chrono::hours(24 * 365);

template <class Op>
auto linked_timeout(duration d, Op op, const char* who) -> task<await_result_t<Op>> {
  // A LINK_TIMEOUT runs on the kernel's real clock: under virtual time the deadline must be
  // a cancel scope in the loop's (virtual) timer heap.
  if (virtual_time_active() || d > max_link_timeout)
    co_return co_await fail_at_impl(deadline_spec::after(d), std::move(op), who);
  throw_if_cancelled();
  if (d <= duration::zero()) throw timeout_error(std::string(who) + ": deadline expired");
  op.set_link_timeout(d);  // relative to the submission, which happens in this await
  co_return co_await std::move(op);
}

// with_timeout and fail_after: one io_uring operation gets a linked timeout, anything else
// a cancel scope whose deadline starts when the task runs.
template <class Rep, class Period, awaitable A>
auto timeout_after(std::chrono::duration<Rep, Period> d, A a, const char* who) -> task<await_result_t<A>> {
  const duration dd = checked_duration(d, who);
  if constexpr (io_operation<A>)
    return linked_timeout(dd, std::move(a), who);
  else
    return fail_at_impl(deadline_spec::after(dd), std::move(a), who);
}

}  // namespace detail

// Awaits `a` and throws coring::timeout_error if it has not finished within `d`
// (asyncio.timeout / Trio's fail_after). The time counts from the moment the returned task
// is awaited, not from this call. On a single io_uring operation (a read, a connect...)
// the deadline is an IORING_OP_LINK_TIMEOUT linked to it: no extra system call, one extra
// SQE. On anything else (a task, a task group, a queue get, a splice, which the kernel
// runs in a worker thread that a linked timeout does not reach), and on an operation
// under virtual time (the kernel's timeout runs on real time) or with a duration over a
// year, it is a cancel scope with a deadline in the loop's timer heap. A duration too long
// to represent never expires.
// Cancellation: an outside cancel stays coring::cancelled, even if the deadline passed at
// the same time; a result ready at the deadline is returned. A zero duration expires at
// the first suspension point.
// Errors: std::invalid_argument at the call for a negative or NaN duration; timeout_error
// on expiry; whatever `a` throws.
//
// Example (examples/cancel_with_timeout.cpp):
//   char buf[64];
//   try {
//     co_await coring::with_timeout(100ms, coring::read_some(pipe_fd, buf));  // nobody writes
//   } catch (const coring::timeout_error&) {
//     timed_out = true;
//   }
template <class Rep, class Period, awaitable A>
auto with_timeout(std::chrono::duration<Rep, Period> d, A a) -> task<detail::await_result_t<A>> {
  return detail::timeout_after(d, std::move(a), "coring::with_timeout");
}

// Trio's name for with_timeout: the same call, the same behaviour, cancellation and errors.
//
// Example (examples/cancel_fail_after.cpp):
//   auto slow = []() -> coring::task<int> {
//     co_await coring::sleep(10min);
//     co_return 1;
//   };
//   try {
//     co_await coring::fail_after(5min, slow());
//   } catch (const coring::timeout_error&) {
//     ok = true;
//   }
template <class Rep, class Period, awaitable A>
auto fail_after(std::chrono::duration<Rep, Period> d, A a) -> task<detail::await_result_t<A>> {
  return detail::timeout_after(d, std::move(a), "coring::fail_after");
}

// Like with_timeout with an absolute deadline (a steady-clock time point of any duration
// type; one too late to represent never comes); always a cancel scope. A time already past
// expires at the first suspension point.
// Cancellation: as with_timeout. Errors: timeout_error on expiry; whatever `a` throws.
//
// Example (examples/cancel_fail_at.cpp):
//   const coring::time_point deadline = coring::clock::now() + 100ms;
//   int got = co_await coring::fail_at(deadline, quick());  // quick() takes 10 ms
//   ok = got == 7;
template <awaitable A, class Dur>
auto fail_at(std::chrono::time_point<std::chrono::steady_clock, Dur> when, A a) -> task<detail::await_result_t<A>> {
  return detail::fail_at_impl(detail::deadline_spec::at(detail::saturate(when)), std::move(a), "coring::fail_at");
}

// Awaits `a`, giving up quietly when `d` passes (Trio's move_on_after; Python's
// `async with asyncio.timeout(d)` + `except TimeoutError: return None`). The time counts
// from the moment the returned task is awaited. Returns std::optional<R>, empty on expiry;
// for an awaitable of void, returns true when it finished and false on expiry. Always a
// cancel scope. A duration too long to represent never expires.
// Cancellation: as with_timeout (outside cancellation propagates as coring::cancelled).
// Errors: std::invalid_argument at the call for a negative or NaN duration; whatever `a`
// throws.
//
// Example (examples/cancel_move_on_after.cpp):
//   std::optional<int> v = co_await coring::move_on_after(100ms, compute());  // takes 1 s
//   if (!v) fmt::print("gave up\n");
template <class Rep, class Period, awaitable A>
auto move_on_after(std::chrono::duration<Rep, Period> d, A a)
    -> task<detail::move_on_result_t<detail::await_result_t<A>>> {
  const duration dd = detail::checked_duration(d, "coring::move_on_after");
  return detail::run_with_deadline(std::move(a), detail::deadline_spec::after(dd));
}

// move_on_after with an absolute deadline (a steady-clock time point of any duration type;
// one too late to represent never comes). Cancellation: as move_on_after. Errors: whatever
// `a` throws.
//
// Example (examples/cancel_move_on_at.cpp):
//   const coring::time_point stop = coring::clock::now() + 1min;
//   int rounds = 0;
//   bool finished = co_await coring::move_on_at(stop, [&]() -> coring::task<> {
//     for (;;) {
//       co_await coring::sleep(10s);
//       ++rounds;
//     }
//   }());
//   ok = !finished && rounds == 5;  // the deadline cuts the 6th round short
template <awaitable A, class Dur>
auto move_on_at(std::chrono::time_point<std::chrono::steady_clock, Dur> when, A a)
    -> task<detail::move_on_result_t<detail::await_result_t<A>>> {
  return detail::run_with_deadline(std::move(a), detail::deadline_spec::at(detail::saturate(when)));
}

// Awaits `a` with outside cancellation held off: suspension points inside do not throw
// when an enclosing scope is cancelled (its own scopes still work). Use it for cleanup that
// must await after a cancellation; the cancellation is raised again at the first
// suspension point after the shield. C++ forbids co_await in a catch block, so keep the
// exception, leave the handler, shield the cleanup, rethrow.
// Cancellation: none from outside while `a` runs (see above). Errors: whatever `a` throws.
//
// Example (examples/cancel_shield.cpp):
//   std::exception_ptr err;
//   try {
//     co_await coring::sleep(1h);  // cancelled by the group
//   } catch (...) {
//     err = std::current_exception();
//   }
//   if (err) {
//     co_await coring::shield(coring::sleep(10ms));  // stands in for closing a connection
//     cleaned_up = true;
//     std::rethrow_exception(err);
//   }
template <awaitable A>
auto shield(A a) -> task<detail::await_result_t<A>> {
  return detail::shield_impl(std::move(a));
}

}  // namespace coring
