// The demo tour: runs every seed-pattern demo in turn, each on a fresh runtime, with a
// one-line title, then prints what each cost in system calls (io_uring_enter) per
// operation. An operation is an SQE the kernel accepted or a timer that fired (sleeps
// and deadlines live in a user-space heap and cost no SQE: the loop's one enter waits
// for the earliest of them).
//
// Run: ./run demo       (builds, then runs build/demos/tour)
// Each demo is also its own program: build/demos/demo_<name>.
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <chrono>
#include <vector>

coring::task<> demo_basic();
coring::task<> demo_failure();
coring::task<> demo_multiple_errors();
coring::task<> demo_cleanup();
coring::task<> demo_batching();
coring::task<> demo_group_timeout();
coring::task<> demo_semaphore_fetch();
coring::task<> demo_producer_consumer();
coring::task<> demo_fallback();
coring::task<> demo_partial_failures();
coring::task<> demo_per_task_timeout();
coring::task<> demo_gather();
coring::task<> demo_fetch_all_timeout();
coring::task<> demo_named_tasks();
coring::task<> demo_nested_groups();
coring::task<> demo_service();
coring::task<> demo_await_handle();
coring::task<> demo_start();
coring::task<> demo_race();
coring::task<> demo_lock();
coring::task<> demo_condition();
coring::task<> demo_barrier();
coring::task<> demo_line_protocol();
coring::task<> demo_tree_copy();
coring::task<> demo_http_service();
coring::task<> demo_fetch_all();

namespace {

struct demo {
  const char* name;
  const char* title;
  coring::task<> (*fn)();
};

const demo demos[] = {
    {"basic", "basic task group: results are read after the block", demo_basic},
    {"failure", "failure handling: a child fails, siblings are cancelled, except* per type", demo_failure},
    {"multiple_errors", "multiple exception types: one except* clause per type, the rest propagates", demo_multiple_errors},
    {"cleanup", "cancellation cleanup: await cleanup in a shield, then re-raise", demo_cleanup},
    {"batching", "batching: process_batch in task groups of 10", demo_batching},
    {"group_timeout", "timeout over a whole task group", demo_group_timeout},
    {"semaphore_fetch", "semaphore-limited fetch: 20 HTTP requests, at most 5 at a time", demo_semaphore_fetch},
    {"producer_consumer", "producer/consumer: bounded queue, 5 consumers, sentinels then shutdown()", demo_producer_consumer},
    {"fallback", "fallback chain: primary, then the first alternate to answer", demo_fallback},
    {"partial_failures", "partial failures: successes and failures collected apart", demo_partial_failures},
    {"per_task_timeout", "per-task timeouts: an empty optional (None) on expiry", demo_per_task_timeout},
    {"gather", "gather vs task group: gather_settled is return_exceptions=True", demo_gather},
    {"fetch_all_timeout", "fetch_all over HTTP: overall timeout, status errors per URL", demo_fetch_all_timeout},
    {"named_tasks", "named tasks and dump_tasks(): who is running, who is stuck, who failed", demo_named_tasks},
    {"nested_groups", "nested groups: an inner failure stays inside, or nests in the outer report", demo_nested_groups},
    {"service", "no detached tasks: a service-owned supervisor for background work; run_blocking for CPU",
     demo_service},
    {"await_handle", "awaiting a task: co_await handle waits for one child; giving up never cancels it",
     demo_await_handle},
    {"start", "tg.start (Trio's nursery.start): a server reports its port once it listens", demo_start},
    {"race", "race: the first to finish wins, the rest is cancelled and awaited", demo_race},
    {"lock", "lock: a read-modify-write that awaits in the middle stays exclusive", demo_lock},
    {"condition", "condition: consumers wait_for jobs, the producer notifies n of them", demo_condition},
    {"barrier", "barrier: workers pass each phase together, one barrier for every phase", demo_barrier},
    {"line_protocol", "a line protocol: read_line, read_exact, a limit, an idle timeout that keeps the half line",
     demo_line_protocol},
    {"tree_copy", "coring::fs: a tree checksum and copy tool (stat, mkdir, list_dir, rename, remove)", demo_tree_copy},
    {"http_service", "an HTTP service on http::router: parameters, query, streamed download and upload, a file, 405",
     demo_http_service},
    {"fetch_all", "fetch_all.cpp (coring_http's demo): keep-alive pool under a semaphore", demo_fetch_all},
};

struct row {
  const demo* d;
  coring::runtime_stats s;
  double ms;
};

}  // namespace

int main() {
  std::vector<row> rows;
  int n = 0;
  for (const demo& d : demos) {
    fmt::print("\n=== {:2}. {} ({})\n", ++n, d.title, d.name);
    std::fflush(stdout);
    auto start = std::chrono::steady_clock::now();
    coring::run(d.fn());
    std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
    rows.push_back({&d, coring::stats(), took.count()});
  }

  fmt::print("\n=== runtime stats per demo (op = SQE submitted or timer fired)\n");
  fmt::print("{:<18}{:>8}{:>8}{:>8}{:>8}{:>8}{:>11}{:>9}\n", "demo", "enters", "sqes", "cqes", "timers",
             "tasks", "enters/op", "ms");
  coring::runtime_stats total;
  double total_ms = 0;
  for (const row& r : rows) {
    const double ops = double(r.s.sqes + r.s.timers);
    fmt::print("{:<18}{:>8}{:>8}{:>8}{:>8}{:>8}{:>11.2f}{:>9.1f}\n", r.d->name, r.s.enters, r.s.sqes, r.s.cqes,
               r.s.timers, r.s.tasks, ops ? double(r.s.enters) / ops : 0.0, r.ms);
    total.enters += r.s.enters;
    total.sqes += r.s.sqes;
    total.cqes += r.s.cqes;
    total.timers += r.s.timers;
    total.tasks += r.s.tasks;
    total_ms += r.ms;
  }
  const double ops = double(total.sqes + total.timers);
  fmt::print("{:<18}{:>8}{:>8}{:>8}{:>8}{:>8}{:>11.2f}{:>9.1f}\n", "total", total.enters, total.sqes, total.cqes,
             total.timers, total.tasks, ops ? double(total.enters) / ops : 0.0, total_ms);
  fmt::print("ring flags: {}\n", rows.empty() ? "" : rows.back().s.ring_flags);
  fmt::print("tour finished: {} demos\n", rows.size());
}
