#include "coring/detail/ring.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>

#include <fmt/format.h>

#include "coring/detail/faults.hpp"
#include "coring/errors.hpp"

namespace coring::detail {
namespace {

std::string read_sysctl_io_uring_disabled() {
  std::FILE* f = std::fopen("/proc/sys/kernel/io_uring_disabled", "r");
  if (!f) return {};
  char buf[16] = {};
  const bool ok = std::fgets(buf, sizeof buf, f) != nullptr;
  std::fclose(f);
  if (!ok) return {};
  std::string s(buf);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

[[noreturn]] void throw_unavailable(int err) {
  std::string why, fix;
  const std::string disabled = read_sysctl_io_uring_disabled();
  if (err == ENOSYS) {
    why = "the kernel has no io_uring (io_uring_setup returned ENOSYS)";
    fix = "run on Linux 6.1 or newer built with CONFIG_IO_URING=y";
  } else if (err == EPERM && !disabled.empty() && disabled != "0") {
    why = fmt::format("io_uring is disabled by sysctl kernel.io_uring_disabled={}", disabled);
    fix = disabled == "1"
              ? "add this user to the group in kernel.io_uring_group, or set "
                "kernel.io_uring_disabled=0"
              : "set kernel.io_uring_disabled=0 (sysctl -w kernel.io_uring_disabled=0)";
  } else if (err == EPERM) {
    why = "io_uring_setup was refused with EPERM, most likely by a seccomp profile "
          "(Docker's and Podman's default profiles block io_uring)";
    fix = "allow the io_uring_setup, io_uring_enter and io_uring_register system calls "
          "(e.g. docker run --security-opt seccomp=<profile allowing io_uring>)";
  } else if (err == ENOMEM) {
    why = "the kernel could not allocate the ring (ENOMEM), usually RLIMIT_MEMLOCK on old kernels";
    fix = "raise the locked-memory limit (ulimit -l) or use a smaller runtime_options::entries";
  } else {
    why = fmt::format("io_uring_setup failed: {}", std::strerror(err));
    fix = "check the kernel version (6.1+) and security policy";
  }
  throw_errno(-err, fmt::format("coring: io_uring is unavailable: {}; to fix: {}", why, fix));
}

// io_uring_setup worked but a later io_uring call is refused: a filter that allows only
// part of io_uring (seccomp profiles listing io_uring_setup but not io_uring_enter).
[[noreturn]] void throw_blocked(int err, const char* call) {
  throw_errno(-err, fmt::format("coring: io_uring is blocked: {} was refused ({}) although io_uring_setup "
                                "worked, most likely by a seccomp profile that allows only part of "
                                "io_uring; to fix: allow the io_uring_setup, io_uring_enter and "
                                "io_uring_register system calls (e.g. docker run --security-opt "
                                "seccomp=<profile allowing io_uring>)",
                                call, std::strerror(err)));
}

}  // namespace

ring::ring(unsigned entries, unsigned cq_entries) {
  if (entries == 0) entries = 1;
  if (cq_entries == 0) cq_entries = entries * 4 < 4096 ? 4096 : entries * 4;
  if (cq_entries < entries) cq_entries = entries;
  // Strongest first; each step drops what an older kernel refuses with EINVAL.
  const unsigned want[] = {
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
          IORING_SETUP_SUBMIT_ALL,
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_SUBMIT_ALL,
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
          IORING_SETUP_SUBMIT_ALL,
      IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
      0u,
  };
  int err = EINVAL;
  for (unsigned flags : want) {
    io_uring_params p{};
    p.flags = flags | IORING_SETUP_CQSIZE;
    p.cq_entries = cq_entries;
    const int r = io_uring_queue_init_params(entries, &ring_, &p);
    if (r == 0) {
      err = 0;
      break;
    }
    err = -r;
    if (err != EINVAL) break;  // only "unsupported flag" is worth another try
  }
  if (err != 0) throw_unavailable(err);
  if (!(ring_.features & IORING_FEAT_EXT_ARG)) {
    io_uring_queue_exit(&ring_);
    throw_errno(-ENOTSUP,
                "coring: io_uring is too old (no IORING_FEAT_EXT_ARG); to fix: run on Linux 5.11 or "
                "newer (6.1+ recommended)");
  }
  registered_ = io_uring_register_ring_fd(&ring_) == 1;
}

ring::~ring() { io_uring_queue_exit(&ring_); }

std::string ring::describe_flags() const {
  std::string s;
  auto add = [&](unsigned bit, const char* name) {
    if (ring_.flags & bit) {
      if (!s.empty()) s += '|';
      s += name;
    }
  };
  add(IORING_SETUP_SINGLE_ISSUER, "SINGLE_ISSUER");
  add(IORING_SETUP_DEFER_TASKRUN, "DEFER_TASKRUN");
  add(IORING_SETUP_COOP_TASKRUN, "COOP_TASKRUN");
  add(IORING_SETUP_TASKRUN_FLAG, "TASKRUN_FLAG");
  add(IORING_SETUP_SUBMIT_ALL, "SUBMIT_ALL");
  if (s.empty()) s = "none";
  if (registered_) s += " registered-fd";
  return s;
}

void ring::flush_sq() noexcept {
  io_uring_sq& sq = ring_.sq;
  // Fill the index array ourselves: liburing versions differ on whether it is pre-filled.
  for (unsigned i = sq.sqe_head; i != sq.sqe_tail; ++i) sq.array[i & sq.ring_mask] = i & sq.ring_mask;
  sq.sqe_head = sq.sqe_tail;
  io_uring_smp_store_release(sq.ktail, sq.sqe_tail);
}

bool ring::enter(unsigned wait_nr, long long timeout_ns) {
  const unsigned to_submit = pending();
  flush_sq();
  inline_queued_ = 0;
  quiet_queued_ = 0;
  unsigned flags = IORING_ENTER_GETEVENTS;
  int fd = ring_.ring_fd;
  if (registered_) {
    flags |= IORING_ENTER_REGISTERED_RING;
    fd = ring_.enter_ring_fd;
  }
  __kernel_timespec ts{};
  io_uring_getevents_arg arg{};
  void* argp = nullptr;
  std::size_t argsz = 0;
  if (wait_nr > 0 && timeout_ns >= 0) {
    ts.tv_sec = timeout_ns / 1'000'000'000;
    ts.tv_nsec = timeout_ns % 1'000'000'000;
    arg.ts = reinterpret_cast<std::uint64_t>(&ts);
    flags |= IORING_ENTER_EXT_ARG;
    argp = &arg;
    argsz = sizeof arg;
  }
  ++counters_.enters;
  const int injected = faults::enter_error();
  const int r = injected ? -injected
                         : io_uring_enter2(static_cast<unsigned>(fd), to_submit, wait_nr, flags,
                                           static_cast<sigset_t*>(argp), argsz);
  if (r >= 0) {
    // Whatever the kernel did not take stays between its head and our tail, so pending()
    // offers it again on the next enter.
    counters_.sqes += static_cast<unsigned>(r);
    return true;
  }
  // Transient: a timeout or signal ends the wait; EAGAIN / EBUSY / ENOMEM mean the kernel
  // could not take the SQEs or post CQEs just now (memory, an overflowing CQ). The SQEs stay
  // queued and the loop enters again.
  if (r == -ETIME || r == -EINTR || r == -EAGAIN || r == -EBUSY || r == -ENOMEM) return false;
  if (r == -EPERM || r == -EACCES || r == -ENOSYS) throw_blocked(-r, "io_uring_enter");
  throw_errno(r, "coring: io_uring_enter");
}

void ring::reserve(unsigned n) {
  for (int tries = 0; (faults::sq_full() || io_uring_sq_space_left(&ring_) < n) && tries < 64; ++tries) enter(0, -1);
  if (io_uring_sq_space_left(&ring_) < n) throw_errno(-EBUSY, "coring: the SQ ring stays full (the kernel takes no submissions)");
}

io_uring_sqe* ring::get_sqe() {
  io_uring_sqe* sqe = faults::sq_full() ? nullptr : io_uring_get_sqe(&ring_);
  // Full: hand the queued SQEs to the kernel and take the slot that frees. A kernel that
  // is short of memory may take none at first; it is asked again a bounded number of times.
  for (int tries = 0; !sqe && tries < 64; ++tries) {
    enter(0, -1);
    sqe = io_uring_get_sqe(&ring_);
  }
  if (!sqe) throw_errno(-EBUSY, "coring: the SQ ring stays full (the kernel takes no submissions)");
  return sqe;
}

}  // namespace coring::detail
