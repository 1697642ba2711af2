// coring::event — a flag tasks can wait for (asyncio.Event, Trio's Event), in user space:
// set() wakes every waiter through the ready queue, no operation makes a system call.
// Not thread-safe: use it on the thread whose runtime runs its waiters.
//
// Example (examples/event_ready.cpp):
//   coring::event ready;
//   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//     for (int i = 0; i < 3; ++i)
//       tg.spawn([&]() -> coring::task<> {
//         co_await ready.wait();  // blocks until set(); returns at once once it is set
//         co_await serve(served);
//       });
//     co_await load_config();
//     ready.set();  // wakes every waiter; no system call
//   });
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <fmt/format.h>

#include "coring/detail/wait_list.hpp"

namespace coring {

// A snapshot of an event: fmt::print("{}\n", ev.statistics()).
struct event_statistics {
  bool is_set = false;
  std::size_t waiters = 0;   // tasks blocked in wait()
  std::uint64_t sets = 0;    // set() calls that changed the flag
};

class event {
 public:
  class wait_awaiter {
   public:
    explicit wait_awaiter(event& e) noexcept : ev_(&e) {}
    wait_awaiter(wait_awaiter&& o) noexcept : ev_(o.ev_) {}
    bool await_ready() const noexcept {
      // A cancelled task goes through await_suspend, which refuses: wait() is a
      // cancellation point even on a set event.
      return ev_->set_ && !detail::current_task_cancelled();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      return w_.wait_on(ev_->waiters_, h, "event.wait");
    }
    void await_resume() { w_.finish(); }

   private:
    event* ev_;
    detail::list_waiter w_;
  };

  // A cleared event. Not copyable or movable: waiting tasks refer to it.
  event() noexcept = default;
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  // Sets the flag and wakes every waiting task (queued to run in FIFO order; no system
  // call). Waiters woken by set() return normally even if clear() is called before they
  // run. Setting a set event does nothing. Never throws; not an awaitable. Example: at the
  // top of this header.
  void set() noexcept {
    if (set_) return;
    set_ = true;
    ++sets_;
    waiters_.notify_all();
  }

  // Clears the flag: later wait() calls block until the next set(). Tasks already woken
  // stay woken. Never throws.
  //
  // Example (examples/event_ready.cpp):
  //   ready.clear();  // later waits block until the next set()
  //   const coring::event_statistics s = ready.statistics();
  //   fmt::print("{}\n", s);  // event(is_set=false waiters=0 sets=1)
  void clear() noexcept { set_ = false; }

  // Whether the flag is set now. Never throws.
  bool is_set() const noexcept { return set_; }

  // Waits until the flag is set; returns at once if it is.
  // Cancellation: a cancellation point (a cancelled task gets coring::cancelled even if
  // the event is set). A waiter cancelled before set() leaves the list; one woken by set()
  // has succeeded and returns normally (the cancellation comes at its next suspension
  // point). Errors: coring::cancelled only. Example: at the top of this header.
  [[nodiscard]] wait_awaiter wait() noexcept { return wait_awaiter(*this); }

  // A snapshot for logs and tests; fmt-formattable. Never throws. Example: under clear().
  event_statistics statistics() const noexcept { return {set_, waiters_.waiting(), sets_}; }

 private:
  bool set_ = false;
  std::uint64_t sets_ = 0;
  detail::wait_list waiters_;
};

}  // namespace coring

template <>
struct fmt::formatter<coring::event_statistics> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const coring::event_statistics& s, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "event(is_set={} waiters={} sets={})", s.is_set, s.waiters,
                          s.sets);
  }
};
