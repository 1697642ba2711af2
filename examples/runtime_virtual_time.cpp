// runtime_options::virtual_time: an hour of sleep and two ten-minute timeouts that expire
// (around a 20-minute sleep, and around a read on a pipe nobody writes to) finish in well
// under a second of real time, with every expiry exactly on its virtual deadline.
#include <coring/coring.hpp>

#include <unistd.h>

#include <chrono>

using namespace std::chrono_literals;

// example-begin
coring::task<bool> scenario(int idle_pipe) {
  const coring::time_point t0 = coring::clock::now();
  co_await coring::sleep(1h);
  bool expired = false;
  try {
    co_await coring::with_timeout(10min, coring::sleep(20min));
  } catch (const coring::timeout_error&) {
    expired = coring::clock::now() - t0 == 70min;  // exactly at the deadline
  }
  char buf[16];
  try {
    co_await coring::with_timeout(10min, coring::read_some(idle_pipe, buf));
    expired = false;
  } catch (const coring::timeout_error&) {
    expired = expired && coring::clock::now() - t0 == 80min;
  }
  co_return expired;
}

int run_scenario(int idle_pipe) {
  coring::runtime_options opts;
  opts.virtual_time = true;
  return coring::run(scenario(idle_pipe), opts) ? 0 : 1;
}
// example-end

int main() {
  int fds[2];
  if (::pipe(fds) != 0) return 1;
  const auto start = std::chrono::steady_clock::now();
  const int rc = run_scenario(fds[0]);
  const bool quick = std::chrono::steady_clock::now() - start < 1s;
  ::close(fds[0]);
  ::close(fds[1]);
  return rc == 0 && quick ? 0 : 1;
}
