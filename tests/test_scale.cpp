// Scale (issue 10): the runtime holds up at sizes a server meets.
//  - 10,000 TCP connections open at once over loopback, each echoing its own message;
//  - 1,000,000 tasks alive at once in one task group, all completing, every frame freed.
// Each test is its own meson test (suite 'scale'), selected by its tag, so a skip (exit
// 77: the descriptor limit cannot be raised) does not hide the other one.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <coring/event.hpp>
#include <coring/fd.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>
#include <coring/detail/frame_allocator.hpp>

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "support.hpp"

namespace {

// ---- 10,000 connections ----

constexpr std::size_t kConnections = 10'000;
// Connects in flight at once: enough to keep the accept loop busy, few enough that the
// SYN queue never overflows (an overflow only costs a retransmit second, but why pay it).
constexpr std::size_t kConnectors = 64;
constexpr std::size_t kMessage = 16;

// Raises the soft RLIMIT_NOFILE (and the hard one, when allowed) to `need`. False when
// the hard limit is below `need` and this process may not raise it.
bool raise_fd_limit(rlim_t need) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return false;
  if (rl.rlim_cur >= need) return true;
  if (rl.rlim_max < need) {
    rlimit want{need, need};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0) return true;  // CAP_SYS_RESOURCE
    return false;
  }
  rl.rlim_cur = need;
  return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

// What connection i sends (and must get back): 16 bytes naming it.
std::array<char, kMessage> message_for(std::size_t i) {
  std::array<char, kMessage> m{};
  auto s = fmt::format("conn {:06} ok!\n", i);
  std::copy_n(s.data(), std::min(s.size(), m.size()), m.data());
  return m;
}

// The client side (in a child process, so each process needs only ~10,000 descriptors):
// opens every connection first, so all of them are open at the same time, then has each
// send its message and read it back, then closes them all. Returns "" or what went wrong.
coring::task<std::string> run_clients(std::uint16_t port) {
  const auto ep = coring::endpoint::parse("127.0.0.1", port);
  std::vector<coring::tcp_stream> streams(kConnections);
  std::size_t next = 0;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (std::size_t w = 0; w < kConnectors; ++w) {
      tg.spawn([&]() -> coring::task<> {
        while (next < kConnections) {
          const std::size_t i = next++;
          streams[i] = co_await coring::tcp_stream::connect(ep);
        }
      });
    }
    co_return;
  });
  std::size_t good = 0;
  std::size_t first_bad = kConnections;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (std::size_t i = 0; i < kConnections; ++i) {
      tg.spawn([&, i]() -> coring::task<> {
        const auto want = message_for(i);
        co_await streams[i].write_all(std::string_view(want.data(), want.size()));
        std::array<char, kMessage> got{};
        co_await streams[i].read_exact(std::span<char>(got));
        if (got == want) {
          ++good;
        } else {
          first_bad = std::min(first_bad, i);
        }
      });
    }
    co_return;
  });
  for (auto& s : streams) co_await s.close();
  if (good != kConnections)
    co_return fmt::format("{} of {} connections echoed their message (first wrong: {})", good,
                          kConnections, first_bad);
  co_return std::string();
}

// Runs in the forked child: the client side, its verdict written to `out` (the parent
// reads until end of file). Never returns.
[[noreturn]] void client_process(std::uint16_t port, int out) {
  std::string verdict;
  try {
    verdict = coring::run(run_clients(port));
  } catch (const std::exception& e) {
    verdict = std::string("client: ") + e.what();
  }
  const std::string line = verdict.empty() ? "ok" : verdict;
  [[maybe_unused]] auto n = ::write(out, line.data(), line.size());
  ::_exit(verdict.empty() ? 0 : 1);
}

struct server_counts {
  std::size_t accepted = 0;
  std::size_t open = 0;
  std::size_t max_open = 0;
  std::size_t bytes = 0;
};

coring::task<> echo(coring::tcp_stream s, server_counts& c) {
  c.max_open = std::max(c.max_open, ++c.open);
  char buf[256];
  for (;;) {
    const std::size_t n = co_await s.read_some(buf, sizeof buf);
    if (n == 0) break;
    c.bytes += n;
    co_await s.write_all(std::string_view(buf, n));
  }
  co_await s.close();
  --c.open;
}

// The server side: accepts while the client connects (the accept task runs concurrently
// with the connectors, so connections the listener leaves in the kernel's backlog are
// taken as they come), echoes, and reads the child's verdict from `in`. If the child ends
// before every connection arrived, the group is cancelled instead of waiting forever.
// Owns the listener: it must be destroyed while the runtime runs (its multishot accept is
// in the kernel).
coring::task<std::string> run_server(coring::tcp_listener l, int in, server_counts& c) {
  std::string verdict;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> {
      char buf[512];
      for (;;) {
        const std::size_t n = co_await coring::read_some(in, buf);
        if (n == 0) break;
        verdict.append(buf, n);
      }
      if (c.accepted < kConnections) tg.cancel();  // the child gave up: do not wait
    });
    while (c.accepted < kConnections) {
      coring::tcp_stream s = co_await l.accept();
      ++c.accepted;
      tg.spawn(echo(std::move(s), c));
    }
  });
  l = coring::tcp_listener();
  co_return verdict;
}

// ---- 1,000,000 tasks ----

// The full million also under AddressSanitizer: about 8 s and 1 GB there (1.3 s and
// 0.7 GB in the plain build).
constexpr std::size_t kTasks = 1'000'000;

struct task_counts {
  std::uint64_t frames_before = 0;
  std::uint64_t frames_after = 0;
  std::size_t started = 0;
  std::size_t waiting_at_peak = 0;
  std::size_t finished = 0;
};

coring::task<> many_tasks(task_counts& c) {
  c.frames_before = coring::stats().frames;
  coring::event go;
  coring::event all_started;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (std::size_t i = 0; i < kTasks; ++i) {
      tg.spawn([&]() -> coring::task<> {
        if (++c.started == kTasks) all_started.set();
        co_await go.wait();
        ++c.finished;
      });
    }
    co_await all_started.wait();
    c.waiting_at_peak = go.statistics().waiters;  // every task alive and parked at once
    go.set();
  });
  c.frames_after = coring::stats().frames;
}

}  // namespace

TEST_CASE("scale: 10,000 concurrent loopback TCP connections each echo their own message",
          "[connections]") {
  // Per process: kConnections sockets plus the ring, the listener, the pipe and stdio.
  const rlim_t need = kConnections + 256;
  if (!raise_fd_limit(need)) {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    fmt::print(stderr,
               "skipped: needs RLIMIT_NOFILE {} per process, the hard limit is {} and this "
               "process may not raise it (raise it with ulimit -Hn or run as root)\n",
               need, rl.rlim_max);
    std::exit(77);
  }
  const std::size_t fds_before = coring_test::open_fds();
  // The listen backlog is large so that connections not yet taken by accept() wait in
  // the kernel (somaxconn caps it), whatever the listener parks in user space.
  auto listener = coring::tcp_listener::bind("127.0.0.1", 0, 16384);
  int p[2];
  REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
  // Fork before this process creates a ring: the child starts its own runtime.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(p[0]);
    ::close(listener.native_handle());
    client_process(listener.local_port(), p[1]);
  }
  ::close(p[1]);

  server_counts c;
  std::string verdict;
  std::string server_error;
  try {
    verdict = coring::run(run_server(std::move(listener), p[0], c));
  } catch (const std::exception& e) {
    server_error = e.what();
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  ::close(p[0]);

  INFO("client verdict: " << verdict << "; server: " << server_error);
  CHECK(server_error.empty());
  CHECK(verdict == "ok");
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(c.accepted == kConnections);
  CHECK(c.max_open == kConnections);  // all of them were open at the same moment
  CHECK(c.open == 0);
  CHECK(c.bytes == kConnections * kMessage);
  CHECK(coring_test::open_fds() == fds_before);
}

TEST_CASE("scale: 1,000,000 live tasks in one group all complete and every frame is freed",
          "[tasks]") {
  task_counts c;
  coring::run(many_tasks(c));
  CHECK(c.started == kTasks);
  CHECK(c.waiting_at_peak == kTasks);
  CHECK(c.finished == kTasks);
  CHECK(c.frames_after == c.frames_before);
}

TEST_CASE("scale: a spike beyond the frame pool's budget keeps its memory while the loop is busy and hands it all back when the loop goes idle",
          "[tasks]") {
  namespace d = coring::detail;
  using namespace std::chrono_literals;
  // Each trivial task keeps a frame and a task state (about 190 bytes) when it ends: 500,000
  // of them are well over the 64 MiB budget.
  constexpr std::size_t spike = 500'000;
  auto trivial = []() -> coring::task<> { co_return; };
  bool over_after_spike = true, over_after_second = true, over_after_idle = true;
  std::ptrdiff_t room_after_spike = 0, room_after_second = 0, room_after_idle = 0;
  coring::run([&]() -> coring::task<> {
    for (int k = 0; k < 2; ++k) {
      co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
        for (std::size_t i = 0; i < spike; ++i) tg.spawn(trivial());
        co_return;
      });
      // No idle moment yet: the group ended without the loop waiting in the kernel.
      (k == 0 ? over_after_spike : over_after_second) = d::frame_pools_over_budget();
      (k == 0 ? room_after_spike : room_after_second) = d::this_thread_pools().room;
    }
    co_await coring::sleep(1ms);  // the loop waits in the kernel: its idle moment
    over_after_idle = d::frame_pools_over_budget();
    room_after_idle = d::this_thread_pools().room;
  }());
  CHECK(over_after_spike);
  // The second spike took every block from the pool and gave every one back: no new memory.
  CHECK(over_after_second);
  CHECK(room_after_second == room_after_spike);
  // Idle: every kept block went back to malloc (the budget is whole again).
  CHECK_FALSE(over_after_idle);
  CHECK(room_after_idle == static_cast<std::ptrdiff_t>(d::frame_pools::keep_bytes));
}
