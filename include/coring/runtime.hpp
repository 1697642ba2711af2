// Running coroutines: coring::run (asyncio.run), the runtime class, and its counters.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "coring/detail/scope.hpp"
#include "coring/task.hpp"

namespace coring {

class runtime;
namespace detail::testing {
struct access;
}  // namespace detail::testing
namespace detail {
class thread_set;
}  // namespace detail

// How a runtime is set up. Every field has a default that suits most programs; fill in
// the ones to change (a designated initializer, or field by field as below) and pass the
// options to coring::run or to the runtime constructor.
// Errors: the options are not checked here; a ring size the kernel refuses makes the
// runtime's constructor throw std::system_error.
//
// Example (examples/runtime_options.cpp):
//   coring::runtime_options opts;
//   opts.entries = 4096;                     // more SQEs per enter
//   opts.wait_batch = 16;                    // wait for up to 16 CQEs at once...
//   opts.wait_batch_timeout = 10ms;          // ...but never longer than 10 ms
//   int rc = coring::run(serve(), opts);
struct runtime_options {
  // SQ ring size. The ring flushes itself when full, so this bounds batching, not
  // concurrency.
  unsigned entries = 256;
  // CQ ring size; 0 picks four times `entries`, at least 4096. Completions beyond it are
  // not lost (the kernel keeps overflowed CQEs until the loop reaps), only slower.
  unsigned cq_entries = 0;
  // Batch mode, for ping-pong servers (off at 1). When the loop must wait right after
  // queueing sends (which complete during the submit), it waits for their completions
  // plus one more event in the same io_uring_enter (at most `wait_batch` CQEs), but no
  // longer than `wait_batch_timeout`. With a receive already armed (multishot_reader) this
  // makes one enter per request; the cost is that a task resuming after a send may wait up
  // to the timeout when no other event comes, so leave it off for clients and mixed loads.
  // Timeouts under the kernel's tick (about 4 ms) make the kernel reprogram its timer on
  // every enter, which costs more than it saves.
  unsigned wait_batch = 1;
  // The bound of a batch-mode wait (real time, also under virtual_time). It also bounds the
  // default mode's wait after queuing write-behind sends (tcp_stream::write_all), which
  // waits for their completions plus one more event: a send that did not complete during
  // the submit would otherwise hold that wait until a second event came.
  std::chrono::nanoseconds wait_batch_timeout = std::chrono::milliseconds(5);
  // Virtual time, for tests and simulations (Trio's MockClock with autojump, tokio's
  // start_paused). coring::clock::now() then reads this runtime's virtual clock, which
  // starts at the steady time the runtime is created and stands still while tasks run.
  // When no task is ready, the loop first collects the I/O that has already completed,
  // without waiting (one non-blocking io_uring_enter, only if something is in flight); if
  // that readies no task, it jumps the clock to the earliest deadline (a sleep, a timeout,
  // a cancel scope's deadline) and fires it. Wake-ups come in the same order as under real
  // time (by deadline; equal deadlines in the order they were armed), an hour of sleeps and
  // timeouts takes microseconds, and every expiry is exact: clock::now() equals the
  // deadline when it fires. With no deadline pending and I/O in flight the loop waits for
  // the I/O, as usual.
  // What changes: I/O in flight does not hold a jump back, so a deadline guarding I/O that
  // takes real time to complete (a disk read, a peer's reply, run_blocking) may expire
  // first; virtual time suits code whose deadlines guard waits that only other tasks, or
  // nothing, will end. with_timeout on a single io_uring operation becomes a cancel scope
  // in the timer heap (the kernel's LINK_TIMEOUT runs on real time). A time point read from
  // std::chrono::steady_clock is not the runtime's time: use coring::clock.
  //
  // Example (examples/runtime_virtual_time.cpp):
  //   coring::task<bool> scenario(int idle_pipe) {
  //     const coring::time_point t0 = coring::clock::now();
  //     co_await coring::sleep(1h);
  //     bool expired = false;
  //     try {
  //       co_await coring::with_timeout(10min, coring::sleep(20min));
  //     } catch (const coring::timeout_error&) {
  //       expired = coring::clock::now() - t0 == 70min;  // exactly at the deadline
  //     }
  //     char buf[16];
  //     try {
  //       co_await coring::with_timeout(10min, coring::read_some(idle_pipe, buf));
  //       expired = false;
  //     } catch (const coring::timeout_error&) {
  //       expired = expired && coring::clock::now() - t0 == 80min;
  //     }
  //     co_return expired;
  //   }
  //
  //   int run_scenario(int idle_pipe) {
  //     coring::runtime_options opts;
  //     opts.virtual_time = true;
  //     return coring::run(scenario(idle_pipe), opts) ? 0 : 1;
  //   }
  bool virtual_time = false;
  // Loop threads (1..256). With more than one, coring::run starts threads - 1 more
  // threads, each with a loop and an io_uring ring of its own set up like thread 0's; the
  // main task runs on thread 0 (the calling thread), and the others run what is sent to
  // them with coring::on_thread, task_group::spawn_on and coring::channel (thread.hpp,
  // channel.hpp). No thread touches another's ring or tasks: work crosses threads as
  // messages in user space, and a sleeping loop is woken by one MSG_RING (or eventfd)
  // message per batch. The extra threads block every signal (signals reach thread 0, where
  // wait_for_signal runs) and are joined when the runtime is destroyed (coring::run: before
  // it returns). virtual_time needs threads == 1.
  // With several threads, a deadlock (every task waiting for something no thread will
  // provide) is reported only when thread 0 waits for nothing from another thread; a wait
  // on another thread (on_thread, a channel) that can never end hangs instead.
  //
  // Example (examples/thread_on_thread.cpp):
  //   coring::runtime_options opts;
  //   opts.threads = 2;  // thread 0 runs main_task; thread 1 waits for work
  //   return coring::run(main_task(), opts);
  unsigned threads = 1;
  // Pins loop thread k to the k-th CPU this process may run on (modulo their number), so
  // each loop keeps its caches; thread 0's affinity is restored when the runtime ends.
  bool pin_threads = false;
};

// Counters of this thread's runtime. `enters` counts io_uring_enter calls, `sqes` SQEs the
// kernel accepted, `cqes` CQEs reaped, `iterations` loop turns, `tasks` tasks started
// (main and every spawned child), `frames` coroutine frames alive now, `timers` timers
// fired (sleeps and deadlines). `ring_flags` names the setup flags the kernel accepted.
// The counters only grow while a runtime lives (except `frames`); compare two snapshots.
// A fmt formatter prints them on one line: "enters=1 sqes=0 ... ring=[SINGLE_ISSUER|...]".
// (Example: coring::stats'.)
struct runtime_stats {
  std::uint64_t enters = 0;
  std::uint64_t sqes = 0;
  std::uint64_t cqes = 0;
  std::uint64_t iterations = 0;
  std::uint64_t tasks = 0;
  std::uint64_t frames = 0;
  std::uint64_t timers = 0;
  std::string ring_flags;
  // Multi-thread runtimes: which loop thread these are from, and the wake-ups (MSG_RING
  // or eventfd messages to a sleeping loop) it sent to other threads and received.
  unsigned thread = 0;
  std::uint64_t wakeups_sent = 0;
  std::uint64_t wakeups_received = 0;
};

// The counters of the runtime running on this thread; outside any runtime, those of the
// last runtime that ran on this thread (all zero if none did). Not an awaitable: no
// cancellation. Errors: none (std::bad_alloc aside).
//
// Example (examples/runtime_stats.cpp):
//   const coring::runtime_stats before = coring::stats();
//   co_await coring::sleep(1ms);
//   const coring::runtime_stats after = coring::stats();
//   ok = after.enters - before.enters == 1 && after.timers - before.timers == 1;
//   fmt::print("{}\n", after);  // enters=1 sqes=0 cqes=0 iterations=2 tasks=1 ...
runtime_stats stats();

// An io_uring ring, a ready queue and a timer heap, bound to the constructing thread; one
// runtime may run several root tasks one after another (coring::run makes a runtime for
// one). With runtime_options::threads > 1 it also starts the other loop threads, which
// live until it is destroyed. Construction throws std::system_error when io_uring is
// unavailable (the message says why and what to change) or a loop thread cannot start,
// std::invalid_argument for threads out of 1..256 or virtual_time with several threads,
// and std::logic_error when another runtime is active on this thread. Destroy it on the
// thread that made it.
//
// Example (examples/runtime_runtime.cpp):
//   coring::runtime_options opts;
//   opts.entries = 1024;
//   coring::runtime rt(opts);
//   int first = rt.run(count_up(10));
//   int second = rt.run(count_up(20));  // the same ring, timers and counters
//   const bool ok = first == 10 && second == 20 && rt.stats().tasks == 2;
class runtime {
 public:
  // Sets up the ring with `opts` and binds the runtime to this thread. Errors: see the
  // class comment.
  explicit runtime(runtime_options opts = {});
  // Unbinds the thread (restoring what was bound before) and closes the ring; coring::stats()
  // then reports this runtime's last counters.
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // Runs `main` to completion as the root task ("main") and returns its result or rethrows
  // its exception. Not an awaitable: call it from plain code, not from inside a task.
  // Errors: std::invalid_argument for an empty (moved-from) task; std::logic_error when
  // every task waits on something only another task could provide and no I/O or timer is
  // pending (a deadlock asyncio would hang on; a sleep of a duration too long to represent
  // counts as no timer); the task tree is then destroyed and every frame freed.
  // (Example: the class's.)
  template <class T>
  T run(task<T> main);

  // This runtime's counters, as coring::stats() reports them while it runs. Never throws
  // (std::bad_alloc aside). (Example: the class's.)
  runtime_stats stats() const;

 private:
  friend struct detail::testing::access;
  void begin_root(detail::task_node& node, std::coroutine_handle<> h, bool& done);
  // Puts `node` in the root scope and queues its frame (begin_root, and tests' seam).
  void queue_root(detail::task_node& node, std::coroutine_handle<> h);
  // Takes a root task out of the ready queue and the root scope.
  void end_root(detail::task_node& node) noexcept;
  detail::loop loop_;
  detail::scope_state root_scope_{nullptr, false};  // every root task runs in it
  detail::thread_state saved_{};
  std::unique_ptr<detail::thread_set> threads_;  // threads > 1
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
  struct end_flag final : detail::finisher {
    bool& done;
    explicit end_flag(bool& d) noexcept : done(d) {}
    void task_ended(detail::promise_base&) noexcept override { done = true; }
  } flag(done);
  h.promise().owner = &flag;
  begin_root(node, h, done);
  return h.promise().take();
}

// Runs `main` on a new runtime for this thread, set up with `opts`, and returns its result
// (or rethrows its exception), like asyncio.run. Not an awaitable: call it from plain code
// such as main(); a call from inside a running task throws std::logic_error.
// Errors: as runtime's constructor and runtime::run.
//
// Example (examples/runtime_run.cpp):
//   coring::task<int> serve() {
//     co_await coring::sleep(1ms);  // stands in for the program's work
//     co_return 0;                  // the exit status
//   }
//
//   int main() { return coring::run(serve()); }
template <class T>
T run(task<T> main, runtime_options opts = {}) {
  runtime rt(opts);
  return rt.run(std::move(main));
}

}  // namespace coring

// Formats runtime_stats on one line (see runtime_stats).
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
