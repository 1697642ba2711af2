// Layers 3-4 internals: the task node (one logical task, what the loop resumes frames for)
// and the cancel-scope tree (Trio's cancel status) that every suspension point consults.
// Structured concurrency (layer 5) builds on these; nothing here knows of it beyond two
// fields a task's extras keep for it.
// Users never include this directly; awaitables in the public headers build on it.
#pragma once

#include <cstdint>
#include <new>
#include <string>
#include <utility>

#include "coring/detail/frame_allocator.hpp"
#include "coring/detail/ilist.hpp"
#include "coring/detail/loop.hpp"
#include "coring/errors.hpp"

namespace coring::detail {

struct scope_tag {};
struct child_scope_tag {};

struct task_node;
struct wait_list;

// A suspension that cancellation may cut short. `abort` must not resume the task itself:
// it arranges for the task to be resumed later (submit an ASYNC_CANCEL, unlink from a wait
// list and post to the ready queue, ...). Null `abort` means the wait ignores cancellation
// (joining children: cancellation reaches them through the scope tree).
struct wait_hook {
  void (*abort)(wait_hook*) noexcept = nullptr;
  const char* what = "";
  bool aborted = false;
};

// Trio's cancel status: one per cancel scope, arranged in a tree. `effective` is cached so
// that checking for cancellation at a suspension point costs one load.
struct scope_state : hook<child_scope_tag> {
  scope_state* parent = nullptr;
  ilist<scope_state, child_scope_tag> children;
  ilist<task_node, scope_tag> tasks;
  struct deadline_timer : timer_entry {
    scope_state* owner = nullptr;
  };
  // Made by the first set_deadline unless the scope's owner lends one (scope_guard, whose
  // scopes are the timeouts): most scopes (every spawned task has one) never get a
  // deadline, and a 40-byte timer in each would be a sixth of a task's memory.
  deadline_timer* deadline = nullptr;
  bool deadline_owned = false;  // allocated by set_deadline, freed with the scope
  bool cancel_called = false;
  bool shield = false;
  bool effective = false;

  scope_state(scope_state* parent, bool shield) noexcept;
  ~scope_state();
  scope_state(const scope_state&) = delete;
  scope_state& operator=(const scope_state&) = delete;

  // Lends `t` (which must outlive the scope) as the deadline timer.
  void lend_deadline(deadline_timer& t) noexcept {
    t.owner = this;
    t.fire = &deadline_fired;
    deadline = &t;
  }
  static void deadline_fired(timer_entry* t) noexcept;
  // Cancels every task in this scope and in its non-shielded descendants.
  void cancel() noexcept;
  // (Re)arms the deadline; a deadline in the past cancels at once.
  void set_deadline(time_point when);
  // True when a cancelled exception leaving this scope is this scope's own to catch: it
  // was cancelled and nothing outside it is.
  bool owns_cancellation() const noexcept {
    return cancel_called && !(parent && parent->effective && !shield);
  }
};

// A task's name: nothing at all for a task spawned without one (the common case, so
// spawning stays cheap), a pointer to a string literal for one spawned with a literal name
// (nothing copied), else a string of its own in frame-pool memory. 8 bytes (in the task's
// extras) where a std::string takes 32. A literal is told from a string of its own by the
// top bit of the word, which no user-space address has on the 64-bit targets io_uring
// runs on.
class task_name {
 public:
  task_name() = default;
  task_name(const task_name&) = delete;
  task_name& operator=(const task_name&) = delete;
  ~task_name() { reset(); }
  task_name& operator=(std::string s) {
    reset();
    if (!s.empty()) bits_ = reinterpret_cast<std::uintptr_t>(pool_new<std::string>(std::move(s)));
    return *this;
  }
  // Names the task `literal`, which must live as long as the program (a string literal).
  void set_static(const char* literal) noexcept {
    reset();
    if (*literal) bits_ = reinterpret_cast<std::uintptr_t>(literal) | static_bit;
  }
  bool empty() const noexcept { return bits_ == 0; }
  // Only when !empty(). A literal name becomes a string of its own on the first read
  // (reading a name is rare: an error report, dump_tasks, handle.name()).
  // Errors: std::bad_alloc.
  const std::string& str() {
    if (bits_ & static_bit) *this = std::string(reinterpret_cast<const char*>(bits_ & ~static_bit));
    return *reinterpret_cast<std::string*>(bits_);
  }

 private:
  static constexpr std::uintptr_t static_bit = std::uintptr_t(1) << 63;
  static_assert(sizeof(std::uintptr_t) == 8, "task_name tags a 64-bit address");
  void reset() noexcept {
    if (!(bits_ & static_bit)) pool_delete(reinterpret_cast<std::string*>(bits_));
    bits_ = 0;
  }
  std::uintptr_t bits_ = 0;
};

// What few tasks have, made in pool memory the first time one is needed: a name, and for
// a spawned child (task_group.hpp) a cancel scope of its own and the tasks awaiting its
// handle. The id moves in here with them.
struct task_extras {
  std::uint64_t id = 0;
  task_name name;  // empty until read: display_name() makes "task-<id>"
  // A child's own cancel scope, between the group's scope and the scopes the child
  // entered: made by the first cancel() through a handle (until then the child runs in the
  // group's scope directly, which cancels it the same way).
  scope_state* own_scope = nullptr;
  // Tasks blocked in `co_await handle`, woken (final) when the child finishes, before the
  // group reacts to its outcome: an awaiter learns the child's own result even when that
  // result is a failure that is about to cancel the awaiter. Made by the first awaiter.
  wait_list* done_waiters = nullptr;
};

// A task's id, and its extras once it has any, in one word: the id with the top bit set
// until then. A node without it would hold an id, a name and a pointer to the extras, 16
// bytes more in every task (a live trivial task: 160 bytes instead of 144). Ids count up
// from 1 and never reach the top bit, which no user-space address has.
class task_info {
 public:
  task_info() = default;
  task_info(const task_info&) = delete;
  task_info& operator=(const task_info&) = delete;
  ~task_info() { pool_delete(extras()); }

  std::uint64_t id() const noexcept { return (bits_ & inline_bit) ? bits_ & ~inline_bit : extras()->id; }
  // Gives the task its id: before anything (a name) made its extras.
  void set_id(std::uint64_t id) noexcept { bits_ = id | inline_bit; }
  // Null while the task has none.
  task_extras* extras() const noexcept {
    return (bits_ & inline_bit) ? nullptr : reinterpret_cast<task_extras*>(bits_);
  }
  // The extras, made now if need be. Errors: std::bad_alloc.
  task_extras& more() {
    if (task_extras* e = extras()) return *e;
    auto* e = pool_new<task_extras>();
    e->id = bits_ & ~inline_bit;
    bits_ = reinterpret_cast<std::uintptr_t>(e);
    return *e;
  }

 private:
  static constexpr std::uintptr_t inline_bit = std::uintptr_t(1) << 63;
  std::uintptr_t bits_ = inline_bit;
};

// One logical task: the chain of coroutine frames that `co_await` links together. Spawned
// children get their own node; a plain `co_await child()` runs in the caller's node.
struct task_node : schedulable, hook<scope_tag> {  // schedulable first: this_task() is a no-op cast
  scope_state* scope = nullptr;  // innermost cancel scope
  wait_hook* wait = nullptr;     // what the task is suspended on, if anything
  mutable task_info info;        // id, and extras (the name) once there are any

  bool cancelled() const noexcept { return scope->effective; }
  std::uint64_t id() const noexcept { return info.id(); }
  // Names the task (an empty name leaves it unnamed). Errors: std::bad_alloc.
  void set_name(std::string s) {
    if (!s.empty()) info.more().name = std::move(s);
  }
  // The task's name; a task spawned without one is called "task-<id>" (built on first read,
  // so spawning stays cheap).
  const std::string& display_name() const {
    task_extras& e = info.more();
    if (e.name.empty()) e.name = "task-" + std::to_string(e.id);
    return e.name.str();
  }
  // Moves this task into `s` (a child of its current scope) or back out of it.
  void enter(scope_state& s) noexcept {
    ilist<task_node, scope_tag>::erase(*this);
    scope = &s;
    s.tasks.push_back(*this);
  }
};

// The task running now (null outside a runtime). Every unit the loop resumes is a task node.
inline task_node* this_task() noexcept { return static_cast<task_node*>(this_thread().current); }
// The task running now, for awaitables: awaiting a coring operation in a coroutine that no
// coring runtime drives is a programming error reported here (std::logic_error), not a
// crash.
[[noreturn]] void no_running_task();
inline task_node* running_task() {
  task_node* n = this_task();
  if (!n) [[unlikely]] no_running_task();
  return n;
}
// For await_ready (noexcept): false outside a task, so await_suspend reports the misuse.
inline bool current_task_cancelled() noexcept {
  task_node* n = this_task();
  return n && n->cancelled();
}
inline task_node& current_node() { return *running_task(); }
// For a cancellation point that may complete without suspending (a write accepted at once,
// a wait whose condition already holds): it raises a pending cancellation all the same.
inline void throw_if_cancelled() {
  if (running_task()->cancelled()) throw cancelled{};
}

}  // namespace coring::detail
