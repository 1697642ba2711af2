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
#pragma once

#include <chrono>
#include <optional>
#include <type_traits>

#include "coring/detail/io_op.hpp"
#include "coring/detail/waiter.hpp"
#include "coring/task.hpp"
#include "coring/time.hpp"

namespace coring {

// A raw cancel scope for the current task, entered on construction and left on
// destruction (RAII). Create it only inside a running task, and destroy it in the same
// task in reverse order of creation; destroying it while a nested scope or a spawned task
// is still inside terminates the program with a message (it cannot be recovered).
// Cancellation: cancel() makes every suspension point inside throw coring::cancelled; the
// code that catches it checks owns_cancellation() to tell its own cancel from an outer one.
//
//   coring::cancel_scope scope;
//   scope.set_deadline(coring::clock::now() + 1s);
//   try { co_await work(); }
//   catch (const coring::cancelled&) { if (!scope.owns_cancellation()) throw; }
class cancel_scope {
 public:
  struct shield_t {};
  static constexpr shield_t shielded{};
  cancel_scope() : guard_(false) {}
  explicit cancel_scope(shield_t) : guard_(true) {}
  cancel_scope(const cancel_scope&) = delete;
  cancel_scope& operator=(const cancel_scope&) = delete;

  void cancel() noexcept { guard_.state().cancel(); }
  bool cancel_called() const noexcept { return const_cast<cancel_scope*>(this)->guard_.state().cancel_called; }
  // True when this scope was cancelled and no enclosing scope is: a coring::cancelled
  // caught here is this scope's to swallow.
  bool owns_cancellation() const noexcept {
    return const_cast<cancel_scope*>(this)->guard_.state().owns_cancellation();
  }
  // Cancels the scope at `when`; a time already past cancels now.
  void set_deadline(time_point when) { guard_.state().set_deadline(when); }

 private:
  detail::scope_guard guard_;
};

namespace detail {

template <class R>
using move_on_result_t = std::conditional_t<std::is_void_v<R>, bool, std::optional<R>>;

// Runs `a` inside a new cancel scope that expires at `when`. Returns the result (or true),
// or an empty optional (or false) when this scope's own deadline cancelled it.
template <class A, class R = await_result_t<A>>
task<move_on_result_t<R>> run_with_deadline(A a, time_point when) {
  scope_guard g;
  g.state().set_deadline(when);
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
task<R> fail_at_impl(time_point when, A a, const char* who) {
  auto r = co_await run_with_deadline(std::move(a), when);
  if (!r) throw timeout_error(std::string("coring: ") + who + ": deadline expired");
  if constexpr (!std::is_void_v<R>) co_return std::move(*r);
}

template <class A, class R = await_result_t<A>>
task<R> shield_impl(A a) {
  scope_guard g(true);
  co_return co_await std::move(a);
}

template <class Op>
auto linked_timeout(duration d, Op op) -> task<await_result_t<Op>> {
  if (running_task()->cancelled()) throw cancelled{};
  if (d <= duration::zero()) throw timeout_error("coring: with_timeout: deadline expired");
  op.set_link_timeout(d);
  co_return co_await std::move(op);
}

}  // namespace detail

// Awaits `a` and throws coring::timeout_error if it has not finished within `d`
// (asyncio.timeout / Trio's fail_after). On a single io_uring operation (a read, a
// connect...) the deadline is an IORING_OP_LINK_TIMEOUT linked to it: no extra system
// call, one extra SQE. On anything else (a task, a task group, a queue get) it is a cancel
// scope with a deadline in the loop's timer heap.
// Cancellation: an outside cancel stays coring::cancelled, even if the deadline passed at
// the same time; a result ready at the deadline is returned. A zero duration expires at
// the first suspension point. Errors: std::invalid_argument for a negative duration;
// timeout_error on expiry; whatever `a` throws.
//
//   auto n = co_await coring::with_timeout(2s, stream.read_some(buf));
//   co_await coring::with_timeout(5s, coring::with_task_group(body));
template <class Rep, class Period, awaitable A>
auto with_timeout(std::chrono::duration<Rep, Period> d, A a) -> task<detail::await_result_t<A>> {
  const duration dd = detail::checked_duration(d, "coring::with_timeout");
  if constexpr (detail::io_operation<A>)
    return detail::linked_timeout(dd, std::move(a));
  else
    return detail::fail_at_impl(clock::now() + dd, std::move(a), "with_timeout");
}

// Trio's name for with_timeout.
template <class Rep, class Period, awaitable A>
auto fail_after(std::chrono::duration<Rep, Period> d, A a) -> task<detail::await_result_t<A>> {
  return with_timeout(d, std::move(a));
}

// Like with_timeout with an absolute deadline; always a cancel scope.
template <awaitable A>
auto fail_at(time_point when, A a) -> task<detail::await_result_t<A>> {
  return detail::fail_at_impl(when, std::move(a), "fail_at");
}

// Awaits `a`, giving up quietly when `d` passes (Trio's move_on_after; Python's
// `async with asyncio.timeout(d)` + `except TimeoutError: return None`). Returns
// std::optional<R>, empty on expiry; for an awaitable of void, returns true when it
// finished and false on expiry.
// Cancellation: as with_timeout (outside cancellation propagates as coring::cancelled).
// Errors: std::invalid_argument for a negative duration; whatever `a` throws.
//
//   std::optional<int> v = co_await coring::move_on_after(100ms, compute());
//   if (!v) fmt::print("gave up\n");
template <class Rep, class Period, awaitable A>
auto move_on_after(std::chrono::duration<Rep, Period> d, A a)
    -> task<detail::move_on_result_t<detail::await_result_t<A>>> {
  const duration dd = detail::checked_duration(d, "coring::move_on_after");
  return detail::run_with_deadline(std::move(a), clock::now() + dd);
}

// move_on_after with an absolute deadline.
template <awaitable A>
auto move_on_at(time_point when, A a) -> task<detail::move_on_result_t<detail::await_result_t<A>>> {
  return detail::run_with_deadline(std::move(a), when);
}

// Awaits `a` with outside cancellation held off: suspension points inside do not throw
// when an enclosing scope is cancelled (its own scopes still work). Use it for cleanup that
// must await after a cancellation; the cancellation is raised again at the first
// suspension point after the shield. Errors: whatever `a` throws.
//
//   catch (...) { err = std::current_exception(); }
//   if (err) { co_await coring::shield(conn.close()); std::rethrow_exception(err); }
template <awaitable A>
auto shield(A a) -> task<detail::await_result_t<A>> {
  return detail::shield_impl(std::move(a));
}

}  // namespace coring
