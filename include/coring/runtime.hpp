// Running coroutines: coring::run (asyncio.run), the runtime class, and its counters.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "coring/detail/core.hpp"
#include "coring/task.hpp"

namespace coring {

struct runtime_options {
  // SQ ring size. The ring flushes itself when full, so this bounds batching, not
  // concurrency.
  unsigned entries = 256;
  // Batch mode, for ping-pong servers (off at 1). When the loop must wait right after
  // queueing sends (which complete during the submit), it waits for their completions
  // plus one more event in the same io_uring_enter (at most `wait_batch` CQEs), but no
  // longer than `wait_batch_timeout`. With a receive already armed (multishot_reader) this
  // makes one enter per request; the cost is that a task resuming after a send may wait up
  // to the timeout when no other event comes, so leave it off for clients and mixed loads.
  // Timeouts under the kernel's tick (about 4 ms) make the kernel reprogram its timer on
  // every enter, which costs more than it saves.
  unsigned wait_batch = 1;
  std::chrono::nanoseconds wait_batch_timeout = std::chrono::milliseconds(5);
  // Virtual time (Trio's MockClock with autojump, tokio's start_paused). DOC
  bool virtual_time = false;
};

// Counters of this thread's runtime. `enters` counts io_uring_enter calls, `sqes` SQEs the
// kernel accepted, `cqes` CQEs reaped, `iterations` loop turns, `tasks` tasks started
// (main and every spawned child), `frames` coroutine frames alive now, `timers` timers
// fired. `ring_flags` names the setup flags the kernel accepted.
struct runtime_stats {
  std::uint64_t enters = 0;
  std::uint64_t sqes = 0;
  std::uint64_t cqes = 0;
  std::uint64_t iterations = 0;
  std::uint64_t tasks = 0;
  std::uint64_t frames = 0;
  std::uint64_t timers = 0;
  std::string ring_flags;
};

// The counters of the runtime running on this thread; outside any runtime, those of the
// last runtime that ran on this thread (all zero if none did). Never throws.
//
//   auto before = coring::stats().enters;
//   co_await coring::sleep(1ms);
//   assert(coring::stats().enters - before == 1);
runtime_stats stats();

// An io_uring ring, a ready queue and a timer heap, bound to the constructing thread.
// Construction throws std::system_error when io_uring is unavailable (the message says why
// and what to change) and std::logic_error when another runtime is active on this thread.
//
//   coring::runtime rt{{.entries = 1024}};
//   int n = rt.run(count_lines("/etc/passwd"));
class runtime {
 public:
  explicit runtime(runtime_options opts = {});
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // Runs `main` to completion as the root task ("main") and returns its result or rethrows
  // its exception. Throws std::logic_error when every task waits on something only another
  // task could provide and no I/O or timer is pending (a deadlock asyncio would hang on);
  // the task tree is then destroyed and every frame freed.
  template <class T>
  T run(task<T> main);

  runtime_stats stats() const;
  detail::loop& get_loop() noexcept { return loop_; }

 private:
  void begin_root(detail::task_node& node, std::coroutine_handle<> h, bool& done);
  void end_root(detail::task_node& node) noexcept;
  detail::loop loop_;
  detail::thread_state saved_{};
};

template <class T>
T runtime::run(task<T> t) {
  if (!t.valid()) throw std::invalid_argument("coring::run: the task is empty (moved from?)");
  detail::task_node node;
  bool done = false;
  struct end_guard {
    runtime* rt;
    detail::task_node* n;
    ~end_guard() { rt->end_root(*n); }
  } guard{this, &node};
  task<T> main = std::move(t);  // destroyed before `node`: its frames refer to the node
  auto h = main.handle();
  h.promise().on_done = [](void* p) noexcept { *static_cast<bool*>(p) = true; };
  h.promise().owner = &done;
  begin_root(node, h, done);
  return h.promise().take();
}

// Runs `main` on a new runtime for this thread and returns its result, like asyncio.run.
// Errors: as runtime's constructor and runtime::run.
//
//   int main() { return coring::run(serve()); }
template <class T>
T run(task<T> main, runtime_options opts = {}) {
  runtime rt(opts);
  return rt.run(std::move(main));
}

}  // namespace coring

template <>
struct fmt::formatter<coring::runtime_stats> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const coring::runtime_stats& s, Ctx& ctx) const {
    return fmt::format_to(ctx.out(),
                          "enters={} sqes={} cqes={} iterations={} tasks={} frames={} timers={} "
                          "ring=[{}]",
                          s.enters, s.sqes, s.cqes, s.iterations, s.tasks, s.frames, s.timers,
                          s.ring_flags);
  }
};
