#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <system_error>

#include "coring/detail/frame_allocator.hpp"
#include "coring/detail/loop.hpp"
#include "coring/runtime.hpp"  // runtime_options

namespace coring::detail {

constinit thread_local thread_state tls [[gnu::tls_model("initial-exec")]];

loop& current_loop_checked() {
  throw std::logic_error(
      "coring: no runtime on this thread; await coring operations only inside a task run by "
      "coring::run(...) or runtime::run(...)");
}

loop::loop(const runtime_options& opts) : ring_(opts.entries, opts.cq_entries) {
  mask_ = initial_size - 1;
  buf_ = static_cast<entry*>(std::malloc(initial_size));
  if (!buf_) throw std::bad_alloc();
  timers_.reserve(64);
  wait_batch_ = opts.wait_batch ? opts.wait_batch : 1;
  batch_timeout_ns_ = opts.wait_batch_timeout.count();
  // Virtual time starts at the steady clock's present, so the two share an epoch and a
  // time point read before the runtime started is not in the virtual far future.
  virtual_time_ = opts.virtual_time;
  virtual_now_ = std::chrono::steady_clock::now();
}

loop::~loop() {
  // Residents cancel and wait for their requests through this loop, so it must be the
  // thread's current one while they do (the runtime has already restored the outer one).
  if (!residents_.empty()) {
    loop* const outer = this_thread().lp;
    this_thread().lp = this;
    while (loop_resident* r = residents_.pop_front()) r->on_loop_end(r);
    this_thread().lp = outer;
  }
  std::free(buf_);
  release_frame_pools();  // what a spike left beyond the budget goes with the loop
}

void loop::submit_now() noexcept {
  if (ring_.pending() == 0) return;
  try {
    ring_.enter(0, -1);
  } catch (...) {
    // the ring is failing as a whole; see the comment in loop.hpp
  }
}

void loop::grow() {
  // realloc keeps the entries in place (large blocks move by mremap, without copying or
  // faulting pages in again); only the wrapped-around front part moves behind the old end.
  const std::size_t size = mask_ + 1;  // bytes, as every position here
  auto* nb = static_cast<entry*>(std::realloc(buf_, 2 * size));
  if (!nb) throw std::bad_alloc();
  // The head's position modulo the old size is where the entries start, and must stay
  // where they start modulo the new one: the positions move back by whole old sizes.
  const std::size_t base = head_ - (head_ & mask_);
  head_ -= base;
  turn_end_ -= base;
  const std::size_t wrapped = head_ + count_ > size ? head_ + count_ - size : 0;
  std::memcpy(reinterpret_cast<char*>(nb) + size, nb, wrapped);
  buf_ = nb;
  mask_ = 2 * size - 1;
}

void loop::post_growing(std::coroutine_handle<> h, schedulable* s) {
  grow();
  post(h, s);
}

// After a spike (a million tasks made ready at once) the queue would keep its 16 MB for
// good: when the loop next goes idle, its queue empty, it moves into a small buffer.
void loop::shrink() noexcept {
  auto* nb = static_cast<entry*>(std::malloc(initial_size));
  if (!nb) return;  // keep the big one
  std::free(buf_);
  buf_ = nb;
  mask_ = initial_size - 1;
  head_ = 0;
  turn_end_ = 0;  // idle: no turn runs
}

template <class Drop>
void loop::drop_entries(Drop drop) noexcept {
  counters_.forget_scanned += count_ / step;
  std::size_t w = 0;
  for (std::size_t i = 0; i < count_; i += step) {
    const entry e = at(head_ + i);
    if (!drop(e.unit)) {
      at(head_ + w) = e;
      w += step;
    }
  }
  count_ = w;
  if (turn_end_ - head_ > count_) turn_end_ = head_ + count_;
}

void loop::forget(schedulable& s) noexcept {
  if (s.queued == 0) return;
  drop_entries([&s](const schedulable* u) { return u == &s; });
  s.queued = 0;
}

void loop::forget_all(std::vector<schedulable*>& units) noexcept {
  if (units.empty()) return;
  const std::less<schedulable*> order;  // a total order on unrelated addresses, where < is not
  std::sort(units.begin(), units.end(), order);
  drop_entries([&](schedulable* u) { return std::binary_search(units.begin(), units.end(), u, order); });
  for (schedulable* u : units) u->queued = 0;
}

// ---- timers: a binary min-heap of deadlines; each entry knows its index ----

namespace {
// Heap order: the earlier deadline, and of equal ones the one armed first.
inline bool earlier(const timer_entry* a, const timer_entry* b) noexcept {
  return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}
}  // namespace

void loop::heap_up(std::size_t i) noexcept {
  timer_entry* t = timers_[i];
  while (i > 0) {
    const std::size_t p = (i - 1) / 2;
    if (!earlier(t, timers_[p])) break;
    timers_[i] = timers_[p];
    timers_[i]->index = i;
    i = p;
  }
  timers_[i] = t;
  t->index = i;
}

void loop::heap_down(std::size_t i) noexcept {
  const std::size_t n = timers_.size();
  timer_entry* t = timers_[i];
  for (;;) {
    std::size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && earlier(timers_[c + 1], timers_[c])) ++c;
    if (!earlier(timers_[c], t)) break;
    timers_[i] = timers_[c];
    timers_[i]->index = i;
    i = c;
  }
  timers_[i] = t;
  t->index = i;
}

void loop::add_timer(timer_entry& t) {
  if (t.armed()) remove_timer(t);
  // "Never" stays out of the heap: it would only make the loop wait 292 years, and under
  // virtual time it must not be jumped to.
  if (t.when == time_point::max()) return;
  t.seq = ++timer_seq_;
  timers_.push_back(&t);
  heap_up(timers_.size() - 1);
}

void loop::remove_timer(timer_entry& t) noexcept {
  if (!t.armed()) return;
  const std::size_t i = t.index;
  t.index = timer_entry::npos;
  timer_entry* last = timers_.back();
  timers_.pop_back();
  if (last == &t) return;
  timers_[i] = last;
  last->index = i;
  heap_up(i);
  heap_down(last->index);
}

void loop::fire_timers(time_point now) {
  while (!timers_.empty() && timers_.front()->when <= now) {
    timer_entry* t = timers_.front();
    remove_timer(*t);
    ++counters_.timers_fired;
    t->fire(t);
  }
}

// ---- the iteration ----

void loop::reap() {
  ring_.reap([this](const io_uring_cqe& cqe) {
    if (!(cqe.flags & IORING_CQE_F_MORE)) --outstanding_;
    auto* c = reinterpret_cast<completion*>(static_cast<std::uintptr_t>(cqe.user_data) &
                                            ~static_cast<std::uintptr_t>(tag_mask));
    if (c) c->complete(c, cqe);
  });
}

template <bool Remote>
void loop::run_once(const bool& done) {
  ++counters_.iterations;
  if (Remote) remote_->drain(remote_);
  // Resume only what was ready when the turn began (the entries before turn_end_), so a
  // task that keeps yielding cannot starve I/O and timers. A yielding task may resume the
  // next of them itself (yield_turn); a unit torn down during the turn takes its entries
  // out of the queue (forget), which moves turn_end_ back.
  turn_end_ = head_ + count_;
  while (head_ != turn_end_) {
    const entry e = at(head_);
    head_ += step;
    count_ -= step;
    --e.unit->queued;
    this_thread().current = e.unit;
    e.h.resume();
  }
  if (ring_.cq_ready()) reap();

  long long timeout_ns = -1;
  if (!timers_.empty()) {
    const time_point now = clock::now();
    fire_timers(now);
    if (!timers_.empty()) timeout_ns = (timers_.front()->when - now).count();
  }

  if (count_ > 0 || done) {
    // Busy: never wait. Enter only to submit, or to collect completions the kernel holds.
    if (ring_.pending() || (outstanding_ && ring_.has_deferred_work())) {
      ring_.enter(0, -1);
      reap();
    }
    return;
  }
  if (outstanding_ <= (Remote ? remote_->quiet : 0) && timers_.empty() && ring_.pending() == 0 &&
      !(Remote && remote_->keeps_alive(remote_))) {
    throw std::logic_error(
        "coring: deadlock: every task is waiting for another task (a queue, event, semaphore "
        "or task group) or sleeps forever, and no I/O or timer is pending, so nothing can "
        "ever wake them");
  }
  // Idle: the moment to hand back what a spike made huge, the ready queue and the frame
  // pools (never on the busy path: a spike that comes back reuses both).
  if (mask_ >= 64 * initial_size) [[unlikely]] shrink();
  if (frame_pools_over_budget()) [[unlikely]] release_frame_pools();
  if (virtual_time_ && !timers_.empty()) {
    jump_to_next_timer();
    return;
  }
  // The sends queued in this turn usually complete during the submit, so waiting for their
  // CQEs alone would return at once and cost a second enter for the next event. Quiet sends
  // (write-behind: no task waits for them) are always waited for plus one more event; in
  // batch mode so are the inline sends tasks wait for, at most wait_batch CQEs. Only when
  // something else is in flight to provide that event, and never longer than the batch
  // timeout: a send that does not complete inline would otherwise hold the wait past it.
  unsigned wait_nr = 1;
  bool batch_bound = false;
  const unsigned quiet = ring_.quiet_queued();
  const unsigned expected = quiet + (wait_batch_ > 1 ? ring_.inline_queued() : 0);
  if (expected > 0 && outstanding_ > expected) {
    wait_nr = expected + 1;
    if (wait_batch_ > 1 && wait_nr > wait_batch_) wait_nr = wait_batch_;
    if (timeout_ns < 0 || timeout_ns > batch_timeout_ns_) {
      timeout_ns = batch_timeout_ns_;
      batch_bound = true;
    }
  }
  if (Remote && !remote_->prepare_sleep(remote_)) return;
  ring_.enter(wait_nr, timeout_ns);
  if (Remote) remote_->woke(remote_);
  const std::uint64_t cqes_before = ring_.counters().cqes;
  const std::uint64_t quiet_before = quiet_reaped_;
  reap();
  // Fewer CQEs than waited for: the bound ended the wait (the enter itself reports success
  // when it submitted something, so its result cannot tell). A task resumed late if one of
  // the CQEs was its own: in batch mode any, in the default mode any but a quiet send's.
  const std::uint64_t got = ring_.counters().cqes - cqes_before;
  if (batch_bound && got < wait_nr && (wait_batch_ > 1 || got > quiet_reaped_ - quiet_before))
    ++counters_.batch_timeouts;
  if (!timers_.empty() && count_ == 0) fire_timers(clock::now());
}

// Virtual time (autojump): no task is ready. First let the kernel hand over whatever has
// already completed, with one enter that does not wait; if that readies nobody, no task can
// run before the earliest deadline, so the clock jumps to it and fires it (and any timer at
// the same time) in the order real time would. I/O still in flight is not waited for: a
// deadline guarding it expires at once, in virtual time.
void loop::jump_to_next_timer() {
  if (outstanding_ || ring_.pending()) {
    ring_.enter(0, -1);
    reap();
    if (count_ > 0) return;
  }
  virtual_now_ = timers_.front()->when;
  fire_timers(virtual_now_);
}

void loop::run_until(const bool& done) {
  // Every turn's resumes start at this depth (run_once's frame below this one's).
  const char* const outer_floor = chain_floor_;
  chain_floor_ = stack_pointer() - chain_stack;
  struct restore {
    loop& l;
    const char* floor;
    ~restore() { l.chain_floor_ = floor; }
  } r{*this, outer_floor};
  if (remote_)
    while (!done) run_once<true>(done);
  else
    while (!done) run_once<false>(done);
}

void loop::drain(const std::uint16_t& pending) {
  while (pending) {
    ring_.enter(1, -1);
    reap();
  }
}

}  // namespace coring::detail
