#include "coring/signal.hpp"

#include <pthread.h>
#include <sys/signalfd.h>

#include <cerrno>
#include <csignal>
#include <stdexcept>
#include <string>

#include "coring/detail/fd_ops.hpp"
#include "coring/detail/io_op.hpp"

namespace coring {
namespace {

// How many waits on this thread need each signal blocked, and whether a wait blocked it
// (signals the program blocked itself are never unblocked by us).
struct mask_counts {
  int users[NSIG] = {};
  bool blocked_by_us[NSIG] = {};
};
thread_local mask_counts tl_mask;

// Blocks `set` for the duration of one wait; restores on destruction.
class mask_guard {
 public:
  explicit mask_guard(const sigset_t& set) : set_(set) {
    sigset_t old;
    sigemptyset(&old);
    pthread_sigmask(SIG_BLOCK, &set_, &old);
    for (int s = 1; s < NSIG; ++s) {
      if (!sigismember(&set_, s)) continue;
      if (tl_mask.users[s]++ == 0) tl_mask.blocked_by_us[s] = !sigismember(&old, s);
    }
  }
  ~mask_guard() {
    sigset_t unblock;
    sigemptyset(&unblock);
    bool any = false;
    for (int s = 1; s < NSIG; ++s) {
      if (!sigismember(&set_, s)) continue;
      if (--tl_mask.users[s] == 0 && tl_mask.blocked_by_us[s]) {
        sigaddset(&unblock, s);
        tl_mask.blocked_by_us[s] = false;
        any = true;
      }
    }
    if (any) pthread_sigmask(SIG_UNBLOCK, &unblock, nullptr);
  }
  mask_guard(const mask_guard&) = delete;
  mask_guard& operator=(const mask_guard&) = delete;

 private:
  sigset_t set_;
};

struct fd_guard {
  int fd;
  ~fd_guard() { detail::close_fd_now(fd); }
};

task<int> wait_impl(sigset_t set) {
  mask_guard mask(set);
  // A blocking signalfd: io_uring then waits on it by polling instead of failing EAGAIN.
  fd_guard sfd{::signalfd(-1, &set, SFD_CLOEXEC)};
  if (sfd.fd < 0) throw_errno(-errno, "signalfd");
  signalfd_siginfo info{};
  for (;;) {
    const std::size_t n = co_await detail::read_op(sfd.fd, &info, sizeof info);
    if (n == sizeof info) break;
  }
  co_return static_cast<int>(info.ssi_signo);
}

}  // namespace

void signal_set::init() noexcept { sigemptyset(&set_); }

void signal_set::add(int s) {
  if (s <= 0 || s >= NSIG)
    throw std::invalid_argument("coring::signal_set: " + std::to_string(s) + " is not a signal number");
  if (s == SIGKILL || s == SIGSTOP)
    throw std::invalid_argument("coring::signal_set: SIGKILL and SIGSTOP cannot be caught or blocked");
  sigaddset(&set_, s);
  ++count_;
}

void signal_set::check_not_empty() const {
  if (count_ == 0) throw std::invalid_argument("coring::signal_set: no signals given; pass e.g. {SIGINT, SIGTERM}");
}

task<int> wait_for_signal(signal_set signals) { return wait_impl(signals.native()); }

void block_signals(signal_set signals) { pthread_sigmask(SIG_BLOCK, &signals.native(), nullptr); }

}  // namespace coring
