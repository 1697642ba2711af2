#include "coring/detail/fd_ops.hpp"

#include <unistd.h>

#include <cerrno>

namespace coring::detail {

close_op::~close_op() {
  if (pending_) {
    // The task tree is being destroyed while the close is in the kernel: the CQE names us.
    destroying_ = true;
    lp_->drain(pending_);
  } else if (!submitted_) {
    close_fd_now(fd_);  // never awaited: do not leak the descriptor
  }
}

void close_op::await_resume() {
  if (res_ < 0) throw_errno(res_, "close fd " + std::to_string(fd_));
}

void close_op::on_cqe(completion* c, const io_uring_cqe& cqe) noexcept {
  auto* self = static_cast<close_op*>(c);
  self->res_ = cqe.res;
  self->pending_ = 0;
  if (!self->destroying_) self->lp_->post(self->handle_, self->node_);
}

void close_fd_now(int fd) noexcept {
  if (fd < 0) return;
  const int saved = errno;
  ::close(fd);
  errno = saved;
}

}  // namespace coring::detail
