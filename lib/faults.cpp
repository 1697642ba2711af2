// Built only into libcoring_faults (CORING_FAULT_INJECTION): the hooks of detail/faults.hpp.
#include "coring/detail/faults.hpp"

#include <unistd.h>

namespace coring::detail::faults {
namespace {
// Faults are planned and consumed on the loop thread of the test that sets them.
thread_local plan tl_plan;
thread_local io_uring_cqe tl_rewritten;

bool take(unsigned& count) noexcept {
  if (count == 0) return false;
  --count;
  return true;
}
}  // namespace

void set_plan(const plan& p) noexcept { tl_plan = p; }
plan current_plan() noexcept { return tl_plan; }

const io_uring_cqe& filter_cqe(std::uint8_t opcode, const io_uring_cqe& cqe) noexcept {
  if (tl_plan.cqe_opcode != static_cast<int>(opcode) || !take(tl_plan.cqe_count)) return cqe;
  // What the kernel really produced must not leak: a descriptor it handed over is closed.
  if (cqe.res >= 0 && (opcode == IORING_OP_ACCEPT || opcode == IORING_OP_OPENAT)) ::close(cqe.res);
  tl_rewritten = cqe;
  tl_rewritten.res = -tl_plan.cqe_errno;
  return tl_rewritten;
}

bool sq_full() noexcept { return take(tl_plan.sq_full); }

int enter_error() noexcept { return take(tl_plan.enter_count) ? tl_plan.enter_errno : 0; }

int socket_error() noexcept { return take(tl_plan.socket_count) ? tl_plan.socket_errno : 0; }

}  // namespace coring::detail::faults
