#include <cstdio>
#include <exception>
#include <stdexcept>

#include "coring/detail/scope.hpp"

namespace coring::detail {

void no_running_task() {
  throw std::logic_error(
      "coring: no coring task is running here; await coring operations (sleep, checkpoint, queue, "
      "semaphore, timeouts, task groups, I/O) only inside a coring::task run by coring::run(...) "
      "or runtime::run(...)");
}

namespace {

void propagate(scope_state& s) noexcept {
  s.effective = true;
  s.tasks.for_each([](task_node& t) {
    wait_hook* w = t.wait;
    if (w && w->abort && !w->aborted) {
      w->aborted = true;
      w->abort(w);
    }
  });
  s.children.for_each([](scope_state& c) {
    if (!c.shield && !c.effective) propagate(c);
  });
}

}  // namespace

scope_state::scope_state(scope_state* p, bool shielded) noexcept : parent(p), shield(shielded) {
  if (parent) {
    parent->children.push_back(*this);
    effective = !shield && parent->effective;
  }
}

scope_state::~scope_state() {
  if (deadline) {
    if (deadline->armed()) current_loop().remove_timer(*deadline);
    if (deadline_owned) pool_delete(deadline);
  }
  if (!tasks.empty() || !children.empty()) {
    // A scope must be left by every task and nested scope before it dies; anything else
    // means a frame holding it was destroyed out of order, and continuing would corrupt
    // the scope tree.
    std::fputs(
        "coring: fatal: a cancel scope or task group was destroyed while tasks were still "
        "inside it (un-joined scope); scopes must be left in the order they were entered\n",
        stderr);
    std::fflush(stderr);
    std::terminate();
  }
}

void scope_state::cancel() noexcept {
  if (cancel_called) return;
  cancel_called = true;
  if (deadline && deadline->armed()) current_loop().remove_timer(*deadline);
  if (!effective) propagate(*this);
}

void scope_state::deadline_fired(timer_entry* t) noexcept { static_cast<deadline_timer*>(t)->owner->cancel(); }

void scope_state::set_deadline(time_point when) {
  loop& l = current_loop();
  if (!deadline) {
    lend_deadline(*pool_new<deadline_timer>());
    deadline_owned = true;
  }
  l.remove_timer(*deadline);
  if (cancel_called) return;
  deadline->when = when;
  if (when <= clock::now()) {
    cancel();
    return;
  }
  l.add_timer(*deadline);
}

}  // namespace coring::detail
