// Waiting for POSIX signals on the ring (layer 7), so a service can shut down gracefully:
// wait for SIGINT/SIGTERM in one task, then cancel the task group that runs everything.
//
// Example (examples/signal_shutdown.cpp):
//   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//     tg.spawn(serve(), "serve");
//     tg.spawn(send_myself_sigterm(), "kill");
//     int sig = co_await coring::wait_for_signal({SIGINT, SIGTERM});
//     fmt::print("got signal {}, stopping\n", sig);
//     got = sig;
//     tg.cancel();  // cancels serve(); the group then ends quietly
//   });
//
// How: the signals are blocked for the calling thread (pthread_sigmask), a signalfd for
// them is read with one IORING_OP_READ, and the mask is restored when the wait ends (only
// the signals this call blocked are unblocked, and only when no other wait on this thread
// still needs them). coring's blocking pool threads block all signals, so a signal sent to
// the process reaches the loop thread's signalfd. In a program with OTHER threads, block
// the signals in every thread first (e.g. call coring::block_signals in main before
// starting threads), or the kernel may deliver them to a thread that does not block them.
#pragma once

#include <signal.h>

#include <concepts>

#include "coring/task.hpp"

namespace coring {

// A set of signal numbers, written as a braced list: {SIGINT, SIGTERM}. (A class rather
// than std::initializer_list because GCC 12 cannot keep an initializer_list's array alive
// across a co_await.) Errors: std::invalid_argument for an empty list, SIGKILL/SIGSTOP or
// a number out of range.
class signal_set {
 public:
  template <std::convertible_to<int>... S>
  signal_set(S... signals) {  // NOLINT: implicit on purpose, for {SIGINT, SIGTERM}
    init();
    (add(static_cast<int>(signals)), ...);
    check_not_empty();
  }
  // The set as the kernel takes it (for pthread_sigmask, signalfd). Never throws.
  const sigset_t& native() const noexcept { return set_; }

 private:
  void init() noexcept;
  void add(int sig);
  void check_not_empty() const;
  sigset_t set_;
  int count_ = 0;
};

// Waits until one of `signals` is delivered to this thread or the process, and returns its
// number. A signal already pending when the call starts is returned at once.
// Cancellation: a cancellation point; the signalfd is closed and the mask restored.
// Errors: std::invalid_argument (from signal_set) for a bad list; std::system_error
// "signalfd: ..." if the kernel refuses. Example: at the top of this header.
task<int> wait_for_signal(signal_set signals);

// Blocks `signals` for the calling thread (and threads it creates afterwards). Optional:
// call it early in main when the program starts threads of its own. The signals stay
// blocked for good (a wait leaves a signal that was blocked before it blocked), so they
// reach only wait_for_signal. Not an awaitable. Errors: std::invalid_argument (from
// signal_set) for a bad list.
//
// Example (examples/signal_shutdown.cpp):
//   coring::block_signals({SIGINT, SIGTERM});  // before starting threads of your own
void block_signals(signal_set signals);

}  // namespace coring
