// Sleeping and yielding. Timers live in a user-space heap; the loop arms no kernel timer for
// them but passes the earliest deadline as the timeout of its single io_uring_enter, so a
// sleep costs one enter that both submits and waits, and 10,000 equal sleeps cost one.
// Under virtual time (runtime_options::virtual_time) the loop jumps to the earliest
// deadline instead of waiting for it.
//
// Time is read from coring::clock (coring/clock.hpp). Durations of any std::chrono type are
// accepted and rounded up to whole nanoseconds. A duration or time point too large to
// represent in coring::duration (std::chrono::hours::max(), a huge double-based duration)
// means "never": deadline arithmetic saturates at time_point::max() instead of overflowing,
// and a deadline of time_point::max() never fires.
#pragma once

#include <chrono>
#include <cmath>
#include <ratio>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "coring/clock.hpp"
#include "coring/detail/waiter.hpp"
#include "coring/task.hpp"

namespace coring {

namespace detail {

// The one conversion of a caller's duration into coring::duration, rounding up to whole
// nanoseconds and saturating: a duration beyond duration::max() (hours::max(), the max of a
// double-based duration, infinity, NaN) becomes duration::max(), one below duration::min()
// becomes duration::min(). The range check runs in long double, which holds every 64-bit
// count exactly, so nothing on the way overflows; the conversion itself then stays in
// integers wherever the period allows, so it is exact.
template <class Rep, class Period>
duration saturate(std::chrono::duration<Rep, Period> d) noexcept {
  using to_ns = std::ratio_divide<Period, duration::period>;
  const long double ticks = static_cast<long double>(d.count()) * to_ns::num / to_ns::den;
  constexpr auto top = static_cast<long double>(duration::max().count());
  if (!(ticks < top)) return duration::max();
  if (!(ticks > -top)) return duration::min();
  if constexpr (std::is_integral_v<Rep> && to_ns::den == 1)
    return duration(static_cast<duration::rep>(d.count()) * to_ns::num);
  else if constexpr (std::is_integral_v<Rep> && to_ns::num == 1)
    return std::chrono::ceil<duration>(d);  // a division: cannot overflow
  else
    return duration(static_cast<duration::rep>(std::ceil(ticks)));
}

// A time point of any steady-clock duration type, saturated the same way.
template <class Dur>
time_point saturate(std::chrono::time_point<std::chrono::steady_clock, Dur> t) noexcept {
  return time_point(saturate(t.time_since_epoch()));
}

// A duration argument of a public call: negative (or NaN) is the caller's mistake.
template <class Rep, class Period>
duration checked_duration(std::chrono::duration<Rep, Period> d, const char* who) {
  if (!(d >= std::chrono::duration<Rep, Period>::zero()))
    throw std::invalid_argument(std::string(who) +
                                ": the duration is negative (or NaN); pass zero or more "
                                "(a duration too long to represent means never)");
  return saturate(d);
}

// now + d, where a sum past the end of representable time is "never" (time_point::max()).
inline time_point deadline_after(duration d) noexcept {
  const time_point now = clock::now();
  return d < time_point::max() - now ? now + d : time_point::max();
}

// When a sleep or a scope deadline expires: at a time point, or after a delay counted from
// the moment it is awaited (Trio's rule), so an awaitable made early and awaited late still
// gets its whole delay.
class deadline_spec {
 public:
  static deadline_spec at(time_point t) noexcept { return {t.time_since_epoch(), false}; }
  static deadline_spec after(duration d) noexcept { return {d, true}; }
  // The absolute deadline; for a delay, counted from now.
  time_point resolve() const noexcept { return relative_ ? deadline_after(value_) : time_point(value_); }

 private:
  deadline_spec(duration v, bool relative) noexcept : value_(v), relative_(relative) {}
  duration value_;  // the delay, or the time point's time since the epoch
  bool relative_;
};

class sleep_op : waiter, timer_entry {
 public:
  explicit sleep_op(deadline_spec when) noexcept : spec_(when) {}
  sleep_op(sleep_op&& o) noexcept : spec_(o.spec_) {}
  ~sleep_op() {
    if (armed()) lp->remove_timer(*this);
  }
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    if (!park(h, &on_abort, "sleep")) return false;
    this->when = spec_.resolve();
    this->fire = &on_fire;
    lp->add_timer(*this);  // "never" (time_point::max()) is not armed: only a cancel wakes it
    return true;
  }
  void await_resume() {
    done_waiting();
    check();
  }
  // A sleep is an awaitable for speed; it converts to a task where one is needed
  // (`coring::task<> t = coring::sleep(1s);`). A relative sleep still starts when the task
  // is awaited.
  operator task<>() && { return as_task(sleep_op(spec_)); }

 private:
  static void on_fire(timer_entry* t) noexcept { static_cast<sleep_op*>(t)->wake(); }
  static void on_abort(wait_hook* w) noexcept {
    auto* self = static_cast<sleep_op*>(static_cast<waiter*>(w));
    self->lp->remove_timer(*self);
    self->wake(false);
  }
  deadline_spec spec_;
};

class checkpoint_op {
 public:
  // No suspension when the turn would only resume this task again. A cancelled task
  // yields all the same and throws on resuming, as Trio's checkpoint does: the check
  // before the yield would cost every yield three instructions for a case that throws.
  // The op keeps nothing in the frame: the task is the thread's current one throughout.
  bool await_ready() const {
    (void)running_task();  // throws outside a task
    return this_thread().lp->nothing_else_to_do();
  }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
    return this_thread().lp->yield_turn(h, this_thread().current);
  }
  void await_resume() const {
    if (this_task()->cancelled()) throw cancelled{};
  }
  operator task<>() const { return as_task(checkpoint_op{}); }
};

}  // namespace detail

// Suspends until coring::clock reaches `when` (a steady-clock time point of any duration
// type). A time in the past still yields once (other ready tasks run first); a time too late
// to represent in coring::time_point (or time_point::max()) never comes, so the sleep ends
// only by cancellation. Equal deadlines wake in the order the sleeps were awaited.
// Returns an awaitable, not a task (it converts to coring::task<> where one is needed).
// Cancellation: a cancellation point; in a cancelled scope, or when its scope is cancelled
// while it sleeps, it throws coring::cancelled at once and its timer is removed.
// Errors: none besides cancellation; awaiting it outside coring::run throws
// std::logic_error.
//
// Example (examples/time_sleep_until.cpp):
//   const coring::time_point wake = coring::clock::now() + 50ms;
//   co_await coring::sleep_until(wake);
//   ok = coring::clock::now() >= wake;
template <class Dur>
detail::sleep_op sleep_until(std::chrono::time_point<std::chrono::steady_clock, Dur> when) noexcept {
  return detail::sleep_op(detail::deadline_spec::at(detail::saturate(when)));
}

// Suspends for `d` (any std::chrono duration, rounded up to whole nanoseconds), measured
// from the moment it is awaited, not from the call, like Trio's sleep: a sleep made early
// and awaited later still sleeps its whole `d`. Like asyncio.sleep(d). A duration too long
// to represent (std::chrono::seconds::max(), ...) sleeps forever: it never fires early, and
// only cancellation ends it. Zero yields once. Returns an awaitable, not a task: spawn it
// with tg.spawn(coring::sleep(d)) as usual.
// Cancellation: a cancellation point (as sleep_until).
// Errors: std::invalid_argument at the call for a negative or NaN `d`.
//
// Example (examples/time_sleep.cpp):
//   auto nap = coring::sleep(20ms);             // made now, counted from the co_await
//   co_await coring::sleep(30ms);
//   const coring::time_point before = coring::clock::now();
//   co_await std::move(nap);
//   ok = coring::clock::now() - before >= 20ms;
template <class Rep, class Period>
detail::sleep_op sleep(std::chrono::duration<Rep, Period> d) {
  return detail::sleep_op(detail::deadline_spec::after(detail::checked_duration(d, "coring::sleep")));
}

// Lets every other ready task run once, then continues: asyncio.sleep(0). Costs no system
// call and reads no clock (virtual time does not move).
// Cancellation: a cancellation point: inside a cancelled scope it throws coring::cancelled
// after the other ready tasks ran once (at once when there are none). Errors: awaiting it
// outside coring::run throws std::logic_error.
//
// Example (examples/time_checkpoint.cpp):
//   long sum = 0;
//   for (int i = 1; i <= 1000; ++i) {
//     sum += i;
//     if (i % 100 == 0) co_await coring::checkpoint();  // let other tasks in
//   }
//   ok = sum == 500500;
inline detail::checkpoint_op checkpoint() noexcept { return {}; }

}  // namespace coring
