// Fault injection (libcoring_faults): a full SQ, io_uring_enter failing with transient
// errors, CQ overflow, and descriptor exhaustion at socket/accept/open. Every result must be
// delivered, nothing may hang, and no descriptor may leak.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <coring/cancel.hpp>
#include <coring/detail/faults.hpp>
#include <coring/fd.hpp>
#include <coring/file.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <string>
#include <system_error>

#include "support.hpp"

using namespace std::chrono_literals;
namespace faults = coring::detail::faults;
using coring_test::caught;
using coring_test::open_fds;

namespace {

struct plan_guard {
  explicit plan_guard(const faults::plan& p) { faults::set_plan(p); }
  ~plan_guard() { faults::set_plan({}); }
};

// A plan that completes the next operation of `opcode` (IORING_OP_*) with -err.
faults::plan fail_next_cqe(int opcode, int err) {
  faults::plan p;
  p.cqe_opcode = opcode;
  p.cqe_errno = err;
  p.cqe_count = 1;
  return p;
}

// `n` reads of /dev/zero at once, each of which must return its full length.
coring::task<int> many_reads(int n) {
  const int fd = ::open("/dev/zero", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  int complete = 0;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (int i = 0; i < n; ++i)
      tg.spawn([&, fd]() -> coring::task<> {
        char buf[16];
        const std::size_t got = co_await coring::read_some(fd, buf);
        if (got == sizeof buf) ++complete;
      });
    co_return;
  });
  ::close(fd);
  co_return complete;
}

}  // namespace

TEST_CASE("faults: a full SQ at every other get_sqe still submits every operation") {
  faults::plan p;
  p.sq_full = 100;
  plan_guard g(p);
  const int done = coring::run(many_reads(200));
  CHECK(done == 200);
  CHECK(faults::current_plan().sq_full == 0);  // the faults were actually hit
}

TEST_CASE("faults: io_uring_enter failing with EAGAIN, EBUSY, EINTR or ENOMEM loses nothing and does not hang") {
  const int err = GENERATE(EAGAIN, EBUSY, EINTR, ENOMEM);
  INFO("errno " << err);
  faults::plan p;
  p.enter_errno = err;
  p.enter_count = 20;
  plan_guard g(p);
  const int done = coring::run([]() -> coring::task<int> {
    co_await coring::sleep(1ms);
    co_return co_await many_reads(50);
  }());
  CHECK(done == 50);
  CHECK(faults::current_plan().enter_count == 0);
}

TEST_CASE("faults: a CQ far smaller than the operations in flight overflows without losing a completion") {
  coring::runtime_options opts;
  opts.entries = 8;
  opts.cq_entries = 16;
  const int done = coring::run(many_reads(2000), opts);
  CHECK(done == 2000);
}

TEST_CASE("faults: socket() failing with EMFILE throws, names the call, and the next connect works") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    const auto fds = open_fds();
    {
      faults::plan p;
      p.socket_errno = EMFILE;
      p.socket_count = 1;
      plan_guard g(p);
      const auto e = co_await caught<std::system_error>(coring::tcp_stream::connect("127.0.0.1", l.local_port()));
      REQUIRE(e.has_value());
      CHECK(e->code().value() == EMFILE);
      CHECK(std::string(e->what()).find("socket for 127.0.0.1:") != std::string::npos);
    }
    CHECK(open_fds() == fds);
    auto c = co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
    auto s = co_await l.accept();
    CHECK(s.is_open());
  }());
}

TEST_CASE("faults: an accept completing with EMFILE is reported, leaks nothing, and the listener keeps accepting") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    const auto fds = open_fds();
    {
      plan_guard g(fail_next_cqe(IORING_OP_ACCEPT, EMFILE));
      auto c = co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
      const auto e = co_await caught<std::system_error>(l.accept());
      REQUIRE(e.has_value());
      CHECK(e->code().value() == EMFILE);
      CHECK(l.stats().errors == 1);
    }
    auto c = co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
    auto s = co_await coring::with_timeout(5s, l.accept());
    CHECK(s.is_open());
    co_await s.close();
    co_await c.close();
    CHECK(open_fds() == fds);  // the injected failure's real descriptor was closed
  }());
}

TEST_CASE("faults: an open completing with EMFILE throws naming the path and leaks nothing") {
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    {
      plan_guard g(fail_next_cqe(IORING_OP_OPENAT, EMFILE));
      const auto e = co_await caught<std::system_error>(coring::file::open("/dev/null"));
      REQUIRE(e.has_value());
      CHECK(e->code().value() == EMFILE);
      CHECK(std::string(e->what()).find("open /dev/null") != std::string::npos);
    }
    CHECK(open_fds() == fds);
    auto f = co_await coring::file::open("/dev/null");
    CHECK(f.is_open());
  }());
}
