// coring::with_timeout on a single read from a pipe nobody writes to.
#include <coring/coring.hpp>

#include <unistd.h>

using namespace std::chrono_literals;

coring::task<bool> example(int pipe_fd) {
  bool timed_out = false;
  // example-begin
  char buf[64];
  try {
    co_await coring::with_timeout(100ms, coring::read_some(pipe_fd, buf));  // nobody writes
  } catch (const coring::timeout_error&) {
    timed_out = true;
  }
  // example-end
  co_return timed_out;
}

int main() {
  int fds[2];
  if (::pipe(fds) != 0) return 1;
  const bool ok = coring::run(example(fds[0]));
  ::close(fds[0]);
  ::close(fds[1]);
  return ok ? 0 : 1;
}
