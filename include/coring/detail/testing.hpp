// A seam for coring's own tests: what they need of a runtime's insides, and no more.
// Not part of the public API.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <liburing.h>

#include "coring/runtime.hpp"

namespace coring::detail::testing {

struct access {
  // Queues frame `h` as task `node` in `rt`'s root scope without running the loop: a task
  // tree started by hand, which a test may abandon while it is suspended.
  static void start_detached(runtime& rt, task_node& node, std::coroutine_handle<> h);
  // Takes a task started with start_detached out of the ready queue and the root scope.
  static void forget_detached(runtime& rt, task_node& node) noexcept;
  // The entries the ready queue of the loop running on this thread has room for.
  static std::size_t ready_capacity() noexcept;
  // The ready entries that loop's teardowns have looked at so far (loop_counters).
  static std::uint64_t forget_scanned() noexcept;
  // Copies of the SQEs that loop has queued and not yet handed to the kernel, oldest first.
  static std::vector<io_uring_sqe> queued_sqes();
};

}  // namespace coring::detail::testing
