#include "coring/detail/wake.hpp"

#include <liburing.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace coring::detail {

wakeup probed_wakeup() noexcept {
  static const wakeup mode = [] {
    io_uring_probe* p = io_uring_get_probe();
    if (!p) return wakeup::eventfd;
    const bool ok = io_uring_opcode_supported(p, IORING_OP_MSG_RING);
    io_uring_free_probe(p);
    return ok ? wakeup::msg_ring : wakeup::eventfd;
  }();
  return mode;
}

void eventfd_signal(int efd) noexcept {
  const std::uint64_t one = 1;
  ssize_t w;
  do {
    w = ::write(efd, &one, sizeof one);
  } while (w < 0 && errno == EINTR);
}

}  // namespace coring::detail
