// Running a test body in a forked child: for faults that must stay in the child (a seccomp
// filter, an abort) and for checks that need a process nothing else has touched.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <string>

namespace coring_test {

// Exit code meaning "this machine cannot run the test" (meson reports it as skipped).
constexpr int exit_skip = 77;

struct child_result {
  int status = 0;      // as from waitpid
  std::string output;  // what the child wrote to stdout and stderr
  bool exited_with(int code) const { return WIFEXITED(status) && WEXITSTATUS(status) == code; }
};

// Runs `body` in a forked child whose stdout and stderr go into a pipe, and returns the
// child's wait status and output. `body` must end the child with _exit or a signal.
template <class F>
child_result run_in_child(F body) {
  int fds[2];
  if (::pipe(fds) != 0) return {-1, "pipe failed"};
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) return {-1, "fork failed"};
  if (pid == 0) {
    ::close(fds[0]);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[1]);
    // Catch2 installs handlers for fatal signals; the child must die the plain way so the
    // parent sees the real signal.
    std::signal(SIGABRT, SIG_DFL);
    body();
    ::_exit(3);  // body returned: a bug in the test itself
  }
  ::close(fds[1]);
  child_result r;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      r.output.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(fds[0]);
  while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
  }
  return r;
}

inline void write_out(const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

}  // namespace coring_test
