// The shared machinery of every suspension point: refuse to suspend in a cancelled scope,
// register as the task's current wait so cancellation can abort it, and wake up through
// the ready queue. Awaitables derive from `waiter` and supply an abort function.
#pragma once

#include <coroutine>

#include "coring/detail/scope.hpp"

namespace coring::detail {

// Where a suspended task resumes: its node and the frame to resume. Awaitables that hold
// their loop elsewhere (a kernel request knows its ring) post through it themselves.
struct resume_point {
  task_node* node = nullptr;
  std::coroutine_handle<> handle;
  void capture(std::coroutine_handle<> h) {
    node = running_task();
    handle = h;
  }
  void resume_on(loop& l) noexcept { l.post(handle, node); }
};

// A suspension that cancellation can cut short, registered as the task's current wait.
// It does not know the loop: the owner either is a kernel request (which does) or is a
// `waiter` (below).
struct parked : wait_hook, resume_point {
  bool refused = false;  // the scope was already cancelled: never suspended

  // Call from await_suspend. Returns false (do not suspend) when the task is already
  // cancelled; await_resume must then call check().
  bool park(std::coroutine_handle<> h, void (*abort_fn)(wait_hook*) noexcept, const char* what_) {
    node = running_task();
    if (node->cancelled()) {
      refused = true;
      return false;
    }
    handle = h;
    abort = abort_fn;
    what = what_;
    aborted = false;
    node->wait = this;
    return true;
  }
  // Call first thing in await_resume (and when the result is in: a later cancellation
  // must not abort a wait whose outcome is decided).
  void done_waiting() noexcept {
    if (node && node->wait == this) node->wait = nullptr;
  }
  // Throws cancelled when the wait never started or was aborted by a cancellation.
  void check() const {
    if (refused || aborted) throw cancelled{};
  }
};

// A parked wait that user space ends (a timer, a queue hand-off, a task group's join): it
// remembers the loop to post the task to.
struct waiter : parked {
  loop* lp = nullptr;

  bool park(std::coroutine_handle<> h, void (*abort_fn)(wait_hook*) noexcept, const char* what_) {
    const bool suspend = parked::park(h, abort_fn, what_);  // first: it reports a missing task
    lp = &current_loop();
    return suspend;
  }
  // Queues the task to resume. With `final` the wait stops being abortable (its result is
  // in and wins over a later cancel); sync primitives pass false so that a hand-off to a
  // waiter cancelled before it resumed can be passed on.
  void wake(bool final = true) noexcept {
    if (final && node->wait == this) node->wait = nullptr;
    lp->post(handle, node);
  }
};

// Enters a cancel scope for the current task on construction and leaves it on destruction.
class scope_guard {
 public:
  explicit scope_guard(bool shield = false)
      : node_(running_task()), scope_(node_->scope, shield) {
    scope_.lend_deadline(timer_);
    node_->enter(scope_);
  }
  ~scope_guard() {
    if (node_->scope == &scope_) node_->enter(*scope_.parent);
  }
  scope_guard(const scope_guard&) = delete;
  scope_guard& operator=(const scope_guard&) = delete;
  scope_state& state() noexcept { return scope_; }
  task_node& node() noexcept { return *node_; }

 private:
  task_node* node_;
  scope_state::deadline_timer timer_;  // before scope_: it must outlive the scope
  scope_state scope_;
};

}  // namespace coring::detail
