// Layer 2 internals: the proactor loop (a ready queue of coroutine handles, completion
// dispatch, the timer heap) and the thread's pointer to it. The loop knows coroutines and
// CQEs, nothing of cancel scopes, tasks' names or structured concurrency: what it resumes is a
// `schedulable` (layer 3's task_node derives from it).
// Users never include this directly; awaitables in the public headers build on it.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <vector>

#include "coring/clock.hpp"
#include "coring/detail/ilist.hpp"
#include "coring/detail/ring.hpp"

namespace coring {
struct runtime_options;
}  // namespace coring

namespace coring::detail {

// What the ready queue resumes frames on behalf of: the loop counts the queue entries of
// each (so a unit being destroyed can drop its entries) and tells the thread which one runs.
struct schedulable {
  unsigned queued = 0;  // entries in the ready queue
  // Not the loop's: the unit's own small state (a spawned task keeps its handle count and
  // outcome flags here), in what would otherwise be padding before the unit's 8-byte members.
  std::uint32_t unit_word = 0;
};

// A deadline in the loop's timer heap. A deadline of time_point::max() means "never" and is
// not armed at all. Equal deadlines fire in the order they were armed (`seq`), as they do
// under real time, where a later arm reads a later clock.
struct timer_entry {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  time_point when{};
  void (*fire)(timer_entry*) noexcept = nullptr;
  std::size_t index = npos;
  std::uint64_t seq = 0;
  bool armed() const noexcept { return index != npos; }
};

// Every SQE's user_data is the address of one of these, with a small tag in the low bits
// telling the owner which of its SQEs the CQE answers.
struct completion {
  void (*complete)(completion*, const io_uring_cqe&) noexcept;
};
enum cqe_tag : std::uintptr_t { tag_op = 0, tag_cancel = 1, tag_link_timeout = 2, tag_mask = 7 };
inline std::uint64_t user_data(completion* c, cqe_tag t) noexcept {
  return reinterpret_cast<std::uintptr_t>(c) | t;
}

// Cross-thread hand-offs of a multi-thread runtime (detail/threads.hpp implements it). A
// single-thread loop has none, and its iteration is compiled without them (run_once<false>).
struct remote_hook {
  void (*drain)(remote_hook*) noexcept;          // start of an iteration: run what was posted
  bool (*prepare_sleep)(remote_hook*) noexcept;  // before a wait; false: something arrived
  void (*woke)(remote_hook*) noexcept;           // after the wait
  bool (*keeps_alive)(remote_hook*) noexcept;    // another thread will post: not a deadlock
  unsigned quiet = 0;  // the hook's own requests always in flight (an eventfd read)
};

// An object that may hold kernel requests beyond the life of its owner (a stream's
// write-behind buffer): the loop lists it, and when the loop ends it calls `on_loop_end`
// (with the loop current on the thread, so the object can cancel and wait for its requests)
// before the ring goes.
struct resident_tag {};
struct loop_resident : hook<resident_tag> {
  void (*on_loop_end)(loop_resident*) noexcept = nullptr;
};

struct loop_counters {
  std::uint64_t iterations = 0;
  std::uint64_t tasks = 0;
  std::uint64_t timers_fired = 0;
  // Batch-mode waits (wait_batch > 1) that ended by their bound instead of by the CQEs they
  // waited for: each one is a task that resumed up to wait_batch_timeout late. In the
  // default mode, the waits for quiet sends (write-behind) that ended by their bound while
  // some other event was in (a send that did not complete during the submit).
  std::uint64_t batch_timeouts = 0;
  // Ready entries looked at to take a torn-down unit's out of the queue (forget): what
  // tells a teardown that scans the queue once from one that scans it per task.
  std::uint64_t forget_scanned = 0;
};

class loop;

// The thread's runtime state: the loop that runs here, the unit whose frame it resumed
// last, and the virtual clock if the loop runs on one.
struct thread_state {
  loop* lp = nullptr;
  schedulable* current = nullptr;
  const time_point* virtual_now = nullptr;  // what coring::clock::now() reads, if set
};
extern constinit thread_local thread_state tls [[gnu::tls_model("initial-exec")]];

// All access to `tls` goes through here. GCC 12's UBSan mis-reports the address of an
// initial-exec thread-local used inside a coroutine as null; the accessor is exempt from
// that check (it cannot be null) so the sanitizer suite reports only real problems.
[[gnu::no_sanitize_undefined]] inline thread_state& this_thread() noexcept { return tls; }

class loop {
 public:
  explicit loop(const runtime_options& opts);
  ~loop();
  loop(const loop&) = delete;
  loop& operator=(const loop&) = delete;

  // Queues `h` (a suspended frame run on behalf of `s`) to be resumed in the next iteration.
  void post(std::coroutine_handle<> h, schedulable* s) {
    if (count_ > mask_) [[unlikely]] {
      // Out of line, so that no value of the caller's lives across a call on the usual
      // path (which then needs no callee-saved registers).
      post_growing(h, s);
      return;
    }
    fill(at(head_ + count_), h, s);
    count_ += step;
  }
  // A yield: queues (h, s) behind every ready task, like post, and returns the frame to
  // resume now. That is the next entry of this turn when there is one, taken off the queue
  // as the turn would take it (the caller's symmetric transfer then resumes it without a
  // return to run_once and a call from it: bench/count_instructions build-release
  // yield_8192_ns), else std::noop_coroutine() (back to the loop, whose turn is over).
  // The order is the same as post's: each task of the turn still runs once, then the I/O
  // and timers, then the next turn. A build that does not make symmetric transfer a tail
  // call (g++ -O0) grows the stack by a few frames per hand-off: below chain_floor_ the
  // hand-offs stop, and the stack unwinds to the loop. Errors: std::bad_alloc (growing
  // the queue), as post.
  std::coroutine_handle<> yield_turn(std::coroutine_handle<> h, schedulable* s) {
    const std::size_t head = head_;
    if (head == turn_end_ || stack_pointer() < chain_floor_) {
      post(h, s);
      return std::noop_coroutine();
    }
    // The next entry leaves the head and ours joins the tail: the count stays, and the slot
    // written is free even in a full queue, where it is the one just read.
    const entry next = at(head);
    fill(at(head + count_), h, s);
    head_ = head + step;
    --next.unit->queued;
    this_thread().current = next.unit;
    return next.h;
  }
  // True when a loop turn now would do nothing but resume the caller again: no other task
  // is ready, no completion waits to be reaped or collected from the kernel, no SQE waits to
  // be submitted, no timer is armed (so no clock needs reading), and the loop takes no
  // hand-offs from other threads (their inbox is drained only by a turn). A yield may then
  // go on without suspending: the turn it saves could not have let anyone else in.
  bool nothing_else_to_do() const noexcept {
    // count_ first: when tasks take turns (the case a yield is for) it ends the test at once.
    return count_ == 0 && remote_ == nullptr && timers_.empty() && ring_.pending() == 0 && ring_.cq_ready() == 0 &&
           (outstanding_ == 0 || !ring_.has_deferred_work());
  }
  // An SQE whose single final CQE (one without IORING_CQE_F_MORE) the loop will wait for.
  io_uring_sqe* get_sqe() {
    io_uring_sqe* s = ring_.get_sqe();
    ++outstanding_;
    return s;
  }
  void reserve(unsigned n) { ring_.reserve(n); }
  // The SQE just queued usually completes during the submit itself (a send on a socket
  // with room): batch mode may then wait for its CQE plus the next event in one enter.
  void note_inline_completion() noexcept { ring_.note_inline(); }
  // Work finishing outside the ring that will be announced by a CQE (e.g. MSG_RING from a
  // worker thread): counts as outstanding so the loop waits for it instead of stopping.
  void expect_cqe() noexcept { ++outstanding_; }
  // An expected CQE that will not come after all (the work was withdrawn).
  void unexpect_cqe() noexcept { --outstanding_; }

  // Arms `t` for t.when (re-arms it if armed); a deadline of time_point::max() is never
  // armed. The heap orders by (when, arming order).
  void add_timer(timer_entry& t);
  void remove_timer(timer_entry& t) noexcept;
  // The virtual clock's current time when the loop runs on virtual time, else null.
  const time_point* virtual_clock() const noexcept { return virtual_time_ ? &virtual_now_ : nullptr; }

  // Runs iterations until `done` becomes true. Throws std::logic_error when nothing can
  // ever make progress (no ready task, no operation in flight, no timer).
  void run_until(const bool& done);
  // Drops the ready entries of a unit that is being destroyed. Costs a pass over the
  // queue when the unit has entries.
  void forget(schedulable& s) noexcept;
  // Drops the ready entries of every unit in `units` (reordered here) in one pass over the
  // queue, for a teardown of many units at once: forget on each would scan the queue once
  // per unit (a group torn down with 40,000 queued children took a second that way).
  void forget_all(std::vector<schedulable*>& units) noexcept;
  // Blocks (entering the kernel) until `pending` drops to zero. Used only by destructors of
  // operations torn down while the kernel still owns their memory.
  void drain(const std::uint16_t& pending);

  // Hands the SQEs queued so far to the kernel now (one enter, no wait), for a caller about
  // to close(2) a descriptor one of them names: the number must not be free for reuse
  // before they are in. Never throws: a ring that refuses submissions leaves them queued,
  // and they fail with the descriptor they name.
  void submit_now() noexcept;
  // Lists `r` until it unlinks itself (its hook's destructor does).
  void add_resident(loop_resident& r) noexcept { residents_.push_back(r); }
  // A quiet send's CQE (ring::note_quiet) was reaped: the wait that counted it can tell
  // whether only quiet sends came in when its bound ended it.
  void quiet_send_done() noexcept { ++quiet_reaped_; }

  void set_remote(remote_hook* r) noexcept { remote_ = r; }
  remote_hook* remote() const noexcept { return remote_; }

  ring& uring() noexcept { return ring_; }
  const loop_counters& counters() const noexcept { return counters_; }
  std::uint64_t next_task_id() noexcept { return ++counters_.tasks; }
  std::uint64_t outstanding() const noexcept { return outstanding_; }
  // The ready queue's buffer, in entries (for the tests of its growth and shrinking).
  std::size_t ready_capacity() const noexcept { return (mask_ + 1) / step; }

 private:
  struct entry {
    std::coroutine_handle<> h;
    schedulable* unit;
  };
  // Positions in the queue are byte offsets (multiples of step), masked by mask_ on access:
  // an entry's address is then buf_ plus one AND, with no shift per index (yield_8192_ns:
  // 92.2 -> 86.9 instructions, bench/count_instructions build-release).
  static constexpr std::size_t step = sizeof(entry);
  static constexpr std::size_t initial_size = 1024 * step;
  entry& at(std::size_t pos) const noexcept {
    return *reinterpret_cast<entry*>(reinterpret_cast<char*>(buf_) + (pos & mask_));
  }
  // Writes a ready entry for `h`, run on behalf of `s`, and counts it in `s`.
  static void fill(entry& e, std::coroutine_handle<> h, schedulable* s) noexcept {
    e.h = h;
    // Two plain stores on purpose: left alone, g++ 12 packs the pair into an xmm register
    // through the stack (six instructions for two), and every yield and wake-up pays it
    // (bench/count_instructions build-release yield_8192_ns: 118 -> 112). The empty asm
    // tells it the first word is used, so it cannot merge the stores.
    asm("" : "+m"(e.h));
    e.unit = s;
    ++s->queued;
  }
  // How much stack a chain of hand-offs (yield_turn) may take below the loop's frame in a
  // build without tail calls; with them a chain takes none.
  static constexpr std::size_t chain_stack = 16 * 1024;
  static const char* stack_pointer() noexcept {
#if defined(__x86_64__)
    const char* sp;
    asm("mov %%rsp, %0" : "=r"(sp));
    return sp;
#elif defined(__aarch64__)
    const char* sp;
    asm("mov %0, sp" : "=r"(sp));
    return sp;
#else
    return static_cast<const char*>(__builtin_frame_address(0));
#endif
  }
  void grow();
  [[gnu::noinline]] void post_growing(std::coroutine_handle<> h, schedulable* s);
  void shrink() noexcept;  // only when idle: the queue is empty
  // Takes out of the queue the entries whose unit drop(unit) picks, keeping the others in
  // order; counts the entries looked at (loop_counters::forget_scanned).
  template <class Drop>
  void drop_entries(Drop drop) noexcept;
  // Remote: a multi-thread runtime's loop (remote_ set); the single-thread loop is
  // compiled without the hand-off hooks.
  template <bool Remote>
  void run_once(const bool& done);
  void fire_timers(time_point now);
  void jump_to_next_timer();
  void reap();
  void heap_up(std::size_t i) noexcept;
  void heap_down(std::size_t i) noexcept;

  ring ring_;
  entry* buf_ = nullptr;
  // In bytes (see at()): head_ counts the entries ever taken (the first is at(head_)), so
  // a turn's end is a position that stays put while hand-offs take entries: turn_end_,
  // equal to head_ outside a turn and never beyond head_ + count_ (forget clamps it).
  // count_ covers the entries queued; mask_ is the buffer's size in bytes less one.
  std::size_t head_ = 0, count_ = 0, mask_ = 0;
  std::size_t turn_end_ = 0;
  const char* chain_floor_ = nullptr;
  std::vector<timer_entry*> timers_;
  std::uint64_t timer_seq_ = 0;
  bool virtual_time_ = false;
  time_point virtual_now_{};
  std::uint64_t outstanding_ = 0;
  loop_counters counters_;
  unsigned wait_batch_ = 1;
  long long batch_timeout_ns_ = 5'000'000;
  remote_hook* remote_ = nullptr;
  ilist<loop_resident, resident_tag> residents_;
  std::uint64_t quiet_reaped_ = 0;
};

// The loop running on this thread; calling an awaitable outside coring::run is a
// programming error reported here.
loop& current_loop_checked();
inline loop& current_loop() {
  loop* l = this_thread().lp;
  return l ? *l : current_loop_checked();
}
// True inside a runtime that runs on virtual time.
inline bool virtual_time_active() noexcept { return this_thread().virtual_now != nullptr; }

}  // namespace coring::detail
