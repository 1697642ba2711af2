// Layer 1: RAII over liburing. Knows nothing about coroutines.
//
// The ring is set up with the best flags the kernel accepts, falling back one step at a
// time, and records which ones are in force. It counts every io_uring_enter it makes, every
// SQE the kernel consumed and every CQE reaped, because the runtime's promise of "few system
// calls" is checked against these counters.
#pragma once

#include <liburing.h>

#include <cstdint>
#include <string>

namespace coring::detail {

struct ring_counters {
  std::uint64_t enters = 0;  // io_uring_enter system calls
  std::uint64_t sqes = 0;    // SQEs the kernel consumed
  std::uint64_t cqes = 0;    // CQEs reaped
};

class ring {
 public:
  // Sets up a ring with room for `entries` SQEs. Throws std::system_error with a message
  // that says why io_uring is unusable and what to change (seccomp, sysctl, old kernel).
  // `cq_entries` 0 picks four times `entries`, at least 4096.
  ring(unsigned entries, unsigned cq_entries);
  ~ring();
  ring(const ring&) = delete;
  ring& operator=(const ring&) = delete;

  // Returns the next free SQE; the caller fills it with an io_uring_prep_* call. When the
  // SQ is full the queued SQEs are submitted first (one enter, counted) so this never fails.
  io_uring_sqe* get_sqe();

  // Makes room for `n` SQEs taken back to back, so a linked chain is never half-queued
  // behind a flush. Call before taking the first SQE of the chain.
  void reserve(unsigned n);

  // SQEs queued but not yet handed to the kernel.
  unsigned pending() const noexcept { return io_uring_sq_ready(&ring_); }
  // Marks the SQE just queued as one that usually completes during the submit itself (a
  // send on a socket with room). Every enter hands the queued SQEs over and clears the count,
  // so it always describes what the next enter will submit.
  void note_inline() noexcept { ++inline_queued_; }
  unsigned inline_queued() const noexcept { return inline_queued_; }
  // Marks the SQE just queued as a "quiet" send: one that usually completes during the
  // submit and that no task waits for (a stream's write-behind, detail/stream_writer.hpp).
  // The loop's wait counts its CQE on top of the event it sleeps for instead of waking for
  // it. unnote_quiet() takes the mark back when a task starts waiting for the send before it
  // was submitted. Every enter clears the count, like inline_queued().
  void note_quiet() noexcept { ++quiet_queued_; }
  void unnote_quiet() noexcept { --quiet_queued_; }
  unsigned quiet_queued() const noexcept { return quiet_queued_; }

  // One io_uring_enter: hands every queued SQE to the kernel and, when `wait_nr` > 0, waits
  // until that many CQEs are ready or `timeout_ns` (if >= 0) passes. Always asks the kernel
  // to run deferred task work so completions become visible. Returns false on timeout or
  // signal; throws std::system_error on any other failure.
  bool enter(unsigned wait_nr, long long timeout_ns);

  // True when the kernel has completions that only an enter can post (deferred task work),
  // or when CQEs are already waiting in the CQ ring. Inline: a yield asks, and a call there
  // makes the yield keep its values in callee-saved registers.
  bool has_deferred_work() const noexcept {
    if (io_uring_cq_ready(&ring_)) return true;
    if (ring_.flags & IORING_SETUP_TASKRUN_FLAG)
      return IO_URING_READ_ONCE(*ring_.sq.kflags) & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW);
    return true;  // without the flag we cannot know: ask the kernel
  }
  unsigned cq_ready() const noexcept { return io_uring_cq_ready(&ring_); }

  // Calls fn(cqe) for every CQE in the CQ ring, then marks them seen.
  template <class F>
  unsigned reap(F&& fn) {
    unsigned head, n = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      fn(*cqe);
      ++n;
    }
    io_uring_cq_advance(&ring_, n);
    counters_.cqes += n;
    return n;
  }

  unsigned features() const noexcept { return ring_.features; }
  // IORING_RECVSEND_POLL_FIRST when the kernel takes it (Linux 5.19+), else 0: a receive
  // that will most likely find the socket empty (a reply to what the stream just sent)
  // arms its poll at once instead of first trying a receive that can only fail. No
  // feature bit announces it; DEFER_TASKRUN in force (Linux 6.1+) proves a kernel new
  // enough, and an older one simply goes without.
  unsigned recv_poll_first() const noexcept {
    return (ring_.flags & IORING_SETUP_DEFER_TASKRUN) ? IORING_RECVSEND_POLL_FIRST : 0;
  }
  int fd() const noexcept { return ring_.ring_fd; }
  const ring_counters& counters() const noexcept { return counters_; }
  std::string describe_flags() const;  // "SINGLE_ISSUER|DEFER_TASKRUN|... registered-fd"
  io_uring* raw() noexcept { return &ring_; }

 private:
  void flush_sq() noexcept;
  io_uring ring_{};
  bool registered_ = false;
  unsigned inline_queued_ = 0;
  unsigned quiet_queued_ = 0;
  ring_counters counters_;
};

}  // namespace coring::detail
