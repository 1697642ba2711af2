// The runtime (binds a loop to its thread, runs root tasks) and its counters.
#include <stdexcept>

#include "coring/runtime.hpp"
#include "coring/detail/testing.hpp"
#include "coring/detail/threads.hpp"

namespace coring {
namespace {
thread_local runtime_stats tl_last_stats;

const runtime_options& checked(const runtime_options& opts) {
  if (opts.threads == 0 || opts.threads > 256)
    throw std::invalid_argument("coring::runtime_options::threads is " + std::to_string(opts.threads) +
                                "; pass 1..256 loop threads");
  if (opts.threads > 1 && opts.virtual_time)
    throw std::invalid_argument(
        "coring::runtime_options: virtual_time needs threads == 1 (one clock cannot jump while other "
        "threads run); drop one of the two");
  return opts;
}
}  // namespace

runtime::runtime(runtime_options opts) : loop_(checked(opts)) {
  if (detail::this_thread().lp)
    throw std::logic_error(
        "coring: a runtime is already running on this thread; use one runtime per thread "
        "(spawn tasks on it instead of nesting coring::run)");
  saved_ = detail::tls;
  detail::this_thread().lp = &loop_;
  detail::this_thread().virtual_now = loop_.virtual_clock();
  if (opts.threads > 1) {
    try {
      threads_ = std::make_unique<detail::thread_set>(opts, loop_);
    } catch (...) {
      detail::tls = saved_;
      throw;
    }
  }
}

runtime::~runtime() {
  threads_.reset();  // stops and joins the other loop threads
  tl_last_stats = stats();
  detail::tls = saved_;
}

void runtime::begin_root(detail::task_node& node, std::coroutine_handle<> h, bool& done) {
  node.info.set_id(loop_.next_task_id());
  node.set_name("main");
  queue_root(node, h);
  loop_.run_until(done);
}

void runtime::queue_root(detail::task_node& node, std::coroutine_handle<> h) {
  node.enter(root_scope_);
  loop_.post(h, &node);
}

void runtime::end_root(detail::task_node& node) noexcept {
  loop_.forget(node);
  detail::ilist<detail::task_node, detail::scope_tag>::erase(node);
}

namespace detail::testing {

void access::start_detached(runtime& rt, task_node& node, std::coroutine_handle<> h) { rt.queue_root(node, h); }

void access::forget_detached(runtime& rt, task_node& node) noexcept { rt.end_root(node); }

std::size_t access::ready_capacity() noexcept { return this_thread().lp->ready_capacity(); }

std::uint64_t access::forget_scanned() noexcept { return this_thread().lp->counters().forget_scanned; }

std::vector<io_uring_sqe> access::queued_sqes() {
  const io_uring_sq& sq = this_thread().lp->uring().raw()->sq;
  std::vector<io_uring_sqe> out;
  for (unsigned i = sq.sqe_head; i != sq.sqe_tail; ++i) out.push_back(sq.sqes[i & sq.ring_mask]);
  return out;
}

}  // namespace detail::testing

namespace {
runtime_stats snapshot(detail::loop& l) {
  runtime_stats s;
  const auto& rc = l.uring().counters();
  s.enters = rc.enters;
  s.sqes = rc.sqes;
  s.cqes = rc.cqes;
  s.iterations = l.counters().iterations;
  s.tasks = l.counters().tasks;
  s.timers = l.counters().timers_fired;
  s.frames = detail::frames_live();
  s.ring_flags = l.uring().describe_flags();
  if (auto* h = static_cast<detail::hub*>(l.remote())) {
    s.thread = h->index();
    s.wakeups_sent = h->wakeups_sent;
    s.wakeups_received = h->wakeups_received;
  }
  return s;
}
}  // namespace

runtime_stats runtime::stats() const { return snapshot(const_cast<detail::loop&>(loop_)); }

runtime_stats stats() {
  if (detail::this_thread().lp) return snapshot(*detail::this_thread().lp);
  runtime_stats s = tl_last_stats;
  s.frames = detail::frames_live();
  return s;
}

time_point clock::now() noexcept {
  const time_point* v = detail::this_thread().virtual_now;
  return v ? *v : std::chrono::steady_clock::now();
}

}  // namespace coring
