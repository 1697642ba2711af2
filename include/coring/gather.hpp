// Helpers over task groups: gather (all or fail fast), gather_settled (Python's
// gather(return_exceptions=True)) and first_success (first to succeed wins). Each runs
// its tasks as children of a task group of its own, so no task outlives the call.
#pragma once

#include <exception>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "coring/task_group.hpp"

namespace coring {

// A value or the exception that replaced it: one slot of gather_settled's result.
// Example: under gather_settled.
template <class T>
class outcome {
 public:
  // A failed slot holding `e`, or (below) a slot holding a value; gather_settled builds them.
  explicit outcome(std::exception_ptr e) noexcept : e_(std::move(e)) {}
  template <class U = T>
    requires(!std::is_void_v<U>)
  explicit outcome(U&& v) : v_(std::forward<U>(v)) {}
  outcome() requires std::is_void_v<T> : v_(std::in_place) {}

  // True when the task returned (no exception). Never throws.
  bool has_value() const noexcept { return !e_; }
  explicit operator bool() const noexcept { return has_value(); }
  // The value; rethrows the exception when there is none.
  decltype(auto) value() {
    if (e_) std::rethrow_exception(e_);
    if constexpr (!std::is_void_v<T>) return static_cast<T&>(*v_);
  }
  // The exception, or null.
  const std::exception_ptr& error() const noexcept { return e_; }
  // True when the task ended by cancellation.
  bool cancelled() const { return e_ && exception_group::matches<coring::cancelled>(e_); }

 private:
  std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> v_;
  std::exception_ptr e_;
};

namespace detail {
template <class T>
using gather_value_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// A task group that fails fast with the first error itself rather than a group of them,
// as asyncio.gather raises the first exception.
template <class F>
task<> fail_fast_group(F body) {
  try {
    co_await with_task_group(std::move(body));
  } catch (const exception_group& eg) {
    std::rethrow_exception(eg.entries().front().error);
  }
}

template <class T>
gather_value_t<T> take_result(task_handle<T>& h) {
  if constexpr (std::is_void_v<T>) {
    h.result();
    return {};
  } else {
    return std::move(h.result());
  }
}
}  // namespace detail

// Runs all tasks concurrently and returns their results in order (void results are
// std::monostate). Fails fast: the first failure cancels the others, and is rethrown as
// itself (not wrapped), like asyncio.gather; gather returns only when every task has
// ended. Cancellation: an outside cancel cancels all and propagates as coring::cancelled.
// Errors: the first exception raised.
//
// Example (examples/gather_results.cpp):
//   auto [a, b] = co_await coring::gather(fetch_size(1), fetch_size(2));  // 100, 200
//   std::vector<coring::task<int>> fetches;
//   for (int id = 4; id <= 6; ++id) fetches.push_back(fetch_size(id));
//   std::vector<int> sizes = co_await coring::gather(std::move(fetches));  // in input order
template <class... T>
task<std::tuple<detail::gather_value_t<T>...>> gather(task<T>... tasks) {
  std::tuple<task_handle<T>...> handles;
  co_await detail::fail_fast_group([&](task_group& tg) -> task<> {
    handles = std::apply([&](auto&... t) { return std::tuple<task_handle<T>...>(tg.spawn(std::move(t))...); },
                         std::tie(tasks...));
    co_return;
  });
  co_return std::apply([](auto&... h) { return std::tuple<detail::gather_value_t<T>...>(detail::take_result(h)...); },
                       handles);
}

// gather over a vector: runs all tasks concurrently and returns their values in input order
// (for task<void>, returns when all finished). Fails fast like the variadic gather: the
// first failure cancels the rest and is rethrown unwrapped. Cancellation: an outside
// cancel cancels all and propagates as coring::cancelled. Errors: the first exception.
// An empty vector gives an empty result. Example: under the variadic gather above.
template <class T>
task<std::conditional_t<std::is_void_v<T>, void, std::vector<T>>> gather(std::vector<task<T>> tasks) {
  std::vector<task_handle<T>> handles;
  handles.reserve(tasks.size());
  co_await detail::fail_fast_group([&](task_group& tg) -> task<> {
    for (auto& t : tasks) handles.push_back(tg.spawn(std::move(t)));
    co_return;
  });
  if constexpr (!std::is_void_v<T>) {
    std::vector<T> out;
    out.reserve(handles.size());
    for (auto& h : handles) out.push_back(std::move(h.result()));
    co_return out;
  }
}

// Runs all tasks to their end, none cancelling another, and returns one outcome per task
// in input order: asyncio.gather(..., return_exceptions=True). Cancellation: an outside
// cancel cancels all and propagates as coring::cancelled. Errors: none of the tasks' own.
//
// Example (examples/gather_results.cpp):
//   std::vector<coring::task<int>> jobs;
//   for (int id = 1; id <= 4; ++id) jobs.push_back(fetch_size(id));
//   auto outcomes = co_await coring::gather_settled(std::move(jobs));  // none cancels another
//   for (auto& o : outcomes) {
//     if (o) {
//       fmt::print("size {}\n", o.value());
//     } else {
//       fmt::print("failed: {}\n", coring::describe_exception(o.error()));
//       ++failures;
//     }
//   }
template <class T>
task<std::vector<outcome<T>>> gather_settled(std::vector<task<T>> tasks) {
  std::vector<task_handle<T>> handles;
  handles.reserve(tasks.size());
  try {
    co_await with_supervisor([&](task_group& tg) -> task<> {
      for (auto& t : tasks) handles.push_back(tg.spawn(std::move(t)));
      co_return;
    });
  } catch (const exception_group&) {
    // Every failure is also in its handle, reported below.
  }
  std::vector<outcome<T>> out;
  out.reserve(handles.size());
  for (auto& h : handles) {
    if (h.cancelled())
      out.emplace_back(std::make_exception_ptr(cancelled{}));
    else if (h.exception())
      out.emplace_back(h.exception());
    else if constexpr (std::is_void_v<T>)
      out.emplace_back();
    else
      out.emplace_back(std::move(h.result()));
  }
  co_return out;
}

// Runs the tasks concurrently; the first to succeed wins, the others are cancelled, and
// its value is returned. Cancellation: an outside cancel propagates as
// coring::cancelled. Errors: std::invalid_argument for an empty vector; when every task
// fails, an exception_group of all their errors in completion order.
// Compare coring::race (race.hpp): over awaitables of any types, the first to FINISH wins,
// and a failure that comes first is raised instead of waiting for a success.
//
// Example (examples/gather_results.cpp):
//   std::vector<coring::task<std::string>> mirrors;
//   mirrors.push_back(mirror("slow", 10s));
//   mirrors.push_back(mirror("fast", 1ms));
//   std::string body = co_await coring::first_success(std::move(mirrors));  // "slow" is cancelled
template <class T>
task<T> first_success(std::vector<task<T>> tasks) {
  static_assert(!std::is_void_v<T>, "first_success needs a value to return");
  if (tasks.empty()) throw std::invalid_argument("coring::first_success: no tasks given");
  std::optional<T> winner;
  try {
    co_await with_supervisor([&](task_group& tg) -> task<> {
      for (auto& t : tasks) {
        tg.spawn([](task<T> t, std::optional<T>& winner, task_group tg) -> task<> {
          T v = co_await std::move(t);
          if (!winner) {
            winner.emplace(std::move(v));
            tg.cancel();
          }
        }(std::move(t), winner, tg));
      }
      co_return;
    });
  } catch (const exception_group&) {
    if (!winner) throw;
  }
  if (!winner) throw cancelled{};  // the group was cancelled from inside before any success
  co_return std::move(*winner);
}

}  // namespace coring
