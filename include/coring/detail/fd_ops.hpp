// Internals shared by the I/O headers (net, file, signal): closing a descriptor on the ring.
#pragma once

#include <liburing.h>

#include <coroutine>
#include <string>
#include <utility>

#include "coring/detail/core.hpp"

namespace coring::detail {

// IORING_OP_CLOSE for a descriptor the caller has already given up. Not a cancellation
// point on purpose: a close that could be cancelled would leave the caller unable to tell
// whether the descriptor is still open (and closing it again could close a reused number).
// A pending cancellation is raised at the next suspension point instead.
// If the op is destroyed without ever being awaited, it closes the descriptor with
// close(2), so dropping it never leaks.
class [[nodiscard]] close_op : completion {
 public:
  explicit close_op(int fd) noexcept : fd_(fd) { complete = &on_cqe; }
  close_op(close_op&& o) noexcept : fd_(std::exchange(o.fd_, -1)) { complete = &on_cqe; }
  close_op& operator=(close_op&&) = delete;
  ~close_op();

  bool await_ready() const noexcept { return fd_ < 0; }
  void await_suspend(std::coroutine_handle<> h) {
    lp_ = &current_loop();
    node_ = this_task();
    handle_ = h;
    io_uring_sqe* sqe = lp_->get_sqe();
    io_uring_prep_close(sqe, fd_);
    sqe->user_data = user_data(this, tag_op);
    pending_ = 1;
    submitted_ = true;
  }
  void await_resume();

 private:
  static void on_cqe(completion* c, const io_uring_cqe& cqe) noexcept;

  int fd_;
  int res_ = 0;
  unsigned char pending_ = 0;
  bool submitted_ = false;
  bool destroying_ = false;
  loop* lp_ = nullptr;
  task_node* node_ = nullptr;
  std::coroutine_handle<> handle_;
};

// Closes `fd` with close(2) if it is >= 0, keeping errno intact. For destructors.
void close_fd_now(int fd) noexcept;

}  // namespace coring::detail
