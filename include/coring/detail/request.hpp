// The one kernel-request record. Every request coring hands to the kernel (a single-shot
// operation with or without a linked timeout, a multishot accept or receive, a completion
// announced from outside the ring by a worker thread, an uncancellable close) is owned by
// one of these, and this is the only code that
//  - counts the CQEs that still name a record (the request's own, its ASYNC_CANCEL's, its
//    link timeout's, an expected MSG_RING),
//  - prepares IORING_OP_ASYNC_CANCEL,
//  - waits, when its owner is torn down early, until the kernel no longer names its memory.
// Owners give two callbacks: `on_cqe` for each CQE of the request itself (the result, or one
// of many for a multishot request) and `on_settled` once nothing names the record any more
// (the moment a single-shot owner may resume its task). Neither may free the record.
#pragma once

#include <cerrno>
#include <cstdint>
#include <utility>

#include "coring/detail/loop.hpp"

namespace coring::detail {

class request : public completion {
 public:
  using cqe_fn = void (*)(request*, const io_uring_cqe&) noexcept;
  using settled_fn = void (*)(request*) noexcept;

  // `cancellable = false` for requests whose outcome the caller must always learn (close:
  // a cancelled close would leave the descriptor's state unknown).
  request(cqe_fn on_cqe, settled_fn on_settled, bool cancellable = true) noexcept
      : completion{&dispatch}, on_cqe_(on_cqe), on_settled_(on_settled), cancellable_(cancellable) {}
  request(const request&) = delete;
  request& operator=(const request&) = delete;
  // An owner that is destroyed while the kernel may still name it calls settle() first.
  ~request() = default;

  // Takes an SQE, lets `prep(sqe)` fill it (an io_uring_prep_* call) and marks it as this
  // request's. With `link_ts`, an IORING_OP_LINK_TIMEOUT of that length is linked to it;
  // both SQEs are reserved together so the pair is never half-queued.
  template <class Prep>
  void submit(loop& l, Prep&& prep, const __kernel_timespec* link_ts = nullptr) {
    lp_ = &l;
    if (link_ts) l.reserve(2);
    io_uring_sqe* sqe = l.get_sqe();
    std::forward<Prep>(prep)(sqe);
    opcode_ = sqe->opcode;
    sqe->user_data = user_data(this, tag_op);
    live_ = true;
    external_ = false;
    cancel_sent_ = false;
    timed_out_ = false;
    ++owed_;
    if (link_ts) {
      sqe->flags |= IOSQE_IO_LINK;
      io_uring_sqe* lt = l.get_sqe();
      io_uring_prep_link_timeout(lt, const_cast<__kernel_timespec*>(link_ts), 0);
      lt->user_data = user_data(this, tag_link_timeout);
      ++owed_;
    }
  }

  // The completion will be posted from outside this thread: by a worker's IORING_OP_MSG_RING
  // into the ring (`through_ring`, the loop then waits for it) or by calling complete() on
  // the loop thread (the eventfd fallback, which has its own read in flight).
  void expect_external(loop& l, bool through_ring) noexcept {
    lp_ = &l;
    live_ = true;
    external_ = true;
    external_in_ring_ = through_ring;
    ++owed_;
    if (through_ring) l.expect_cqe();
  }
  // The expected external completion will never come (the job was withdrawn before it
  // ran): settle as if it had; on_settled runs only with `notify` (not from a destructor).
  void withdraw_external(bool notify) noexcept {
    live_ = false;
    if (external_in_ring_) lp_->unexpect_cqe();
    if (!notify) dying_ = true;
    finish_one();
    dying_ = false;
  }

  // Asks the kernel to stop the request (once; not for uncancellable requests, nor from a
  // thread other than the owning loop's). Its final CQE still comes.
  void cancel() noexcept;

  // For destructors: cancels the request if it is still live and waits for every CQE that
  // names the record, without calling on_settled. Returns false when it cannot wait (another
  // thread, or the runtime is gone): the owner must then leak the memory instead of freeing
  // it under the kernel.
  bool settle() noexcept;

  bool busy() const noexcept { return owed_ != 0; }
  bool live() const noexcept { return live_; }
  bool timed_out() const noexcept { return timed_out_; }
  bool cancel_sent() const noexcept { return cancel_sent_; }
  loop* owner_loop() const noexcept { return lp_; }

 private:
  static void dispatch(completion* c, const io_uring_cqe& cqe) noexcept;
  void finish_one() noexcept {
    if (--owed_ == 0 && !dying_ && on_settled_) on_settled_(this);
  }

  cqe_fn on_cqe_;
  settled_fn on_settled_;
  loop* lp_ = nullptr;
  std::uint16_t owed_ = 0;     // CQEs that still name this record
  std::uint8_t opcode_ = 0;    // of the request itself (fault injection, diagnostics)
  bool cancellable_;
  bool live_ = false;          // the request itself has not posted its final CQE
  bool cancel_sent_ = false;
  bool timed_out_ = false;     // its link timeout fired
  bool dying_ = false;         // the owner is being destroyed: settle() is draining
  bool external_ = false;       // completed from outside the ring (no ASYNC_CANCEL possible)
  bool external_in_ring_ = false;
};

}  // namespace coring::detail
