// Sleeping and yielding. Timers live in a user-space heap; the loop arms no kernel timer for
// them but passes the earliest deadline as the timeout of its single io_uring_enter, so a
// sleep costs one enter that both submits and waits, and 10,000 equal sleeps cost one.
#pragma once

#include <chrono>
#include <stdexcept>

#include "coring/detail/waiter.hpp"
#include "coring/task.hpp"

namespace coring {

namespace detail {

template <class Rep, class Period>
duration checked_duration(std::chrono::duration<Rep, Period> d, const char* who) {
  if (d < std::chrono::duration<Rep, Period>::zero())
    throw std::invalid_argument(std::string(who) + ": negative duration; pass zero or more");
  return std::chrono::ceil<duration>(d);
}

class sleep_op : waiter, timer_entry {
 public:
  explicit sleep_op(time_point when) noexcept : when_(when) {}
  sleep_op(sleep_op&& o) noexcept : when_(o.when_) {}
  ~sleep_op() {
    if (armed()) lp->remove_timer(*this);
  }
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    if (!park(h, &on_abort, "sleep")) return false;
    this->when = when_;
    this->fire = &on_fire;
    lp->add_timer(*this);
    return true;
  }
  void await_resume() {
    done_waiting();
    check();
  }
  // A sleep is an awaitable for speed; it converts to a task where one is needed
  // (`coring::task<> t = coring::sleep(1s);`).
  operator task<>() && { return as_task(sleep_op(when_)); }

 private:
  static void on_fire(timer_entry* t) noexcept { static_cast<sleep_op*>(t)->wake(); }
  static void on_abort(wait_hook* w) noexcept {
    auto* self = static_cast<sleep_op*>(static_cast<waiter*>(w));
    self->lp->remove_timer(*self);
    self->wake(false);
  }
  time_point when_;
};

class checkpoint_op {
 public:
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    node_ = running_task();
    if (node_->cancelled()) return false;
    current_loop().post(h, node_);
    return true;
  }
  void await_resume() const {
    if (node_->cancelled()) throw cancelled{};
  }
  operator task<>() const { return as_task(checkpoint_op{}); }

 private:
  task_node* node_ = nullptr;
};

}  // namespace detail

// Suspends until `when` (steady clock). A time in the past still yields once.
// Cancellation: a cancellation point; a cancelled sleep throws coring::cancelled at once
// (the timer is removed). Errors: none besides cancellation.
//
//   co_await coring::sleep_until(coring::clock::now() + 50ms);
inline detail::sleep_op sleep_until(time_point when) noexcept { return detail::sleep_op(when); }

// Suspends for `d`, measured from the call. Like asyncio.sleep(d).
// Cancellation: a cancellation point. Errors: std::invalid_argument for a negative `d`.
// Returns an awaitable, not a task: spawn it with tg.spawn(coring::sleep(d)) as usual.
//
//   co_await coring::sleep(20ms);
template <class Rep, class Period>
detail::sleep_op sleep(std::chrono::duration<Rep, Period> d) {
  return detail::sleep_op(clock::now() + detail::checked_duration(d, "coring::sleep"));
}

// Lets every other ready task run once, then continues: asyncio.sleep(0). Costs no system
// call. Cancellation: a cancellation point (throws coring::cancelled inside a cancelled
// scope, before or after yielding).
//
//   for (auto& item : items) { work(item); co_await coring::checkpoint(); }
inline detail::checkpoint_op checkpoint() noexcept { return {}; }

}  // namespace coring
