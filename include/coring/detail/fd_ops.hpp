// Internals shared by the I/O headers (net, file, signal): closing a descriptor on the ring.
#pragma once

#include <liburing.h>

#include <coroutine>
#include <string>
#include <utility>

#include "coring/detail/request.hpp"
#include "coring/detail/waiter.hpp"

namespace coring::detail {

// IORING_OP_CLOSE for a descriptor the caller has already given up. Not a cancellation
// point on purpose: a close that could be cancelled would leave the caller unable to tell
// whether the descriptor is still open (and closing it again could close a reused number),
// so its request is uncancellable. A pending cancellation is raised at the next suspension
// point instead. If the op is destroyed without ever being awaited, it closes the
// descriptor with close(2), so dropping it never leaks.
class [[nodiscard]] close_op : request, resume_point {
 public:
  explicit close_op(int fd) noexcept : request(&on_cqe, &on_settled, false), fd_(fd) {}
  close_op(close_op&& o) noexcept : request(&on_cqe, &on_settled, false), fd_(std::exchange(o.fd_, -1)) {}
  close_op& operator=(close_op&&) = delete;
  ~close_op();

  bool await_ready() const noexcept { return fd_ < 0; }
  void await_suspend(std::coroutine_handle<> h);
  void await_resume();

 private:
  static void on_cqe(request* r, const io_uring_cqe& cqe) noexcept;
  static void on_settled(request* r) noexcept;

  int fd_;
  int res_ = 0;
  bool submitted_ = false;
};

// Closes `fd` with close(2) if it is >= 0, keeping errno intact. For destructors.
void close_fd_now(int fd) noexcept;

}  // namespace coring::detail
