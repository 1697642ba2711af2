// Fault injection for the test build (libcoring_faults, compiled with
// CORING_FAULT_INJECTION): the ring can be made to see a full SQ, io_uring_enter to fail
// with a chosen errno, CQE results of a chosen opcode to be replaced by an error, and
// socket creation to fail. In every other build these hooks are empty inline functions, so
// they cost nothing.
#pragma once

#include <liburing.h>

#include <cstdint>

namespace coring::detail::faults {

#ifdef CORING_FAULT_INJECTION
struct plan {
  unsigned sq_full = 0;             // the next N get_sqe calls find the SQ full
  int enter_errno = 0;              // the next `enter_count` enters fail with this errno
  unsigned enter_count = 0;
  int cqe_opcode = -1;              // CQEs of this opcode (IORING_OP_*) ...
  int cqe_errno = 0;                // ... complete with -cqe_errno instead ...
  unsigned cqe_count = 0;           // ... this many times
  int socket_errno = 0;             // the next `socket_count` socket() calls fail
  unsigned socket_count = 0;
};
void set_plan(const plan& p) noexcept;
plan current_plan() noexcept;  // what is left of the plan
const io_uring_cqe& filter_cqe(std::uint8_t opcode, const io_uring_cqe& cqe) noexcept;
bool sq_full() noexcept;
int enter_error() noexcept;
int socket_error() noexcept;
#else
inline const io_uring_cqe& filter_cqe(std::uint8_t, const io_uring_cqe& cqe) noexcept { return cqe; }
inline bool sq_full() noexcept { return false; }
inline int enter_error() noexcept { return 0; }
inline int socket_error() noexcept { return 0; }
#endif

}  // namespace coring::detail::faults
