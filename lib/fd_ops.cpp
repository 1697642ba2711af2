#include "coring/detail/fd_ops.hpp"

#include <unistd.h>

#include <cerrno>

namespace coring::detail {

close_op::~close_op() {
  // A task tree destroyed while the close is in the kernel: the CQE still names us.
  if (!settle()) return;
  if (!submitted_) {
    // Never awaited: do not leak the descriptor. An SQE still queued may name it (a
    // stream's write-behind send, which counted on this close being queued behind it), and
    // the number must not be free for reuse before that SQE reaches the kernel.
    if (loop* l = this_thread().lp; l && fd_ >= 0) l->submit_now();
    close_fd_now(fd_);
  }
}

void close_op::await_suspend(std::coroutine_handle<> h) {
  capture(h);
  submit(current_loop(), [fd = fd_](io_uring_sqe* sqe) { io_uring_prep_close(sqe, fd); });
  submitted_ = true;
}

void close_op::await_resume() {
  if (res_ < 0) throw_errno(res_, "close fd " + std::to_string(fd_));
}

void close_op::on_cqe(request* r, const io_uring_cqe& cqe) noexcept { static_cast<close_op*>(r)->res_ = cqe.res; }

void close_op::on_settled(request* r) noexcept {
  auto* self = static_cast<close_op*>(r);
  self->resume_on(*self->owner_loop());
}

void close_fd_now(int fd) noexcept {
  if (fd < 0) return;
  const int saved = errno;
  ::close(fd);
  errno = saved;
}

}  // namespace coring::detail
