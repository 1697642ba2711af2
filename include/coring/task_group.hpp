// Structured concurrency (layer 5): task groups, like Python's asyncio.TaskGroup and
// Trio's nurseries.
//
//   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//     auto a = tg.spawn(fetch("a"), "fetch-a");
//     auto b = tg.spawn(fetch("b"), "fetch-b");
//     co_return;
//   });  // both finished here: a.result(), b.result()
//
// Semantics:
//  - the group is left only when every child has finished (children may spawn siblings
//    while the group waits; those are waited for too);
//  - the first failure that is not a cancellation cancels every sibling and the body;
//  - then the group throws coring::exception_group with exactly the non-cancellation
//    exceptions, in completion order, the body's last (errors raised while children clean
//    up are collected too; a cancelled child is not a failure);
//  - a cancellation from outside cancels all children and propagates as
//    coring::cancelled, even when children failed too (it is never swallowed);
//  - tg.cancel() ends the group quietly;
//  - spawning on a finished or cancelling group throws std::logic_error and never starts
//    the task.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "coring/detail/waiter.hpp"
#include "coring/exception_group.hpp"
#include "coring/task.hpp"

namespace coring {

class task_group;
template <class T>
class task_handle;

namespace detail {

struct child_tag {};
struct group_state;

// A spawned task: its node (own cancel scope, so a handle can cancel just this task), its
// frame until it finishes, and its outcome after. Shared by the group and the handles.
struct child_base : task_node, hook<child_tag> {
  scope_state own_scope;
  group_state* group;
  std::coroutine_handle<> frame;
  promise_base* promise = nullptr;
  std::exception_ptr error;
  unsigned refs = 1;  // the group's, until the child finishes
  bool finished = false;
  bool was_cancelled = false;
  void (*take_value)(child_base*) noexcept = nullptr;
  void (*destroy)(child_base*) noexcept = nullptr;

  child_base(group_state& g, std::string name_);
  ~child_base();
  void add_ref() noexcept { ++refs; }
  void drop_ref() noexcept {
    if (--refs == 0) destroy(this);
  }
  static void on_done(void* self) noexcept;
  void detach() noexcept;
  static void* operator new(std::size_t n) { return frame_alloc(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }
};

template <class T>
struct child_state final : child_base {
  std::optional<std::conditional_t<std::is_void_v<T>, char, T>> value;
  using child_base::child_base;
};

// The part of a group a task_group handle points at; outlives the group so a late spawn
// through a copied handle can be refused instead of touching freed memory.
struct group_ref {
  group_state* g = nullptr;
  unsigned refs = 1;
};

struct group_state : hook<node_group_tag> {
  scope_state scope;
  task_node& owner;
  ilist<child_base, child_tag> children;
  std::size_t live = 0;
  std::vector<exception_group::entry> errors;
  group_ref* ref;
  waiter* joiner = nullptr;
  bool supervisor;
  bool aborting = false;

  group_state(task_node& owner, bool supervisor);
  ~group_state();
  void check_can_spawn() const;
  void adopt(child_base& c, std::coroutine_handle<> h, promise_base& p);
  void child_finished(child_base& c) noexcept;
  void fail() noexcept;  // first failure: cancel everything inside
  // Leaves the group scope and throws what the group's outcome calls for.
  void finish(std::exception_ptr body_error, bool body_cancelled, bool value_lost);
};

struct join_awaiter : waiter {
  group_state& g;
  explicit join_awaiter(group_state& gs) : g(gs) {}
  bool await_ready() const noexcept { return g.live == 0; }
  void await_suspend(std::coroutine_handle<> h) noexcept;
  void await_resume() noexcept;
};

// A callable returning a task (a lambda coroutine): calling it inside a coroutine that
// holds the callable keeps its captures alive as long as the task runs.
template <class F>
concept task_factory = requires(F& f) {
  { f() } -> awaitable;
} && !awaitable<F>;

template <class F>
auto call_and_await(F fn) -> task<await_result_t<std::invoke_result_t<F&>>> {
  co_return co_await fn();
}

template <class A>
auto to_task(A&& a) {
  if constexpr (task_factory<std::decay_t<A>>)
    return call_and_await(std::forward<A>(a));
  else if constexpr (is_task<std::decay_t<A>>::value)
    return std::forward<A>(a);
  else
    return as_task(std::forward<A>(a));
}

template <class A>
using spawn_result_t = typename decltype(to_task(std::declval<A>()))::value_type;

}  // namespace detail

// What spawn() returns: a copyable view of one child, valid after the group ends
// (Python's asyncio.Task as returned by create_task).
template <class T>
class task_handle {
 public:
  task_handle() = default;
  explicit task_handle(detail::child_state<T>* s) noexcept : s_(s) { s_->add_ref(); }
  task_handle(const task_handle& o) noexcept : s_(o.s_) {
    if (s_) s_->add_ref();
  }
  task_handle& operator=(task_handle o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~task_handle() {
    if (s_) s_->drop_ref();
  }

  // True once the task finished: returned, failed or was cancelled.
  bool done() const noexcept { return s_->finished; }
  // True when the task ended by cancellation.
  bool cancelled() const noexcept { return s_->finished && s_->was_cancelled; }
  // The task's exception, or null if it succeeded or was cancelled.
  // Errors: std::logic_error before the task finished.
  std::exception_ptr exception() const {
    require_done("exception()");
    return s_->error;
  }
  // The task's value (void for task<void>). Rethrows the task's exception; throws
  // coring::cancelled if it was cancelled (like Python's Task.result()).
  // Errors: std::logic_error before the task finished.
  decltype(auto) result() const {
    require_done("result()");
    if (s_->was_cancelled) throw coring::cancelled{};
    if (s_->error) std::rethrow_exception(s_->error);
    if constexpr (!std::is_void_v<T>) return static_cast<T&>(*s_->value);
  }
  const std::string& name() const { return s_->display_name(); }
  // Cancels this task only (its siblings go on). No effect once it finished.
  void cancel() noexcept {
    if (!s_->finished) s_->own_scope.cancel();
  }

 private:
  void require_done(const char* what) const {
    if (!s_->finished)
      throw std::logic_error("coring::task_handle::" + std::string(what) + " on task '" + s_->display_name() +
                             "' before it finished; read it after the task group ends or check done()");
  }
  detail::child_state<T>* s_ = nullptr;
};

// A handle to a running group, given to the body of with_task_group. Copies may be kept
// (by children that spawn siblings); after the group ended every spawn through them
// throws std::logic_error.
class task_group {
 public:
  explicit task_group(detail::group_ref* r) noexcept : r_(r) { ++r_->refs; }
  task_group(const task_group& o) noexcept : r_(o.r_) { ++r_->refs; }
  task_group& operator=(task_group o) noexcept {
    std::swap(r_, o.r_);
    return *this;
  }
  ~task_group() {
    if (--r_->refs == 0) delete r_;
  }

  // Starts `work` as a child of this group, named `name` (default "task-<id>"). `work` is
  // a task, any awaitable, or a callable returning one (a lambda coroutine): the callable
  // is kept alive until the child finishes, so its captures stay valid, which a lambda
  // coroutine called in place (`tg.spawn([&]() -> task<> {...}())`) does not guarantee.
  // The child is registered before it first runs and first runs on the next loop turn.
  // Errors: std::logic_error when the group has finished or is cancelling (the task is
  // destroyed without running).
  //
  //   auto h = tg.spawn(fetch(url), url);
  //   tg.spawn([&]() -> coring::task<> { co_await q.put(1); });
  template <class A>
  auto spawn(A work, std::string name = {}) -> task_handle<detail::spawn_result_t<A>> {
    using T = detail::spawn_result_t<A>;
    detail::group_state* g = r_->g;
    if (!g)
      throw std::logic_error(
          "coring::task_group::spawn: the task group has finished; spawn children inside the "
          "with_task_group body or from its running children");
    g->check_can_spawn();
    task<T> t = detail::to_task(std::move(work));
    if (!t.valid())
      throw std::logic_error("coring::task_group::spawn: the task is empty (moved from or default-constructed); "
                             "spawn the task a coroutine call returns, or a callable that returns one");
    auto* c = new detail::child_state<T>(*g, std::move(name));
    c->take_value = [](detail::child_base* b) noexcept {
      if constexpr (!std::is_void_v<T>) {
        auto& p = static_cast<detail::promise<T>&>(*b->promise);
        static_cast<detail::child_state<T>*>(b)->value.emplace(std::move(*p.value));
      } else {
        static_cast<detail::child_state<T>*>(b)->value.emplace('\0');
      }
    };
    c->destroy = [](detail::child_base* b) noexcept { delete static_cast<detail::child_state<T>*>(b); };
    auto h = t.release();
    g->adopt(*c, h, h.promise());
    return task_handle<T>(c);
  }

  // Cancels the body and every child; the group then ends quietly (no exception unless a
  // child failed). Spawning afterwards throws.
  void cancel() noexcept {
    if (r_->g) {
      r_->g->aborting = true;
      r_->g->scope.cancel();
    }
  }
  // Children still running.
  std::size_t size() const noexcept { return r_->g ? r_->g->live : 0; }

 private:
  detail::group_ref* r_;
};

namespace detail {

template <class F>
using body_result_t = typename std::invoke_result_t<F&, task_group&>::value_type;

template <class F, class R = body_result_t<F>>
task<R> run_group(F body, bool supervisor) {
  group_state g(*running_task(), supervisor);
  task_group tg(g.ref);
  std::exception_ptr body_error;
  bool body_cancelled = false;
  std::optional<std::conditional_t<std::is_void_v<R>, char, R>> value;
  try {
    if constexpr (std::is_void_v<R>) {
      co_await body(tg);
      value.emplace('\0');
    } else {
      value.emplace(co_await body(tg));
    }
  } catch (const coring::cancelled&) {
    body_cancelled = true;
  } catch (...) {
    body_error = std::current_exception();
    g.fail();
  }
  co_await join_awaiter(g);
  g.finish(body_error, body_cancelled, !std::is_void_v<R> && !value.has_value());
  if constexpr (!std::is_void_v<R>) co_return std::move(*value);
}

}  // namespace detail

// Runs `body(tg)` and every task it spawns on `tg`, returning the body's result once all
// have finished (asyncio.TaskGroup). See the top of this header for the semantics.
// Cancellation: waiting for the children is not itself a cancellation point; an outside
// cancellation cancels the body and the children, waits for them, then throws
// coring::cancelled. Errors: coring::exception_group of the failures; std::logic_error
// when the body of a non-void group was cancelled by tg.cancel() before returning a value.
//
//   auto total = co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<int> {
//     auto a = tg.spawn(count("a"));
//     co_return 1;
//   });
template <class F>
auto with_task_group(F body) -> task<detail::body_result_t<F>> {
  return detail::run_group(std::move(body), false);
}

// Like with_task_group, but a child's failure does not cancel its siblings or the body:
// every task runs to its end and all errors are reported together at exit (the
// partial-failure pattern). Cancellation and errors: as with_task_group.
//
//   co_await coring::with_supervisor([&](coring::task_group& tg) -> coring::task<> {
//     for (auto& url : urls) handles.push_back(tg.spawn(fetch(url), url));
//     co_return;
//   });
template <class F>
auto with_supervisor(F body) -> task<detail::body_result_t<F>> {
  return detail::run_group(std::move(body), true);
}

// The live task tree of this thread's runtime: each task's name, state (running, ready,
// waiting on ...) and its open task groups with their children, indented.
// Errors: none; outside a runtime returns "no runtime".
//
//   fmt::print("{}", coring::dump_tasks());
std::string dump_tasks();

}  // namespace coring
