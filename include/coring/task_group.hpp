// Structured concurrency (layer 5): task groups, like Python's asyncio.TaskGroup and
// Trio's nurseries. The example at with_task_group (examples/task_group_basic.cpp) shows
// the shape: spawn children in the body, leave the block, read the handles.
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
// Waiting on one child: `co_await handle` (its value or error; never cancels it). Starting
// a child and waiting until it is ready: `co_await tg.start<T>(fn)` (Trio's
// nursery.start). First of several to finish: coring::race (race.hpp); helpers that wait
// for all or the first success: gather.hpp.
#pragma once

#include <concepts>
#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "coring/detail/wait_list.hpp"
#include "coring/detail/waiter.hpp"
#include "coring/exception_group.hpp"
#include "coring/task.hpp"

namespace coring {

class task_group;
template <class T>
class task_handle;

namespace detail {

struct group_state;

// The name given to spawn: a string literal (or any array of static storage known at
// compile time) is kept as a pointer, with nothing copied (the task's extras, 32 bytes of
// pool memory, hold it); anything else (std::string, std::string_view, a char pointer or
// buffer) is copied. A local const char array cannot be told from a literal by its type
// and is refused at compile time (its address is not a constant); pass std::string(buf).
class name_arg {
 public:
  name_arg() = default;
  template <std::size_t N>
  consteval name_arg(const char (&literal)[N]) noexcept : literal_(literal) {}
  template <std::size_t N>
  name_arg(char (&buffer)[N]) : owned_(std::in_place, buffer) {}
  template <class P>
    requires std::same_as<P, const char*> || std::same_as<P, char*>
  name_arg(P s) : owned_(std::in_place, s) {}
  name_arg(std::string s) noexcept : owned_(std::move(s)) {}
  name_arg(std::string_view s) : owned_(std::in_place, s) {}

  // Gives the name to `n`. Errors: std::bad_alloc (the task's extras, which hold the name,
  // and a copied name are made in the pool).
  void apply(task_node& n) && {
    if (literal_ && *literal_)
      n.info.more().name.set_static(literal_);
    else if (owned_)
      n.set_name(std::move(*owned_));
  }

 private:
  const char* literal_ = nullptr;
  std::optional<std::string> owned_;
};

// A spawned task: its node and its outcome, made in the room at the start of the frame's
// block (task.hpp: frame_prefix), so a spawn allocates one block. Shared by the group and
// the handles: when handles outlive the frame, the block stays (the frame's memory, dead,
// then holds the task's outcome: its exception, or its value when a handle can still read
// it) and the last reference frees it. Every spawn makes one, so its size is the memory of
// a live task beside the frame (56 bytes): what few tasks use (a name, awaiters of the
// handle, a scope of its own for cancelling it alone) is allocated when first used (the
// node's task_extras, whose pointer shares a word with the id), the handle count and
// outcome flags sit in the node's spare word, and what can be found otherwise is not
// stored: who spawned it (the group's owner), the group's list of its children (they are
// the tasks below the group's scope that name the group), how to end it (one finisher per
// value type, child_finisher<T>, finds the state from the frame) and how to destroy a kept
// value (a function pointer kept beside it in the dead frame).
struct child_base : task_node {
  group_state* group;

  // Two references to start with: the group's, and the handle spawn returns.
  child_base(group_state& g) noexcept : group(&g) { unit_word = spawned_bit | 2 * one_ref; }
  ~child_base();
  // The spare word of the node: handles and the group (until the child finishes) counted
  // from bit 5, the outcome flags (failed: an exception is kept; value: a value with a
  // destructor is kept), and spawned, which tells a child's node from a root task's.
  static constexpr std::uint32_t finished_bit = 1, cancelled_bit = 2, failed_bit = 4, value_bit = 8, spawned_bit = 16,
                                 one_ref = 32;
  // True when `n` is a spawned task's node (false for a root task: run()'s, a thread call's).
  static bool is_child(const task_node& n) noexcept { return n.unit_word & spawned_bit; }
  bool finished() const noexcept { return unit_word & finished_bit; }
  bool was_cancelled() const noexcept { return unit_word & cancelled_bit; }
  std::uint32_t refs() const noexcept { return unit_word / one_ref; }
  void add_ref() noexcept { unit_word += one_ref; }
  void drop_ref() noexcept {
    unit_word -= one_ref;
    if (unit_word < one_ref) [[likely]] {
      if (finished() && nothing_to_destroy())
        release_block(this);
      else
        destroy();
    }
  }
  // Most children end with nothing to destroy: no value or exception kept, no extras (a
  // name, a scope of their own, awaiters), and once finished unlinked from every list.
  // Their destructor would do nothing, so the block is freed without running it.
  bool nothing_to_destroy() const noexcept { return (unit_word & (failed_bit | value_bit)) == 0 && !info.extras(); }
  // Ends the state and frees the block.
  void destroy() noexcept {
    void* block = this;
    this->~child_base();
    release_block(block);
  }
  // The coroutine frame after this state: runs until the child finishes.
  std::coroutine_handle<> frame() const noexcept {
    return std::coroutine_handle<>::from_address(const_cast<unsigned char*>(outcome_memory()));
  }
  bool frame_alive() const noexcept { return spawn_word(const_cast<child_base*>(this)) == 1; }
  // The state of the child whose coroutine frame is at `frame`.
  static child_base& of_frame(void* frame) noexcept {
    return *std::launder(static_cast<child_base*>(frame_block_of(frame)));
  }
  // The failure (not a cancellation) the child ended with, or null.
  std::exception_ptr failure() const noexcept {
    return (unit_word & failed_bit) ? *error_slot() : std::exception_ptr();
  }
  // Where a finished child keeps its outcome: in its dead frame, which is at least as large
  // as the promise that held that outcome (an exception_ptr, then the value 16 bytes in,
  // and between them the kept value's destructor).
  const unsigned char* outcome_memory() const noexcept {
    return reinterpret_cast<const unsigned char*>(this) + frame_prefix;
  }
  std::exception_ptr* error_slot() const noexcept {
    return std::launder(reinterpret_cast<std::exception_ptr*>(const_cast<unsigned char*>(outcome_memory())));
  }
  using value_destructor = void (*)(void*) noexcept;
  value_destructor* destructor_slot() const noexcept {
    return std::launder(reinterpret_cast<value_destructor*>(const_cast<unsigned char*>(outcome_memory()) + 8));
  }
  static constexpr std::size_t value_offset = 16;
  void* value_memory() const noexcept { return const_cast<unsigned char*>(outcome_memory()) + value_offset; }
  wait_list& awaiters();
  // Cancels this child only (task_handle::cancel).
  void cancel_alone() noexcept;
  // The frame's final suspend: records the outcome (`keep`, when given, destroys the frame
  // and keeps the value if a handle can still read it), destroys the frame, leaves the
  // scope tree and the group (reporting a failure to it), drops the group's reference and
  // wakes the group's joiner after the last child.
  void end(promise_base& p, void (*keep)(child_base*, promise_base&) noexcept) noexcept;
  // end()'s path for a frame that threw: a cancellation marks the child cancelled, any
  // other exception is kept (after the frame is destroyed) as its failure. Out of line, so
  // the usual end holds no exception_ptr of its own.
  [[gnu::noinline]] void end_frame_with_error(promise_base& p) noexcept;
  void detach() noexcept;
  // After the state has been destroyed: frees the block if the frame has ended, else leaves
  // it to the frame (a child that never started: its task still owns the frame).
  static void release_block(void* block) noexcept {
    std::uint64_t& word = spawn_word(block);
    if (word > 1) [[likely]] {
      const std::size_t c = word >> 1;
      word = 0;  // the allocator's: zero in a free block
      frame_free_class_clean(block, c);
    } else
      word = 0;  // the frame still runs (it never started): freeing it frees the block
  }
};

template <class T>
struct child_state final : child_base {
  static_assert(alignof(T) <= 16, "coring::task_group::spawn: a task's value type may be aligned to at most 16 bytes");
  using child_base::child_base;
  T& value() const noexcept { return *std::launder(static_cast<T*>(value_memory())); }
};
template <>
struct child_state<void> final : child_base {
  using child_base::child_base;
};

// Tells a spawned task's state that its frame reached its final suspend. One object per
// value type serves every child of that type (the promise's owner), where a finisher in
// each state took 8 bytes of every live task: the state is found from the frame.
template <class T>
struct child_finisher final : finisher {
  void task_ended(promise_base& p) noexcept override {
    void* frame = std::coroutine_handle<promise<T>>::from_promise(static_cast<promise<T>&>(p)).address();
    child_base& c = child_base::of_frame(frame);
    if constexpr (std::is_void_v<T>) {
      c.end(p, nullptr);
    } else {
      c.end(p, [](child_base* b, promise_base& q) noexcept {
        T v = std::move(*static_cast<promise<T>&>(q).value);
        b->frame().destroy();
        ::new (b->value_memory()) T(std::move(v));
        if constexpr (!std::is_trivially_destructible_v<T>) {
          *b->destructor_slot() = [](void* m) noexcept { std::launder(static_cast<T*>(m))->~T(); };
          b->unit_word |= child_base::value_bit;
        }
      });
    }
  }
  static child_finisher instance;
};
template <class T>
child_finisher<T> child_finisher<T>::instance;

// The part of a group a task_group handle points at; outlives the group so a late spawn
// through a copied handle can be refused instead of touching freed memory.
struct group_ref {
  group_state* g = nullptr;
  unsigned refs = 1;
};

// Frees a group_ref whose last reference went. Out of line on purpose: with the delete in
// sight, g++ 12 (under ASan) takes two task_group copies sharing one ref for a use after
// free and fails the build (-Wuse-after-free).
void free_group_ref(group_ref* r) noexcept;

// Every group open on this thread sits in one list, in the order opened: dump_tasks walks it
// (the task tree below the loop knows nothing of groups).
struct open_group_tag {};

struct group_state : hook<open_group_tag> {
  scope_state scope;
  task_node& owner;
  std::size_t live = 0;
  std::vector<exception_group::entry> errors;
  group_ref* ref;
  waiter* joiner = nullptr;
  bool supervisor;
  bool aborting = false;

  group_state(task_node& owner, bool supervisor);
  ~group_state();
  void check_can_spawn() const {
    if (aborting) [[unlikely]]
      refuse_spawn();
  }
  [[noreturn]] void refuse_spawn() const;
  // Registers `c` (just made for this group, named `name` unless null or empty) and queues
  // its frame `h` to run, which it then owns; `f` is told when the frame ends. Errors:
  // std::bad_alloc from the name, when `c` is destroyed and `h` left to its owner. Inline:
  // it is most of a spawn.
  void adopt(child_base& c, std::coroutine_handle<> h, promise_base& p, finisher& f, name_arg* name) {
    loop& l = *this_thread().lp;  // a group is open, so a loop runs
    c.info.set_id(l.next_task_id());
    if (name) name_child(c, std::move(*name));
    c.scope = &scope;
    scope.tasks.push_back_unlinked(c);
    p.owner = &f;
    ++live;
    l.post(h, &c);
  }
  // The first child of this group still running, or null: its children are the spawned
  // tasks below the group's scope (in it, or in scopes nested in it) that name the group.
  // The group keeps no list of them (16 bytes in every task, and two more links to make
  // and break per spawn), so this walks the scope tree: for teardown and dump_tasks.
  child_base* first_child() noexcept {
    return find_child(scope, [](const child_base&) { return true; });
  }
  // Calls fn(child) for every child of this group still running, in no particular order.
  template <class F>
  void for_each_child(F&& fn) const {
    find_child(scope, [&](const child_base& c) {
      fn(c);
      return false;
    });
  }
  // Names a child not yet adopted; on failure (std::bad_alloc) destroys it and rethrows.
  static void name_child(child_base& c, name_arg&& name);
  void fail() noexcept;  // first failure: cancel everything inside
  // Adds an error to the report unless it is there already: an exception a child raised
  // before started() is also rethrown by tg.start() and may leave the body or a sibling.
  void record(std::exception_ptr e, std::string task_name);
  // Leaves the group scope and throws what the group's outcome calls for.
  void finish(std::exception_ptr body_error, bool body_cancelled, bool value_lost);

 private:
  // The first child below `s` for which stop(child) is true.
  template <class F>
  child_base* find_child(const scope_state& s, F&& stop) const {
    const task_node* n = s.tasks.find_if([&](const task_node& t) {
      return child_base::is_child(t) && static_cast<const child_base&>(t).group == this &&
             stop(static_cast<const child_base&>(t));
    });
    if (n) return const_cast<child_base*>(static_cast<const child_base*>(n));
    child_base* found = nullptr;
    s.children.find_if([&](const scope_state& inner) { return (found = find_child(inner, stop)) != nullptr; });
    return found;
  }
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

namespace detail {
template <class T, bool Take>
class handle_awaiter;
}

// What spawn() returns: a copyable view of one child, valid after the group ends
// (Python's asyncio.Task as returned by create_task). Copies share the child's state; the
// last one to go frees it. The state sits in the block of the child's frame, so a handle
// kept after the task ended keeps that block (the frame's size; its locals are long
// destroyed, and its memory holds the outcome): drop handles you no longer read. A
// default-constructed or moved-from handle is empty: every call but assignment,
// destruction and `co_await` (which throws std::logic_error) on it is a programming
// error. None of the accessors suspends, so none is a cancellation point.
//
// Example (examples/task_group_handle_results.cpp):
//   for (const auto& h : {good, failed, stopped}) {
//     if (h.cancelled())
//       fmt::print("{}: cancelled\n", h.name());
//     else if (h.exception())
//       fmt::print("{}: failed: {}\n", h.name(), coring::describe_exception(h.exception()));
//     else
//       fmt::print("{}: {}\n", h.name(), h.result());
//   }
template <class T>
class task_handle {
 public:
  task_handle() = default;
  explicit task_handle(detail::child_state<T>* s) noexcept : s_(s) { s_->add_ref(); }
  // Takes over the reference a new child state starts with for it (spawn's handle).
  struct adopt_t {};
  task_handle(detail::child_state<T>* s, adopt_t) noexcept : s_(s) {}
  task_handle(const task_handle& o) noexcept : s_(o.s_) {
    if (s_) s_->add_ref();
  }
  task_handle(task_handle&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  task_handle& operator=(task_handle o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~task_handle() {
    if (s_) s_->drop_ref();
  }

  // True once the task finished: returned, failed or was cancelled. Never throws.
  bool done() const noexcept { return s_->finished(); }
  // True when the task ended by cancellation (not a failure: its group does not report
  // it). False while it runs. Never throws.
  bool cancelled() const noexcept { return s_->was_cancelled(); }
  // The task's exception, or null if it succeeded or was cancelled. The same exception is
  // in the group's exception_group.
  // Errors: std::logic_error before the task finished.
  std::exception_ptr exception() const {
    require_done("exception()");
    return s_->failure();
  }
  // The task's value (void for task<void>), as a reference into the state the handles
  // share (valid while one of them lives). Rethrows the task's exception; throws
  // coring::cancelled if it was cancelled (like Python's Task.result()). To wait for the
  // value instead, `co_await handle`.
  // Errors: std::logic_error before the task finished.
  decltype(auto) result() const {
    require_done("result()");
    if (s_->was_cancelled()) throw coring::cancelled{};
    if (std::exception_ptr e = s_->failure()) std::rethrow_exception(e);
    if constexpr (!std::is_void_v<T>) return static_cast<T&>(s_->value());
  }
  // The name given to spawn, or "task-<id>". Errors: std::bad_alloc only.
  const std::string& name() const { return s_->display_name(); }
  // Cancels this task only (its siblings and the group go on; the task ends as cancelled,
  // which is not a failure). Takes effect at the task's current or next suspension point;
  // returns at once. No effect once it finished. Never throws.
  void cancel() noexcept {
    s_->cancel_alone();
  }

  // `co_await handle`: waits until the task finishes, then returns its value, rethrows its
  // exception, or throws coring::cancelled if it was cancelled (Python's `await task`).
  // Returns at once when it has finished already. Any number of tasks may await the same
  // handle, from inside the group or outside it; each gets the outcome. Zero system calls:
  // the finishing task queues its awaiters to run.
  // Value: awaiting an lvalue handle yields `T&`, the value kept in the handle (valid while
  // a handle to the task lives, like result()); awaiting an rvalue (`co_await
  // std::move(h)`, `co_await tg.spawn(...)`) yields a `T`, moved out when no other handle
  // shares the task and copied otherwise (a T that cannot be copied is moved out anyway).
  // The awaiter learns the task's outcome before the group reacts to it: when the task
  // fails, its awaiters get that exception even though the failure then cancels them.
  // Cancellation: a cancellation point for the awaiter only. A cancelled awaiter stops
  // waiting and gets coring::cancelled (also when the task has finished); the task itself
  // goes on: awaiting never cancels it (call cancel() for that).
  // Errors: the task's own exception; coring::cancelled; std::logic_error on an empty
  // handle or when a task awaits its own handle (it could never finish).
  //
  // Example (examples/task_group_await_handle.cpp):
  //   auto cfg = tg.spawn(load_config(), "config");
  //   auto ticks = tg.spawn(count_ticks(stop), "ticker");
  //   config = co_await cfg;  // waits for "config" only; "ticker" runs meanwhile
  //   stop.set();
  //   ticked = (co_await ticks) > 0;
  auto operator co_await() const& {
    require_valid();
    return detail::handle_awaiter<T, false>(*this);
  }
  auto operator co_await() && {
    require_valid();
    return detail::handle_awaiter<T, true>(std::move(*this));
  }

 private:
  template <class, bool>
  friend class detail::handle_awaiter;
  void require_valid() const {
    if (!s_)
      throw std::logic_error(
          "coring::task_handle: co_await on an empty handle (default-constructed or moved from); "
          "await the handle that tg.spawn returned");
  }
  void require_done(const char* what) const {
    if (!s_->finished())
      throw std::logic_error("coring::task_handle::" + std::string(what) + " on task '" + s_->display_name() +
                             "' before it finished; read it after the task group ends or check done()");
  }
  // The value for `co_await std::move(h)`: moved out when nobody else can see it.
  T take_result() requires(!std::is_void_v<T>) {
    T& v = result();
    if constexpr (std::is_copy_constructible_v<T>) {
      if (s_->refs() > 1) return v;
    }
    return std::move(v);
  }
  detail::child_state<T>* s_ = nullptr;
};

namespace detail {

// The awaiter of `co_await handle`: parks on the child's done_waiters. Holds its own
// handle so the child's state outlives the wait whatever the caller does with theirs.
template <class T, bool Take>
class handle_awaiter {
 public:
  explicit handle_awaiter(task_handle<T> h) noexcept : h_(std::move(h)) {}
  handle_awaiter(handle_awaiter&& o) noexcept : h_(std::move(o.h_)) {}

  bool await_ready() const noexcept {
    // A cancelled awaiter goes through await_suspend, which refuses: a cancellation point
    // even when the task has finished.
    return h_.s_->finished() && !this_task()->cancelled();
  }
  bool await_suspend(std::coroutine_handle<> c) {
    if (this_task() == h_.s_)
      throw std::logic_error("coring::task_handle: task '" + h_.name() +
                             "' awaits its own handle, which would wait forever; await it from another task");
    return w_.wait_on(h_.s_->awaiters(), c, "task handle");
  }
  decltype(auto) await_resume() {
    w_.finish();  // throws cancelled when refused or aborted
    if constexpr (Take && !std::is_void_v<T>)
      return h_.take_result();
    else
      return h_.result();
  }

 private:
  task_handle<T> h_;
  list_waiter w_;
};

}  // namespace detail

template <class T>
class task_status;

namespace detail {
template <class T, class F>
task<T> start_impl(task_group tg, F fn, std::string name);
}  // namespace detail

// A handle to a running group, given to the body of with_task_group. Copies may be kept
// (by children that spawn siblings); after the group ended every spawn through them
// throws std::logic_error. Users get one from with_task_group / with_supervisor, never
// construct one.
class task_group {
 public:
  explicit task_group(detail::group_ref* r) noexcept : r_(r) { ++r_->refs; }
  task_group(const task_group& o) noexcept : r_(o.r_) { ++r_->refs; }
  task_group& operator=(task_group o) noexcept {
    std::swap(r_, o.r_);
    return *this;
  }
  ~task_group() {
    if (--r_->refs == 0) detail::free_group_ref(r_);
  }

  // Starts `work` as a child of this group, named `name` (default "task-<id>"). `work` is
  // a task, any awaitable, or a callable returning one (a lambda coroutine): the callable
  // is kept alive until the child finishes, so its captures stay valid, which a lambda
  // coroutine called in place (`tg.spawn([&]() -> task<> {...}())`) does not guarantee.
  // The child is registered before it first runs and first runs on the next loop turn.
  // Cancellation: never suspends, so not a cancellation point; the child runs in the
  // group's scope (cancelled with the group) and can be cancelled alone by its handle.
  // Errors: std::logic_error when the group has finished or is cancelling (the task is
  // destroyed without running).
  //
  // Example (examples/task_group_spawn.cpp):
  //   nine = tg.spawn(square(3), "square-3");             // a task
  //   tg.spawn(coring::sleep(1ms), "pause");              // any awaitable
  //   for (int i = 0; i < 3; ++i)
  //     tg.spawn([&seen, i]() -> coring::task<> {         // a callable: not called here
  //       co_await coring::checkpoint();
  //       seen.push_back(i);
  //     });
  // Names: a string literal is kept as a pointer (nothing copied); any other
  // string (std::string, string_view, char pointer) is copied; a local const char array is
  // refused at compile time (it could not outlive the call): pass std::string(buf).
  template <class A>
  auto spawn(A work, detail::name_arg name) -> task_handle<detail::spawn_result_t<A>> {
    return spawn_child(std::move(work), &name);
  }
  // The same without a name: nothing is made or stored for one ("task-<id>" is built if
  // and when the name is read).
  template <class A>
  auto spawn(A work) -> task_handle<detail::spawn_result_t<A>> {
    return spawn_child(std::move(work), nullptr);
  }

  // Starts `fn()` (a callable returning a task or an awaitable) as a child of this group
  // that runs on loop thread `k` (runtime_options::threads), named `name`: spawn() of a
  // coring::on_thread(k, fn) call. The group's rules hold across threads: a failure on any
  // thread cancels every sibling on every thread and the body, the group waits for the
  // children of every thread, its exception_group holds every thread's errors, and
  // dump_tasks() shows the child as waiting on its thread. Defined in <coring/thread.hpp>
  // (include it, or coring.hpp, to call this).
  // Cancellation: as spawn; cancelling the child (its handle, the group) cancels it on its
  // thread, kernel operations included.
  // Errors: as spawn; std::invalid_argument when k >= thread_count().
  //
  // Example (examples/thread_spawn_on.cpp):
  //   for (unsigned k = 0; k < coring::thread_count(); ++k)
  //     tg.spawn_on(k, [k]() -> coring::task<> { co_await serve_shard(k); }, fmt::format("shard-{}", k));
  template <class F>
  auto spawn_on(unsigned k, F fn, std::string name = {}) -> task_handle<detail::spawn_result_t<F>>;

  // Cancels the body and every child; the group then ends quietly (no exception unless a
  // child failed). Returns at once (the tasks see the cancellation at their suspension
  // points and the group waits for them); idempotent; no effect on a finished group.
  // Spawning afterwards throws. Never throws.
  //
  // Example (examples/task_group_cancel.cpp):
  //   ticker = tg.spawn([]() -> coring::task<> {
  //     for (;;) co_await coring::sleep(1ms);  // runs until cancelled
  //   }, "ticker");
  //   co_await coring::sleep(3ms);
  //   running = tg.size();                      // 1
  //   tg.cancel();                              // the group then ends without an error
  void cancel() noexcept {
    if (r_->g) {
      r_->g->aborting = true;
      r_->g->scope.cancel();
    }
  }
  // Starts `fn` as a child of this group and waits until it reports that it is ready
  // (Trio's `nursery.start`): `fn` is a callable taking a `coring::task_status<T>&` and
  // returning a task; the child calls `status.started(value)` once it is ready (say, with
  // the port it bound), and start returns that value while the child keeps running in the
  // group. `T` is void for `started()` without a value. The child is named `name`
  // (default "task-<id>") and is a member of the group from the start, with the group's
  // rules: its failure, before or after started(), is a failure of the group (siblings
  // and body cancelled, reported once in the exception_group at exit). The task_status
  // belongs to the child (it lives as long as the child runs); `fn` is kept alive as
  // spawn keeps a callable.
  // Cancellation: a cancellation point. When the caller is cancelled before started(),
  // the child is cancelled too and start returns (throwing coring::cancelled) only after
  // the child has ended, so a cancelled start leaves no half-started child behind. A
  // caller cancelled after started() already has its value.
  // Errors: the child's exception when it fails before started() (coring::cancelled when
  // it was cancelled before started()); std::logic_error when it returns without calling
  // started(); std::logic_error as spawn (group finished or cancelling). A second
  // started() throws std::logic_error inside the child.
  //
  // Example (examples/task_group_start.cpp):
  //   auto serve_one = [](coring::task_status<std::uint16_t>& status) -> coring::task<> {
  //     auto listener = coring::tcp_listener::bind("127.0.0.1", 0);  // any free port
  //     status.started(listener.local_port());                     // start() returns it now
  //     auto conn = co_await listener.accept();
  //     co_await conn.write_all("hello");
  //   };
  //   std::uint16_t port = co_await tg.start<std::uint16_t>(serve_one, "server");
  //   auto client = co_await coring::tcp_stream::connect("127.0.0.1", port);  // already listening
  template <class T = void, class F>
  task<T> start(F fn, std::string name = {}) {
    return detail::start_impl<T>(*this, std::move(fn), std::move(name));
  }

  // Children still running (0 once the group has finished). Never throws. Example: in
  // examples/task_group_cancel.cpp.
  std::size_t size() const noexcept { return r_->g ? r_->g->live : 0; }

 private:
  template <class A>
  auto spawn_child(A work, detail::name_arg* name) -> task_handle<detail::spawn_result_t<A>> {
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
    // The child's state goes in the room at the start of the frame's block (task.hpp).
    static_assert(sizeof(detail::child_state<T>) <= detail::frame_child_room, "a child's state fills the frame's room");
    void* block = detail::frame_block_of(t.handle().address());
    auto* c = ::new (block) detail::child_state<T>(*g);
    detail::spawn_word(block) = 1;
    // On failure adopt ends c, and t frees the frame.
    g->adopt(*c, t.handle(), t.handle().promise(), detail::child_finisher<T>::instance, name);
    (void)t.release();
    return task_handle<T>(c, typename task_handle<T>::adopt_t{});
  }
  detail::group_ref* r_;
};

namespace detail {

class status_base;

// The caller of tg.start(), parked until its child calls started() or ends. Lives in the
// caller's frame; the child's task_status points back at it while both live.
struct start_waiter : waiter {
  status_base* status = nullptr;
  task_handle<void> child;
  std::exception_ptr error;  // the child's, when it ended before started()
  bool started = false;
  bool resolved = false;     // started() was called or the child ended

  start_waiter() = default;
  start_waiter(const start_waiter&) = delete;
  start_waiter& operator=(const start_waiter&) = delete;
  ~start_waiter();
  bool suspend(std::coroutine_handle<> h);
  // In await_resume: returns when the value is in, else throws what start() reports.
  void finish();
  static void on_abort(wait_hook* h) noexcept;
};

template <class T>
struct start_waiter_of final : start_waiter {
  std::optional<T> value;
};
template <>
struct start_waiter_of<void> final : start_waiter {};

class start_awaiter {
 public:
  explicit start_awaiter(start_waiter& w) noexcept : w_(w) {}
  bool await_ready() const noexcept { return w_.resolved; }
  bool await_suspend(std::coroutine_handle<> h) { return w_.suspend(h); }
  void await_resume() { w_.finish(); }

 private:
  start_waiter& w_;
};

// The part of task_status that does not depend on T.
class status_base {
 public:
  status_base(const status_base&) = delete;
  status_base& operator=(const status_base&) = delete;

 protected:
  explicit status_base(start_waiter* w) noexcept;
  // Only the child's frame takes the status over (its parameter copy); it re-links.
  status_base(status_base&& o) noexcept;
  ~status_base();
  // started(): marks the status started and returns the waiter to hand the value to, or
  // null when nobody waits for it any more. Errors: std::logic_error on a second call.
  start_waiter* claim();
  static void resume(start_waiter* w) noexcept;

 private:
  friend struct start_waiter;
  friend struct status_access;
  // The child ended (`e` null: it returned): wakes a caller still waiting.
  void child_ended(std::exception_ptr e) noexcept;
  start_waiter* starter_;
  bool started_ = false;
};

struct status_access {
  template <class T>
  static task_status<T> make(start_waiter_of<T>& w) noexcept {
    return task_status<T>(&w);
  }
  // The child's body: runs fn(status) and reports an end before started() to the caller
  // (woken before the group sees the failure, so it gets the error, not the group's
  // cancellation), then lets the outcome reach the group unchanged.
  template <class T, class F>
  static task<> run(F fn, task_status<T> status) {
    std::exception_ptr err;
    try {
      co_await fn(status);
    } catch (...) {
      err = std::current_exception();
    }
    status.child_ended(err);
    if (err) std::rethrow_exception(err);
  }
};

}  // namespace detail

// The child's side of tg.start(): passed by reference to the function start() runs,
// owned by that child (valid for as long as it runs). Not copyable or movable.
template <class T>
class task_status : detail::status_base {
 public:
  // Reports that the child is ready: tg.start() returns `value` to its caller (queued to
  // run; no system call) while the child goes on. When the caller has stopped waiting
  // (it was cancelled) the value is dropped.
  // Errors: std::logic_error when called a second time (the child then fails with it).
  //
  // Example: examples/task_group_start.cpp, quoted at task_group::start
  // (`status.started(listener.local_port());`).
  void started(T value) {
    if (detail::start_waiter* w = claim()) {
      static_cast<detail::start_waiter_of<T>*>(w)->value.emplace(std::move(value));
      resume(w);
    }
  }

 private:
  friend struct detail::status_access;
  explicit task_status(detail::start_waiter* w) noexcept : status_base(w) {}
  task_status(task_status&&) noexcept = default;
};

// task_status for tg.start() without a value (tg.start(fn) or tg.start<void>(fn)).
template <>
class task_status<void> : detail::status_base {
 public:
  // Reports that the child is ready: tg.start() returns to its caller while the child
  // goes on. Errors: std::logic_error when called a second time.
  //
  // Example: as task_status<T>::started, without the value (`status.started();`).
  void started() {
    if (detail::start_waiter* w = claim()) resume(w);
  }

 private:
  friend struct detail::status_access;
  explicit task_status(detail::start_waiter* w) noexcept : status_base(w) {}
  task_status(task_status&&) noexcept = default;
};

namespace detail {

template <class T, class F>
task<T> start_impl(task_group tg, F fn, std::string name) {
  // Checked before spawning: a cancelled caller starts nothing.
  if (this_task()->cancelled()) throw cancelled{};
  start_waiter_of<T> w;
  w.child = tg.spawn(status_access::run<T>(std::move(fn), status_access::make<T>(w)), std::move(name));
  co_await start_awaiter(w);
  if constexpr (!std::is_void_v<T>) co_return std::move(*w.value);
}

}  // namespace detail

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
// Example (examples/task_group_basic.cpp):
//   coring::task_handle<std::string> a, b;
//   int n = co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<int> {
//     a = tg.spawn(fetch("a"), "fetch-a");
//     b = tg.spawn(fetch("b"), "fetch-b");
//     co_return 2;              // the body's value is the group's, once the children finished
//   });
//   std::string both = a.result() + b.result();  // "<a><b>"
template <class F>
auto with_task_group(F body) -> task<detail::body_result_t<F>> {
  return detail::run_group(std::move(body), false);
}

// Like with_task_group, but a child's failure does not cancel its siblings or the body:
// every task runs to its end and all errors are reported together at exit (the
// partial-failure pattern). Cancellation and errors: as with_task_group.
//
// Example (examples/task_group_supervisor.cpp):
//   std::vector<coring::task_handle<std::string>> handles;
//   try {
//     co_await coring::with_supervisor([&](coring::task_group& tg) -> coring::task<> {
//       for (auto& url : urls) handles.push_back(tg.spawn(fetch(url), url));
//       co_return;
//     });
//   } catch (const coring::exception_group& eg) {
//     errors = eg.size();  // 1: "bad"; "a" and "c" ran to their end
//   }
template <class F>
auto with_supervisor(F body) -> task<detail::body_result_t<F>> {
  return detail::run_group(std::move(body), true);
}

// The live task tree of this thread's runtime: each task's name, state (running, ready,
// waiting on ...) and its open task groups with their children, indented. With several
// loop threads it covers this thread's tasks, under a line "thread K of N:"; a child
// started on another thread (spawn_on, on_thread) shows as "waiting on a task on thread K".
// Not an awaitable (a snapshot taken now). Errors: none besides std::bad_alloc; outside a
// runtime returns "no runtime".
//
// Example (examples/task_group_dump_tasks.cpp):
//   tree = coring::dump_tasks();
//   fmt::print("{}", tree);  // main #1: running / task group: 1 running / sleeper #2: waiting on sleep
std::string dump_tasks();

}  // namespace coring
