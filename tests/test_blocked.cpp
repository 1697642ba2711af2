// io_uring partly blocked: setup allowed, but io_uring_enter or io_uring_register refused
// (seccomp profiles that list only some io_uring calls). Each case runs in a forked child
// so the filter stays there.
#include <catch2/catch.hpp>

#include <seccomp.h>

#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <string>
#include <system_error>

#include "child_process.hpp"
#include "support.hpp"

using namespace std::chrono_literals;
using coring_test::run_in_child;
using coring_test::write_out;

namespace {

bool refuse_with_seccomp(int syscall_nr) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return false;
  bool ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), syscall_nr, 0) == 0;
  ok = ok && seccomp_load(ctx) == 0;
  seccomp_release(ctx);
  return ok;
}

bool contains(const std::string& haystack, const char* needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("blocked: a refused io_uring_enter gives a system_error saying io_uring is blocked and what to change", "[.][seccomp]") {
  const auto r = run_in_child([] {
    coring::runtime rt;  // io_uring_setup is still allowed
    if (!refuse_with_seccomp(SCMP_SYS(io_uring_enter))) {
      write_out("seccomp unavailable\n");
      ::_exit(coring_test::exit_skip);
    }
    try {
      rt.run([]() -> coring::task<> { co_await coring::sleep(1ms); }());
      write_out("ran although io_uring_enter is refused\n");
      ::_exit(1);
    } catch (const std::system_error& e) {
      write_out(std::string("errno=") + std::to_string(e.code().value()) + "\n" + e.what() + "\n");
      ::_exit(0);
    } catch (...) {
      ::_exit(2);
    }
  });
  if (r.exited_with(coring_test::exit_skip)) {
    coring_test::skip("cannot install a seccomp filter here");
    return;
  }
  INFO("child output: " << r.output);
  REQUIRE(r.exited_with(0));
  CHECK(contains(r.output, ("errno=" + std::to_string(EPERM) + "\n").c_str()));
  CHECK(contains(r.output, "io_uring is blocked"));
  CHECK(contains(r.output, "io_uring_enter"));
  CHECK(contains(r.output, "seccomp"));
  CHECK(contains(r.output, "to fix"));
}

TEST_CASE("blocked: a refused io_uring_register falls back to plain receives and an unregistered ring fd", "[.][seccomp]") {
  const auto r = run_in_child([] {
    if (!refuse_with_seccomp(SCMP_SYS(io_uring_register))) ::_exit(coring_test::exit_skip);
    try {
      std::string got;
      bool registered = true;
      const auto st = [&]() {
        coring::runtime rt;
        rt.run([&]() -> coring::task<> {
          auto l = coring::tcp_listener::bind("127.0.0.1", 0);
          auto c = co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
          auto s = co_await l.accept();
          coring::recv_buffer_pool pool(4, 8);
          registered = pool.ring_registered();
          coring::multishot_reader in(s, pool);
          co_await c.write_all("hello, fallback");  // more than one 8-byte buffer
          co_await c.shutdown();
          char buf[64];
          for (;;) {
            const std::size_t n = co_await in.read_some(buf, sizeof buf);
            if (n == 0) break;
            got.append(buf, n);
          }
        }());
        return rt.stats();
      }();
      write_out("registered=" + std::to_string(registered) + " got=" + got + " flags=" + st.ring_flags + "\n");
      ::_exit(0);
    } catch (const std::exception& e) {
      write_out(std::string("error: ") + e.what() + "\n");
      ::_exit(1);
    }
  });
  if (r.exited_with(coring_test::exit_skip)) {
    coring_test::skip("cannot install a seccomp filter here");
    return;
  }
  INFO("child output: " << r.output);
  REQUIRE(r.exited_with(0));
  CHECK(contains(r.output, "registered=0 got=hello, fallback"));
  CHECK(!contains(r.output, "registered-fd"));
}
