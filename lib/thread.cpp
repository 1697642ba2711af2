// Cross-thread calls (thread.hpp): the protocol of detail::remote_call.
#include "coring/thread.hpp"

#include <cstdio>

#include <fmt/format.h>

namespace coring {

unsigned thread_index() noexcept {
  detail::hub* h = detail::this_hub();
  return h ? h->index() : 0;
}

unsigned thread_count() noexcept {
  if (detail::hub* h = detail::this_hub()) return h->set().size();
  return detail::this_thread().lp ? 1 : 0;
}

namespace detail {

void bad_thread_index(const char* call, unsigned k) {
  throw std::invalid_argument(fmt::format("coring::{}: thread {} does not exist (the runtime has {} loop threads, "
                                          "0..{}); set runtime_options::threads",
                                          call, k, thread_count(), thread_count() == 0 ? 0 : thread_count() - 1));
}

remote_call::remote_call(unsigned k, std::string name)
    : home_(this_hub()), target_(&home_->set().at(k)), name_(std::move(name)) {
  start_msg_.call = cancel_msg_.call = done_msg_.call = this;
  start_msg_.run = &on_start;
  cancel_msg_.run = &on_cancel;
  done_msg_.run = &on_done_msg;
  w_.call = this;
  std::snprintf(what_, sizeof what_, "a task on thread %u", k);
}

remote_call::~remote_call() {
  if (in_flight_) {
    // Only a task tree torn down without being cancelled first (a runtime destroyed while
    // suspended) gets here: the child on the other thread still writes into this frame.
    std::fputs("coring: fatal: a task waiting in on_thread was destroyed while its child still runs on another "
               "thread\n",
               stderr);
    std::terminate();
  }
}

bool remote_call::await_suspend(std::coroutine_handle<> h) {
  if (!w_.park(h, &on_abort, what_)) return false;
  in_flight_ = true;
  ++home_->remote_waits;
  target_->post(start_msg_);
  return true;
}

void remote_call::await_resume() {
  w_.done_waiting();
  if (w_.refused) throw cancelled{};
  if (error_) std::rethrow_exception(error_);
}

// A, when the caller is cancelled: the call stays parked until `done` comes back.
void remote_call::on_abort(wait_hook* w) noexcept {
  remote_call* c = static_cast<call_waiter*>(static_cast<waiter*>(w))->call;
  const unsigned old = c->state_.fetch_or(cancel_bit, std::memory_order_acq_rel);
  if (!(old & finished_bit)) c->target_->post(c->cancel_msg_);
}

// B: start the child in a scope of its own under this thread's root scope.
void remote_call::on_start(remote_item* m) noexcept {
  remote_call* c = static_cast<msg*>(m)->call;
  hub& here = *c->target_;
  loop& l = here.owner_loop();
  c->scope_.emplace(&here.root_scope(), false);
  c->child_.info.set_id(l.next_task_id());
  c->child_.set_name(c->name_);
  c->child_.enter(*c->scope_);
  try {
    c->frame_ = c->make_(c);
  } catch (...) {  // the child's first frame could not be allocated
    c->error_ = std::current_exception();
    ilist<task_node, scope_tag>::erase(c->child_);
    c->scope_.reset();
    c->child_finished();
    return;
  }
  c->promise_->owner = c;
  l.post(c->frame_, &c->child_);
}

void remote_call::task_ended(promise_base&) noexcept {
  remote_call* c = this;
  if (c->promise_->error)
    c->error_ = c->promise_->error;
  else
    c->take_(c, *c->promise_);
  c->frame_.destroy();  // on the thread whose allocator made it
  c->frame_ = {};
  c->promise_ = nullptr;
  c->target_->owner_loop().forget(c->child_);
  ilist<task_node, scope_tag>::erase(c->child_);
  c->scope_.reset();
  c->child_finished();
}

void remote_call::child_finished() noexcept {
  finished_ = true;
  const unsigned old = state_.fetch_or(finished_bit, std::memory_order_acq_rel);
  if (!(old & cancel_bit) || cancel_seen_) home_->post(done_msg_);
  // else: A's cancel message is on its way here; on_cancel sends `done`.
}

// B: the caller was cancelled.
void remote_call::on_cancel(remote_item* m) noexcept {
  remote_call* c = static_cast<msg*>(m)->call;
  c->cancel_seen_ = true;
  if (c->finished_)
    c->home_->post(c->done_msg_);
  else
    c->scope_->cancel();
}

// A: the child has ended; its outcome is in.
void remote_call::on_done_msg(remote_item* m) noexcept {
  remote_call* c = static_cast<msg*>(m)->call;
  c->in_flight_ = false;
  --c->home_->remote_waits;
  c->w_.done_waiting();
  c->w_.wake(false);
}

}  // namespace detail

task<std::vector<runtime_stats>> thread_stats() {
  std::vector<runtime_stats> out;
  const unsigned n = thread_count();
  for (unsigned k = 0; k < n; ++k)
    out.push_back(co_await on_thread(k, []() -> task<runtime_stats> { co_return stats(); }));
  co_return out;
}

runtime_stats total(const std::vector<runtime_stats>& per_thread) {
  runtime_stats t;
  for (const runtime_stats& s : per_thread) {
    if (t.ring_flags.empty()) {
      t.ring_flags = s.ring_flags;
      t.thread = s.thread;
    }
    t.enters += s.enters;
    t.sqes += s.sqes;
    t.cqes += s.cqes;
    t.iterations += s.iterations;
    t.tasks += s.tasks;
    t.frames += s.frames;
    t.timers += s.timers;
    t.wakeups_sent += s.wakeups_sent;
    t.wakeups_received += s.wakeups_received;
  }
  return t;
}

}  // namespace coring
