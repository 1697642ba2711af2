// How one thread wakes another thread's sleeping loop, shared by the blocking pool
// (blocking.cpp) and the loop threads of a multi-thread runtime (threads.cpp): an
// IORING_OP_MSG_RING CQE posted into the sleeper's ring (Linux 5.18+), or, where the kernel
// lacks it, a write to an eventfd the sleeper keeps a read on. The wake-up carries no data:
// what it announces is handed over in user space with a release/acquire pair, because
// ThreadSanitizer cannot see the kernel as a synchroniser.
#pragma once

namespace coring::detail {

enum class wakeup { msg_ring, eventfd };

// What the kernel offers (probed once per process).
wakeup probed_wakeup() noexcept;
// Adds 1 to eventfd `efd` (retrying on EINTR). Errors are ignored: a full counter still
// wakes the reader.
void eventfd_signal(int efd) noexcept;

}  // namespace coring::detail
