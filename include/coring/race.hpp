// coring::race — the first of several awaitables to finish wins; the others are cancelled
// (Trio's idiom of a nursery whose first finisher cancels the rest; tokio's `select!`;
// asyncio.wait(..., return_when=FIRST_COMPLETED) followed by cancelling the pending ones).
//
// How it relates to the helpers in gather.hpp:
//  - first_success(tasks) takes tasks of ONE type and waits for the first to SUCCEED: a
//    failure there is only noted, and the others go on; it fails only when all fail.
//  - race(a, b, ...) takes awaitables of ANY types (a task, a sleep, an I/O operation, a
//    queue get, a task handle...) and the first to FINISH decides, failure included: a
//    failing first finisher makes the race throw its exception. The result is a
//    std::variant whose index() says which one won.
//  - gather waits for all of them.
// Use race for "whichever happens first" (a reply or a deadline of your own, a message or
// a shutdown event); use first_success for redundant requests where any answer will do.
#pragma once

#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "coring/task_group.hpp"

namespace coring {

namespace detail {

template <class A>
using race_value_t = std::conditional_t<std::is_void_v<await_result_t<A>>, std::monostate, await_result_t<A>>;

template <class V>
struct race_state {
  std::optional<V> value;     // the winner's result
  std::exception_ptr error;   // or the winner's exception
  bool decided = false;
};

// One contestant, run as a child of the race's group. The first to end (other than by
// cancellation) records its outcome and cancels the others.
template <std::size_t I, class V, class A>
task<> race_arm(A a, race_state<V>& st, task_group tg) {
  std::exception_ptr err;
  try {
    if constexpr (std::is_void_v<await_result_t<A>>) {
      co_await std::move(a);
      if (!st.decided) st.value.emplace(std::in_place_index<I>);
    } else {
      auto v = co_await std::move(a);
      if (!st.decided) st.value.emplace(std::in_place_index<I>, std::move(v));
    }
  } catch (const cancelled&) {
    throw;  // a cancelled contestant does not win
  } catch (...) {
    err = std::current_exception();
  }
  if (st.decided) {
    // A loser's real error while it was being cancelled must not vanish: the group
    // reports it.
    if (err) std::rethrow_exception(err);
    co_return;  // a loser's result that came in at the same moment is dropped
  }
  st.decided = true;
  st.error = err;
  tg.cancel();
}

template <class V, class... A, std::size_t... I>
void spawn_arms(task_group& tg, race_state<V>& st, std::index_sequence<I...>, A&... as) {
  (tg.spawn(race_arm<I, V>(std::move(as), st, tg), "race[" + std::to_string(I) + "]"), ...);
}

}  // namespace detail

// Runs every awaitable concurrently, each as a child task, and returns the result of the
// first to finish as a std::variant (void results as std::monostate) whose index() is the
// winner's position; the others are cancelled and awaited before race returns. Ties within
// one loop turn go to the earlier argument. Zero system calls of its own: only the
// contestants' I/O enters the kernel (and their cancellation, for operations in flight).
// Results: a loser whose result arrived in the same loop turn as the winner's loses that
// result (a byte count read, an accepted socket closed with its object), so race only
// what you can lose, or what is cancel-safe: sleeps, and the waits of queue, semaphore,
// lock, event, condition, barrier and task handles never lose an item to a cancellation.
// Cancellation: an outside cancellation cancels every contestant, waits for them, and
// propagates as coring::cancelled. A contestant that ends by cancellation does not win;
// when all end that way, race throws coring::cancelled.
// Errors: the first finisher's exception, rethrown as itself (after the others were
// cancelled and awaited); when losers fail with real errors while being cancelled, an
// exception_group with the winner's error first (if it failed) and theirs.
//
// Example (examples/race_reply_or_shutdown.cpp):
//   for (;;) {
//     auto next = co_await coring::race(inbox.get(), shutdown.wait());
//     if (next.index() == 1) break;  // shutdown won; the get was cancelled and took nothing
//     std::string msg = std::get<0>(next);
//     ++handled;
//   }
template <class... A>
  requires(sizeof...(A) > 0 && (awaitable<A> && ...))
auto race(A... as) -> task<std::variant<detail::race_value_t<A>...>> {
  using V = std::variant<detail::race_value_t<A>...>;
  detail::race_state<V> st;
  std::vector<exception_group::entry> loser_errors;
  try {
    co_await with_supervisor([&](task_group& tg) -> task<> {
      detail::spawn_arms(tg, st, std::index_sequence_for<A...>{}, as...);
      co_return;
    });
  } catch (const exception_group& eg) {
    loser_errors = eg.entries();
  }
  if (!loser_errors.empty()) {
    if (st.error) loser_errors.insert(loser_errors.begin(), {st.error, "race winner"});
    throw exception_group("errors in a race", std::move(loser_errors));
  }
  if (st.error) std::rethrow_exception(st.error);
  if (!st.value) throw cancelled{};  // every contestant was cancelled
  co_return std::move(*st.value);
}

}  // namespace coring
