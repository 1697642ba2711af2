// The one base of every single-shot io_uring operation. It owns the cancellation state
// machine so no operation writes its own:
//  - a cancelled scope refuses to submit (throws coring::cancelled, nothing queued);
//  - cancellation of a submitted op queues IORING_OP_ASYNC_CANCEL for it;
//  - with a link timeout, the op's SQE and an IORING_OP_LINK_TIMEOUT are reserved and
//    queued together (a linked pair is never half-queued);
//  - the frame resumes only when every CQE that names it has arrived (op, cancel, link
//    timeout): `pending_` counts them;
//  - a result that completed before the cancel took hold is delivered; the cancellation
//    is then raised at the next suspension point (scopes are level-triggered).
//
// Derived classes provide
//   static constexpr const char* op_name;       // for dump_tasks and error messages
//   void prepare(io_uring_sqe*);                 // an io_uring_prep_* call
//   R result(int res, unsigned cqe_flags);       // turn the CQE into a value or throw_errno
// and may declare `static constexpr bool completes_inline = true;` when the op usually
// finishes during the submit itself (socket sends), which the loop's batch mode uses.
#pragma once

#include <cerrno>
#include <chrono>
#include <utility>

#include "coring/detail/waiter.hpp"

namespace coring::detail {

template <class Derived>
class io_op : public completion, protected waiter {
 public:
  io_op() noexcept { complete = &on_cqe; }
  // Ops are values until awaited (with_timeout moves them into its frame).
  io_op(io_op&& o) noexcept : completion{&on_cqe}, link_(o.link_), ts_(o.ts_) {}
  io_op& operator=(io_op&&) = delete;
  ~io_op() {
    if (pending_) {
      // Torn down while the kernel still owns our memory (a suspended task tree being
      // destroyed): cancel, then wait for every CQE before the frame may go.
      destroying_ = true;
      if (!op_done_ && !aborted) submit_cancel();
      lp->drain(pending_);
    }
  }

  // Used by with_timeout: attach an IORING_OP_LINK_TIMEOUT of `d` to this operation.
  void set_link_timeout(duration d) noexcept {
    link_ = true;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    ts_.tv_sec = ns / 1'000'000'000;
    ts_.tv_nsec = ns % 1'000'000'000;
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    if (!park(h, &on_abort, Derived::op_name)) return false;
    if (link_) {
      lp->reserve(2);
      io_uring_sqe* op = lp->get_sqe();
      derived().prepare(op);
      op->flags |= IOSQE_IO_LINK;
      op->user_data = user_data(this, tag_op);
      io_uring_sqe* lt = lp->get_sqe();
      io_uring_prep_link_timeout(lt, &ts_, 0);
      lt->user_data = user_data(this, tag_link_timeout);
      pending_ = 2;
    } else {
      io_uring_sqe* op = lp->get_sqe();
      derived().prepare(op);
      op->user_data = user_data(this, tag_op);
      pending_ = 1;
    }
    if constexpr (requires { Derived::completes_inline; }) lp->note_inline_completion();
    return true;
  }
  decltype(auto) await_resume() {
    done_waiting();
    if (refused) throw cancelled{};
    if (res_ == -ECANCELED || res_ == -EINTR) {
      if (aborted) throw cancelled{};
      if (timed_out_) throw timeout_error(std::string("coring: ") + Derived::op_name + " timed out");
    }
    return derived().result(res_, cqe_flags_);
  }

 protected:
  Derived& derived() noexcept { return static_cast<Derived&>(*this); }

 private:
  void submit_cancel() {
    io_uring_sqe* c = lp->get_sqe();
    io_uring_prep_cancel64(c, user_data(this, tag_op), 0);
    c->user_data = user_data(this, tag_cancel);
    ++pending_;
  }
  static void on_abort(wait_hook* w) noexcept {
    auto* self = static_cast<io_op*>(static_cast<waiter*>(w));
    self->submit_cancel();
  }
  static void on_cqe(completion* c, const io_uring_cqe& cqe) noexcept {
    auto* self = static_cast<io_op*>(c);
    switch (static_cast<cqe_tag>(cqe.user_data & tag_mask)) {
      case tag_op:
        self->res_ = cqe.res;
        self->cqe_flags_ = cqe.flags;
        self->op_done_ = true;
        // The result is in: a later cancel must not be sent for it.
        if (self->node && self->node->wait == self) self->node->wait = nullptr;
        break;
      case tag_link_timeout:
        if (cqe.res == -ETIME) self->timed_out_ = true;
        break;
      default:
        break;
    }
    if (--self->pending_ == 0 && !self->destroying_) self->lp->post(self->handle, self->node);
  }

  int res_ = 0;
  unsigned cqe_flags_ = 0;
  unsigned char pending_ = 0;
  bool op_done_ = false;
  bool timed_out_ = false;
  bool destroying_ = false;
  bool link_ = false;
  __kernel_timespec ts_{};
};

template <class Op>
concept io_operation = requires(Op& op, duration d) { op.set_link_timeout(d); };

// IORING_OP_NOP: completes at once. Used by tests and benchmarks to measure the machinery.
class nop_op : public io_op<nop_op> {
 public:
  static constexpr const char* op_name = "nop";
  void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_nop(sqe); }
  int result(int res, unsigned) {
    if (res < 0) throw_errno(res, op_name);
    return res;
  }
};

// read(2) at an offset (-1: the file position, as for pipes and sockets). Returns bytes read.
class read_op : public io_op<read_op> {
 public:
  static constexpr const char* op_name = "read";
  read_op(int fd, void* buf, unsigned len, std::uint64_t off = static_cast<std::uint64_t>(-1)) noexcept
      : fd_(fd), buf_(buf), len_(len), off_(off) {}
  void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_read(sqe, fd_, buf_, len_, off_); }
  std::size_t result(int res, unsigned) {
    if (res < 0) throw_errno(res, "read fd " + std::to_string(fd_));
    return static_cast<std::size_t>(res);
  }

 private:
  int fd_;
  void* buf_;
  unsigned len_;
  std::uint64_t off_;
};

// write(2) at an offset (-1: the file position). Returns bytes written.
class write_op : public io_op<write_op> {
 public:
  static constexpr const char* op_name = "write";
  write_op(int fd, const void* buf, unsigned len, std::uint64_t off = static_cast<std::uint64_t>(-1)) noexcept
      : fd_(fd), buf_(buf), len_(len), off_(off) {}
  void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_write(sqe, fd_, buf_, len_, off_); }
  std::size_t result(int res, unsigned) {
    if (res < 0) throw_errno(res, "write fd " + std::to_string(fd_));
    return static_cast<std::size_t>(res);
  }

 private:
  int fd_;
  const void* buf_;
  unsigned len_;
  std::uint64_t off_;
};

}  // namespace coring::detail
