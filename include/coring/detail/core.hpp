// Layer 2 internals: the proactor loop, task nodes, cancel-scope state, waits, timers.
// Users never include this directly; awaitables in the public headers build on it.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "coring/clock.hpp"
#include "coring/detail/ilist.hpp"
#include "coring/detail/ring.hpp"
#include "coring/errors.hpp"

namespace coring {
struct runtime_options;
}  // namespace coring

namespace coring::detail {

struct scope_tag {};
struct child_scope_tag {};
struct node_group_tag {};

struct task_node;
struct group_state;

// A suspension that cancellation may cut short. `abort` must not resume the task itself:
// it arranges for the task to be resumed later (submit an ASYNC_CANCEL, unlink from a wait
// list and post to the ready queue, ...). Null `abort` means the wait ignores cancellation
// (the join of a task group: cancellation reaches the children through the scope tree).
struct wait_hook {
  void (*abort)(wait_hook*) noexcept = nullptr;
  const char* what = "";
  bool aborted = false;
};

// A deadline in the loop's timer heap. A deadline of time_point::max() means "never" and is
// not armed at all. Equal deadlines fire in the order they were armed (`seq`), as they do
// under real time, where a later arm reads a later clock.
struct timer_entry {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  time_point when{};
  void (*fire)(timer_entry*) noexcept = nullptr;
  std::size_t index = npos;
  std::uint64_t seq = 0;
  bool armed() const noexcept { return index != npos; }
};

// Trio's cancel status: one per cancel scope, arranged in a tree. `effective` is cached so
// that checking for cancellation at a suspension point costs one load.
struct scope_state : hook<child_scope_tag> {
  scope_state* parent = nullptr;
  ilist<scope_state, child_scope_tag> children;
  ilist<task_node, scope_tag> tasks;
  struct deadline_timer : timer_entry {
    scope_state* owner = nullptr;
  } deadline;
  bool cancel_called = false;
  bool shield = false;
  bool effective = false;

  scope_state(scope_state* parent, bool shield) noexcept;
  ~scope_state();
  scope_state(const scope_state&) = delete;
  scope_state& operator=(const scope_state&) = delete;

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

// One logical task: the chain of coroutine frames that `co_await` links together. Spawned
// children get their own node; a plain `co_await child()` runs in the caller's node.
struct task_node : hook<scope_tag> {
  scope_state* scope = nullptr;  // innermost cancel scope
  wait_hook* wait = nullptr;     // what the task is suspended on, if anything
  mutable std::string name;      // empty until read: display_name() makes "task-<id>"
  task_node* parent = nullptr;   // the task that opened the group this one runs in
  ilist<group_state, node_group_tag> groups;  // groups this task has open (for dump_tasks)
  std::uint64_t id = 0;
  unsigned queued = 0;           // entries in the ready queue

  bool cancelled() const noexcept { return scope->effective; }
  // The task's name; a task spawned without one is called "task-<id>" (built on first read,
  // so spawning stays cheap).
  const std::string& display_name() const {
    if (name.empty()) name = "task-" + std::to_string(id);
    return name;
  }
  // Moves this task into `s` (a child of its current scope) or back out of it.
  void enter(scope_state& s) noexcept {
    ilist<task_node, scope_tag>::erase(*this);
    scope = &s;
    s.tasks.push_back(*this);
  }
};

// Every SQE's user_data is the address of one of these, with a small tag in the low bits
// telling the owner which of its SQEs the CQE answers.
struct completion {
  void (*complete)(completion*, const io_uring_cqe&) noexcept;
};
enum cqe_tag : std::uintptr_t { tag_op = 0, tag_cancel = 1, tag_link_timeout = 2, tag_mask = 7 };
inline std::uint64_t user_data(completion* c, cqe_tag t) noexcept {
  return reinterpret_cast<std::uintptr_t>(c) | t;
}

struct loop_counters {
  std::uint64_t iterations = 0;
  std::uint64_t tasks = 0;
  std::uint64_t timers_fired = 0;
};

class loop {
 public:
  explicit loop(const runtime_options& opts);
  ~loop();
  loop(const loop&) = delete;
  loop& operator=(const loop&) = delete;

  // Queues `h` (a suspended frame of task `n`) to be resumed in the next iteration.
  void post(std::coroutine_handle<> h, task_node* n) {
    if (count_ == cap_) grow();
    buf_[(head_ + count_) & (cap_ - 1)] = {h, n};
    ++count_;
    ++n->queued;
  }
  // An SQE whose single final CQE (one without IORING_CQE_F_MORE) the loop will wait for.
  io_uring_sqe* get_sqe() {
    io_uring_sqe* s = ring_.get_sqe();
    ++outstanding_;
    return s;
  }
  void reserve(unsigned n) { ring_.reserve(n); }
  // The SQE just queued usually completes during the submit itself (a send on a socket
  // with room): batch mode may then wait for its CQE plus the next event in one enter.
  void note_inline_completion() noexcept { ring_.note_inline(); }
  // Work finishing outside the ring that will be announced by a CQE (e.g. MSG_RING from a
  // worker thread): counts as outstanding so the loop waits for it instead of stopping.
  void expect_cqe() noexcept { ++outstanding_; }
  // An expected CQE that will not come after all (the work was withdrawn).
  void unexpect_cqe() noexcept { --outstanding_; }

  // Arms `t` for t.when (re-arms it if armed); a deadline of time_point::max() is never
  // armed. The heap orders by (when, arming order).
  void add_timer(timer_entry& t);
  void remove_timer(timer_entry& t) noexcept;
  // The virtual clock's current time when the loop runs on virtual time, else null.
  const time_point* virtual_clock() const noexcept { return virtual_time_ ? &virtual_now_ : nullptr; }

  // Runs iterations until `done` becomes true. Throws std::logic_error when nothing can
  // ever make progress (no ready task, no operation in flight, no timer).
  void run_until(const bool& done);
  // Drops the ready entries of a task that is being destroyed.
  void forget(task_node& n) noexcept;
  // Blocks (entering the kernel) until `pending` drops to zero. Used only by destructors of
  // operations torn down while the kernel still owns their memory.
  void drain(const std::uint16_t& pending);

  scope_state& root_scope() noexcept { return root_scope_; }
  ring& uring() noexcept { return ring_; }
  const loop_counters& counters() const noexcept { return counters_; }
  loop_counters& counters() noexcept { return counters_; }
  std::uint64_t next_task_id() noexcept { return ++counters_.tasks; }
  std::uint64_t outstanding() const noexcept { return outstanding_; }
  task_node* root_node() const noexcept { return root_node_; }
  void set_root_node(task_node* n) noexcept { root_node_ = n; }
  unsigned wait_batch() const noexcept { return wait_batch_; }
  void set_wait_batch(unsigned n, long long timeout_ns) noexcept {
    wait_batch_ = n ? n : 1;
    batch_timeout_ns_ = timeout_ns;
  }

 private:
  struct entry {
    std::coroutine_handle<> h;
    task_node* node;
  };
  void grow();
  void run_once(const bool& done);
  void fire_timers(time_point now);
  void jump_to_next_timer();
  void reap();
  void heap_up(std::size_t i) noexcept;
  void heap_down(std::size_t i) noexcept;

  ring ring_;
  entry* buf_ = nullptr;
  std::size_t head_ = 0, count_ = 0, cap_ = 0;
  std::vector<timer_entry*> timers_;
  std::uint64_t timer_seq_ = 0;
  bool virtual_time_ = false;
  time_point virtual_now_{};
  std::uint64_t outstanding_ = 0;
  scope_state root_scope_{nullptr, false};
  task_node* root_node_ = nullptr;
  loop_counters counters_;
  unsigned wait_batch_ = 1;
  long long batch_timeout_ns_ = 5'000'000;
};

struct thread_state {
  loop* lp = nullptr;
  task_node* node = nullptr;
  const time_point* virtual_now = nullptr;  // what coring::clock::now() reads, if set
};
extern thread_local thread_state tls [[gnu::tls_model("initial-exec")]];

// All access to `tls` goes through here. GCC 12's UBSan mis-reports the address of an
// initial-exec thread-local used inside a coroutine as null; the accessor is exempt from
// that check (it cannot be null) so the sanitizer suite reports only real problems.
[[gnu::no_sanitize_undefined]] inline thread_state& this_thread() noexcept { return tls; }
// The task running now (null outside a runtime).
inline task_node* this_task() noexcept { return this_thread().node; }

// The loop running on this thread; calling an awaitable outside coring::run is a
// programming error reported here.
loop& current_loop_checked();
inline loop& current_loop() {
  loop* l = this_thread().lp;
  return l ? *l : current_loop_checked();
}
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
// True inside a runtime that runs on virtual time.
inline bool virtual_time_active() noexcept { return this_thread().virtual_now != nullptr; }

}  // namespace coring::detail
