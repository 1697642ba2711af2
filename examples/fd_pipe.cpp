// read_some / write_some on a raw descriptor (here a pipe) through the ring.
#include <coring/coring.hpp>

#include <string_view>

#include <unistd.h>

using namespace std::chrono_literals;

coring::task<int> main_task() {
  int fds[2];
  if (::pipe(fds) != 0) co_return 1;
  const int pipe_fd = fds[0], write_fd = fds[1];
  // example-begin
  co_await coring::write_some(write_fd, "ping");
  char buf[256];
  std::size_t n = co_await coring::read_some(pipe_fd, buf);  // 4: "ping"
  // example-end
  if (std::string_view(buf, n) != "ping") co_return 1;
  // example-begin
  try {  // one io_uring operation, so with_timeout cancels it in the kernel
    co_await coring::with_timeout(5ms, coring::read_some(pipe_fd, buf));
  } catch (const coring::timeout_error&) {
    // nothing was written: the read was cancelled and no byte was lost
  }
  // example-end
  ::close(fds[0]);
  ::close(fds[1]);
  co_return 0;
}

int main() { return coring::run(main_task()); }
