// Several loop threads: coring::run's threads, on_thread, task_group::spawn_on across
// threads, the wake-up messages between loops, and shutdown.
#include <catch2/catch.hpp>

#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <coring/blocking.hpp>
#include <coring/cancel.hpp>
#include <coring/channel.hpp>
#include <coring/fd.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/thread.hpp>
#include <coring/time.hpp>

#include "support.hpp"
#include "threads_support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;
using coring_test::with_threads;

namespace {

// Forces the eventfd wake-up for the runtimes made while it lives.
struct eventfd_wakeups {
  eventfd_wakeups() { coring::detail::force_thread_wakeup(coring::detail::wakeup::eventfd); }
  ~eventfd_wakeups() { coring::detail::force_thread_wakeup(coring::detail::probed_wakeup()); }
};

// Runs the test case once per wake-up path (a Catch2 generator): MSG_RING, where the kernel
// has it, and eventfd, forced for the runtimes made while this lives.
struct each_wakeup {
  std::optional<eventfd_wakeups> force;
  each_wakeup() {
    const bool ev = GENERATE(false, true);
    if (ev) force.emplace();
  }
};

// Loop threads alive in this process (they are named "coring-loop-<k>").
std::size_t loop_threads() {
  std::size_t n = 0;
  DIR* d = ::opendir("/proc/self/task");
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream comm(std::string("/proc/self/task/") + e->d_name + "/comm");
    std::string name;
    std::getline(comm, name);
    n += name.rfind("coring-loop-", 0) == 0;
  }
  ::closedir(d);
  return n;
}

// Socket reads that block until cancelled, on any thread: a connected pair of stream
// sockets nobody writes to (plain descriptors: each thread wraps the one it reads).
struct blocked_reads {
  int a = -1, b = -1;
  coring::channel<int> reading{8};  // an item for each read started
  blocked_reads() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("socketpair");
    a = fds[0];
    b = fds[1];
  }
  ~blocked_reads() {
    ::close(a);
    ::close(b);
  }
  // Reads from `a`: blocks until cancelled. Tells `reading` first, so a test waits for the
  // read without polling (it is submitted in the same turn).
  task<std::size_t> read() {
    char buf[16];
    reading.put_nowait(1);
    co_return co_await coring::read_some(a, std::span(buf));
  }
};

// Awaits `a`; counts in `cancelled` the cancellation it ends with, and lets that through.
template <class A>
task<> count_cancel(A a, std::atomic<int>& cancelled) {
  try {
    (void)co_await std::move(a);
  } catch (const coring::cancelled&) {
    cancelled.fetch_add(1);
    throw;
  }
}

}  // namespace

// ---- threads ----

TEST_CASE("threads: run starts the loop threads and main runs on thread 0") {
  const int rc = coring::run([]() -> task<int> {
    CHECK(coring::thread_index() == 0);
    CHECK(coring::thread_count() == 3);
    CHECK(loop_threads() == 2);
    for (unsigned k = 0; k < 3; ++k) {
      const unsigned got = co_await coring::on_thread(k, []() -> task<unsigned> { co_return coring::thread_index(); });
      CHECK(got == k);
    }
    co_return 7;
  }(), with_threads(3));
  CHECK(rc == 7);
  CHECK(loop_threads() == 0);  // every loop thread was joined
  CHECK(coring::thread_count() == 0);
}

TEST_CASE("threads: every loop thread has a ring of its own with the same setup flags") {
  coring::run([]() -> task<> {
    auto per = co_await coring::thread_stats();
    REQUIRE(per.size() == 2);
    CHECK(per[0].thread == 0);
    CHECK(per[1].thread == 1);
    CHECK(per[0].ring_flags == per[1].ring_flags);
    const coring::runtime_stats all = coring::total(per);
    CHECK(all.tasks == per[0].tasks + per[1].tasks);
    CHECK(all.iterations == per[0].iterations + per[1].iterations);
  }(), with_threads(2));
}

TEST_CASE("threads: a thread count out of range or with virtual time is refused with a message") {
  CHECK_THROWS_AS(coring::runtime(with_threads(0)), std::invalid_argument);
  CHECK_THROWS_AS(coring::runtime(with_threads(257)), std::invalid_argument);
  coring::runtime_options o = with_threads(2);
  o.virtual_time = true;
  CHECK_THROWS_WITH(coring::runtime(o), Catch::Contains("virtual_time needs threads == 1"));
}

TEST_CASE("threads: pinned loop threads run tasks") {
  coring::runtime_options o = with_threads(2);
  o.pin_threads = true;
  const int rc = coring::run([]() -> task<int> {
    co_return co_await coring::on_thread(1, []() -> task<int> {
      co_await coring::sleep(1ms);
      co_return 5;
    });
  }(), o);
  CHECK(rc == 5);
}

TEST_CASE("threads: a sleeping loop is woken by one message per batch, not one per item") {
  const each_wakeup wakeup;
  coring::run([]() -> task<> {
    constexpr int n = 200;
    const auto before = co_await coring::thread_stats();
    std::atomic<int> ran{0};
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < n; ++i)  // all posted in one turn of thread 0
        tg.spawn_on(1, [&]() -> task<> {
          ran.fetch_add(1);
          co_return;
        });
      co_return;
    });
    const auto after = co_await coring::thread_stats();
    CHECK(ran.load() == n);
    const auto woke1 = after[1].wakeups_received - before[1].wakeups_received;
    const auto woke0 = after[0].wakeups_received - before[0].wakeups_received;
    INFO("thread 1 woken " << woke1 << " times, thread 0 " << woke0 << " times for " << n << " calls");
    CHECK(woke1 < n / 10);
    CHECK(woke0 < n / 10);
  }(), with_threads(2));
}

// ---- on_thread ----

TEST_CASE("threads: a task that keeps yielding does not keep hand-offs from other threads out") {
  // A yield with nothing else ready may skip its loop turn in a single-thread runtime; with
  // other threads only a turn drains the inbox, so skipping would starve the on_thread
  // result below forever. Bounded: the yielder gives up after 10 million yields.
  coring::run([]() -> task<> {
    bool done = false;
    bool starved = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {
        for (long i = 0; !done; ++i) {
          if (i == 10'000'000) {
            starved = true;
            break;
          }
          co_await coring::checkpoint();
        }
      });
      co_await coring::on_thread(1, []() -> task<> { co_return; });
      done = true;
    });
    CHECK_FALSE(starved);
  }(), with_threads(2));
}

TEST_CASE("on_thread: the child's value and exception come back to the caller") {
  const each_wakeup wakeup;
  coring::run([]() -> task<> {
    const std::string s = co_await coring::on_thread(1, []() -> task<std::string> {
      co_await coring::sleep(1ms);
      co_return std::string("from ") + std::to_string(coring::thread_index());
    });
    CHECK(s == "from 1");
    bool threw = false;
    try {
      co_await coring::on_thread(1, []() -> task<> {
        co_await coring::checkpoint();
        throw std::runtime_error("boom on 1");
      });
    } catch (const std::runtime_error& e) {
      threw = std::string(e.what()) == "boom on 1";
    }
    CHECK(threw);
    // An awaitable, not only a task.
    co_await coring::on_thread(1, [] { return coring::sleep(1ms); });
  }(), with_threads(2));
}

TEST_CASE("on_thread: a thread index that does not exist is refused") {
  coring::run([]() -> task<> {
    CHECK_THROWS_AS(co_await coring::on_thread(2, []() -> task<> { co_return; }), std::invalid_argument);
  }(), with_threads(2));
  coring::run([]() -> task<> {
    co_await coring::on_thread(0, []() -> task<> { co_return; });  // one thread: runs inline
    CHECK_THROWS_AS(co_await coring::on_thread(1, []() -> task<> { co_return; }), std::invalid_argument);
  }());
}

TEST_CASE("on_thread: cancelling the caller cancels the child's kernel operation on its thread and waits for it") {
  const each_wakeup wakeup;
  coring::run([]() -> task<> {
    blocked_reads r;
    std::atomic<int> child_cancelled{0};
    co_await coring::move_on_after(20ms, coring::on_thread(1, [&] { return count_cancel(r.read(), child_cancelled); }));
    CHECK(r.reading.size() == 1);
    CHECK(child_cancelled.load() == 1);  // the caller resumed only after the child ended
  }(), with_threads(2));
}

TEST_CASE("on_thread: a caller cancelled before the call never starts the child") {
  coring::run([]() -> task<> {
    std::atomic<bool> ran{false};
    bool threw = false;
    {
      coring::cancel_scope scope;
      scope.cancel();
      try {
        co_await coring::on_thread(1, [&]() -> task<> {
          ran = true;
          co_return;
        });
      } catch (const coring::cancelled&) {
        threw = true;
      }
    }
    CHECK(threw);
    co_await coring::on_thread(1, []() -> task<> { co_return; });  // thread 1 ran what it was sent
    CHECK_FALSE(ran.load());
  }(), with_threads(2));
}

TEST_CASE("on_thread: a cancel racing the child's completion loses no result") {
  const each_wakeup wakeup;
  coring::run([]() -> task<> {
    int delivered = 0, cancelled = 0, lost = 0;
    std::atomic<int> completed{0};
    for (int i = 0; i < 2000; ++i) {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        auto h = tg.spawn([&]() -> task<int> {
          co_return co_await coring::on_thread(1, [&, i]() -> task<int> {
            for (int k = 0; k < i % 3; ++k) co_await coring::checkpoint();
            completed.fetch_add(1);
            co_return i;
          });
        });
        for (int k = 0; k < i % 5; ++k) co_await coring::checkpoint();
        h.cancel();
        co_await coring::checkpoint();
        tg.spawn([&, h]() -> task<> {
          try {
            const int v = co_await h;
            if (v == i) ++delivered;
            else ++lost;
          } catch (const coring::cancelled&) {
            ++cancelled;
          }
        });
      });
    }
    INFO("delivered " << delivered << ", cancelled " << cancelled << ", completed " << completed.load());
    CHECK(lost == 0);
    CHECK(delivered + cancelled == 2000);
    CHECK(delivered == completed.load());  // every child that finished delivered its value
  }(), with_threads(2));
}

TEST_CASE("on_thread: 100,000 round trips") {
  coring::run([]() -> task<> {
    long sum = 0;
    for (int i = 0; i < 100000; ++i) sum += co_await coring::on_thread(1, [i]() -> task<int> { co_return i; });
    CHECK(sum == 100000L * 99999 / 2);
  }(), with_threads(2));
}

TEST_CASE("on_thread: run_blocking on a loop thread returns to that thread's ring") {
  coring::run([]() -> task<> {
    const unsigned where = co_await coring::on_thread(1, []() -> task<unsigned> {
      co_await coring::run_blocking([] { return 1; });
      co_return coring::thread_index();
    });
    CHECK(where == 1);
  }(), with_threads(2));
}

// ---- spawn_on ----

TEST_CASE("spawn_on: a failure on thread 1 cancels a child blocked in a socket read on thread 0") {
  const each_wakeup wakeup;
  coring::run([]() -> task<> {
    blocked_reads r;
    coring::task_handle<std::size_t> reader;
    bool failed = false;
    try {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        reader = tg.spawn(r.read(), "reader");
        (void)co_await r.reading.get();
        tg.spawn_on(1, [&]() -> task<> {
          co_await coring::checkpoint();
          throw std::runtime_error("failed on thread 1");
        }, "failer");
        co_return;
      });
    } catch (const coring::exception_group& eg) {
      failed = eg.size() == 1;
    }
    CHECK(failed);
    CHECK(reader.cancelled());
  }(), with_threads(2));
}

TEST_CASE("spawn_on: a failure on thread 0 cancels a child blocked in a socket read on thread 1") {
  const each_wakeup wakeup;
  coring::run([]() -> task<> {
    blocked_reads r;
    std::atomic<int> child_cancelled{0};
    coring::task_handle<void> remote;
    std::size_t errors = 0;
    try {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        remote = tg.spawn_on(1, [&] { return count_cancel(r.read(), child_cancelled); }, "reader on 1");
        (void)co_await r.reading.get();
        throw std::runtime_error("body failed on thread 0");
      });
    } catch (const coring::exception_group& eg) {
      errors = eg.size();
    }
    CHECK(errors == 1);
    CHECK(remote.cancelled());
    CHECK(child_cancelled.load() == 1);
  }(), with_threads(2));
}

TEST_CASE("spawn_on: the exception_group gathers the errors of every thread") {
  coring::run([]() -> task<> {
    coring::channel<int> go(4);
    std::vector<std::string> names;
    try {
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        for (unsigned k : {1u, 2u})
          tg.spawn_on(k, [&go, k]() -> task<> {
            // Shielded: each child gets its go-ahead even after the other one's failure.
            co_await coring::shield(go.get());
            throw std::runtime_error("failure on thread " + std::to_string(k));
          }, "child " + std::to_string(k));
        go.put_nowait(1);
        go.put_nowait(2);
        co_return;
      });
    } catch (const coring::exception_group& eg) {
      for (const auto& e : eg.entries()) names.push_back(e.task_name);
    }
    std::sort(names.begin(), names.end());
    CHECK(names == std::vector<std::string>{"child 1", "child 2"});
  }(), with_threads(3));
}

TEST_CASE("spawn_on: the group waits for its children on every thread and keeps their results") {
  coring::run([]() -> task<> {
    std::vector<coring::task_handle<unsigned>> hs;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (unsigned k = 0; k < 3; ++k)
        hs.push_back(tg.spawn_on(k, []() -> task<unsigned> {
          co_await coring::sleep(2ms);
          co_return coring::thread_index();
        }));
      co_return;
    });
    for (unsigned k = 0; k < 3; ++k) {
      REQUIRE(hs[k].done());
      CHECK(hs[k].result() == k);
    }
  }(), with_threads(3));
}

TEST_CASE("spawn_on: dump_tasks shows the thread each task runs on") {
  coring::run([]() -> task<> {
    std::string here, there;
    coring::channel<int> ready(1), release(1);  // outlive the tasks using them
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn_on(1, [&]() -> task<> {
        there = coring::dump_tasks();
        ready.put_nowait(1);  // hands `there` over to thread 0
        (void)co_await release.get();
      }, "worker");
      (void)co_await ready.get();
      here = coring::dump_tasks();
      release.put_nowait(1);
    });
    CHECK_THAT(here, Catch::Contains("thread 0 of 2:"));
    CHECK_THAT(here, Catch::Contains("worker #") && Catch::Contains("waiting on a task on thread 1"));
    CHECK_THAT(there, Catch::Contains("thread 1 of 2:") && Catch::Contains("worker #"));
  }(), with_threads(2));
}

TEST_CASE("spawn_on: a thread index that does not exist is refused before anything starts") {
  coring::run([]() -> task<> {
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      CHECK_THROWS_AS(tg.spawn_on(5, []() -> task<> { co_return; }), std::invalid_argument);
      CHECK(tg.size() == 0);
      co_return;
    });
  }(), with_threads(2));
}

// ---- streams across threads ----

TEST_CASE("tcp_stream: a stream handed to another thread while its send is in flight refuses to write there") {
  coring::run([]() -> task<> {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    const int small = 4096;
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    coring::tcp_stream s(fds[0]);
    const std::string chunk(16 * 1024, 'x');
    // Nobody reads fds[1]: the first write's send stays in the kernel, and the write after
    // it, waiting for that send, gives up at its bound without queuing its bytes.
    std::size_t written = 0;
    for (;;) {
      const bool sent = co_await coring::move_on_after(20ms, s.write_all(chunk));
      if (!sent) break;
      written += chunk.size();
    }
    REQUIRE(written > 0);

    // On thread 1, a write or a flush would wait on thread 0's lists: both are refused. The
    // bound only ends the wait that a missing check would start.
    const std::string refused = co_await coring::on_thread(1, [&s]() -> task<std::string> {
      std::string what;
      for (int op = 0; op < 2; ++op) {
        try {
          task<> attempt = op == 0 ? s.write_all("y") : s.flush();  // named: see README, g++ 12
          const bool done = co_await coring::move_on_after(2s, std::move(attempt));
          what += done ? "finished;" : "waited;";
        } catch (const std::logic_error& e) {
          what += std::string(e.what()).find("await flush() on that thread") != std::string::npos ? "refused;" : e.what();
        }
      }
      co_return what;
    });
    CHECK(refused == "refused;refused;");

    // Back on its own thread the stream goes on: once the peer reads, every byte arrives.
    std::size_t got = 0;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {
        char buf[4096];
        while (got < written) got += co_await coring::read_some(fds[1], std::span(buf));
      });
      co_await s.flush();
    });
    CHECK(got == written);
    ::close(fds[1]);
  }(), with_threads(2));
}

// ---- shutdown ----

TEST_CASE("threads: shutdown with work in flight on every thread cancels it and joins every thread") {
  const each_wakeup wakeup;
  std::atomic<int> cancelled{0};
  blocked_reads r;
  CHECK_THROWS_WITH(coring::run([&]() -> task<> {
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (unsigned k = 0; k < 3; ++k) {
        tg.spawn_on(k, [&] { return count_cancel(r.read(), cancelled); });
        tg.spawn_on(k, [&] { return count_cancel(coring::sleep(1h), cancelled); });
      }
      for (int i = 0; i < 3; ++i) (void)co_await r.reading.get();
      throw std::runtime_error("main gives up");
    });
  }(), with_threads(3)), Catch::Contains("unhandled errors"));
  CHECK(cancelled.load() == 6);
  CHECK(loop_threads() == 0);
}
