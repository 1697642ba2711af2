// coring::cancelled and coring::timeout_error: what a cancelled or timed-out task sees.
#include <coring/coring.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <system_error>

using namespace std::chrono_literals;

int cleanups = 0;

coring::task<> worker() {
  // example-begin
  try {
    co_await coring::sleep(1s);
  } catch (const coring::cancelled&) {  // not a std::exception: catch it only to clean up
    fmt::print("stopping\n");
    throw;  // and rethrow
  }
  // example-end
}

coring::task<> counted_worker() {
  try {
    co_await worker();
  } catch (const coring::cancelled&) {
    ++cleanups;
    throw;
  }
}

coring::task<int> main_task() {
  bool timed_out = false;
  std::string message;
  // example-begin
  try {
    co_await coring::with_timeout(5ms, counted_worker());
  } catch (const coring::timeout_error&) {  // this scope's own deadline expired
    timed_out = true;
  }
  try {
    coring::throw_errno(-ENOENT, "open /nope");  // how a CQE error becomes an exception
  } catch (const std::system_error& e) {
    message = e.what();  // "open /nope: No such file or directory"
  }
  // example-end
  co_return timed_out && cleanups == 1 && message == "open /nope: No such file or directory" ? 0 : 1;
}

int main() { return coring::run(main_task()); }
