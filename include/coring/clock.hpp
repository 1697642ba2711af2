// The runtime's clock: every deadline coring computes and every time it reads goes
// through coring::clock, so a runtime with virtual time (runtime_options::virtual_time)
// controls what "now" is for the whole program.
#pragma once

#include <chrono>

namespace coring {

// A monotonic clock (it meets the standard's Clock requirements, and is_steady holds).
// Outside a runtime, and inside a runtime with real time, now() is
// std::chrono::steady_clock::now(). Inside a runtime started with
// runtime_options::virtual_time it is that runtime's virtual clock: it starts at the
// steady time the runtime was created and moves only when the loop jumps to the next
// deadline, so it never goes backwards either.
//
// Its time_point is std::chrono::steady_clock's (same epoch, nanoseconds), so code that
// mixes the two still compiles; under virtual time prefer coring::clock::now(), which is
// the time the runtime's timers use. Never throws.
//
// Example (examples/time_clock.cpp):
//   const coring::time_point start = coring::clock::now();
//   co_await coring::sleep(2h);                        // virtual: returns at once
//   const coring::duration slept = coring::clock::now() - start;
//   ok = slept == std::chrono::hours(2);               // exact under virtual time
struct clock {
  using duration = std::chrono::steady_clock::duration;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::steady_clock::time_point;
  static constexpr bool is_steady = true;
  // The current time of this thread's runtime (virtual or steady), or steady time outside
  // any runtime.
  static time_point now() noexcept;
};

// The duration type of every coring deadline: signed 64-bit nanoseconds.
using duration = clock::duration;
// A point in coring::clock's time (std::chrono::steady_clock::time_point).
using time_point = clock::time_point;

}  // namespace coring
