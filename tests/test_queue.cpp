#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/detail/fifo.hpp>
#include <coring/queue.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>

#include <fmt/format.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;

using coring_test::settle;

namespace {

// A blocked getter or putter that counts, in `shut`, the queue_shut_down its call ends with.
task<> get_counting_shutdown(coring::queue<int>& q, int& shut) {
  try {
    (void)co_await q.get();
  } catch (const coring::queue_shut_down&) {
    ++shut;
  }
}

task<> put_counting_shutdown(coring::queue<int>& q, int item, int& shut) {
  try {
    co_await q.put(item);
  } catch (const coring::queue_shut_down&) {
    ++shut;
  }
}

}  // namespace

// ---- basic behaviour ----

TEST_CASE("queue: items come out in the order they were put") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    for (int i = 0; i < 5; ++i) co_await q.put(i);
    CHECK(q.size() == 5);
    for (int i = 0; i < 5; ++i) {
      // (GCC 12 mishandles co_await inside Catch's CHECK macro: await into a local first.)
      const int v = co_await q.get();
      CHECK(v == i);
    }
    CHECK(q.empty());
  }());
}

TEST_CASE("queue: maxsize 0 means unbounded") {
  coring::queue<int> q;
  CHECK(q.maxsize() == 0);
  for (int i = 0; i < 100000; ++i) q.put_nowait(i);
  CHECK_FALSE(q.full());
  CHECK(q.size() == 100000);
}

// Counts its live instances, so a test can tell that the queue destroys what it holds.
struct counted {
  static inline int live = 0;
  int v;
  explicit counted(int x) : v(x) { ++live; }
  counted(counted&& o) noexcept : v(o.v) { ++live; }
  counted(const counted&) = delete;
  ~counted() { --live; }
};

TEST_CASE("queue: items keep their order while the buffer wraps, grows to 100,000 and shrinks back") {
  {
    coring::queue<counted> q;
    int next_in = 0, next_out = 0;
    // Wrap around a small buffer first: the head moves on while the size stays small.
    for (int round = 0; round < 50; ++round) {
      for (int i = 0; i < 10; ++i) q.put_nowait(counted(next_in++));
      for (int i = 0; i < 7; ++i) CHECK(q.get_nowait().v == next_out++);
    }
    // A spike, taken out again: the buffer grows (moving wrapped items) and then shrinks.
    while (next_in < 100'000) q.put_nowait(counted(next_in++));
    CHECK(counted::live == next_in - next_out);
    bool in_order = true;
    while (q.size() > 5) in_order &= q.get_nowait().v == next_out++;
    CHECK(in_order);
    // Items put after the buffer shrank come out behind the ones kept through it.
    for (int i = 0; i < 3; ++i) q.put_nowait(counted(next_in++));
    while (!q.empty()) in_order &= q.get_nowait().v == next_out++;
    CHECK(in_order);
    CHECK(next_out == next_in);
    CHECK(counted::live == 0);
    for (int i = 0; i < 20; ++i) q.put_nowait(counted(i));
    q.shutdown(true);  // dropped items are destroyed at once
    CHECK(counted::live == 0);
  }
}

TEST_CASE("queue: the buffer of a drained spike shrinks back to a few thousand slots") {
  coring::detail::fifo<int> f;
  for (int i = 0; i < 1'000'000; ++i) f.push_back(int(i));
  CHECK(f.capacity() >= 1'000'000);
  bool in_order = true;
  for (int i = 0; i < 999'990; ++i) {
    in_order &= f.front() == i;
    f.pop_front();
  }
  CHECK(in_order);
  CHECK(f.size() == 10);
  CHECK(f.capacity() <= 4096);
  CHECK(f.front() == 999'990);
}

TEST_CASE("queue: items still in a queue are destroyed with it") {
  {
    coring::queue<counted> q;
    for (int i = 0; i < 1000; ++i) q.put_nowait(counted(i));
    for (int i = 0; i < 400; ++i) (void)q.get_nowait();
    CHECK(counted::live == 600);
  }
  CHECK(counted::live == 0);
}

// Copyable with a move that may throw: growing the buffer copies it (as std::vector does),
// so a copy that fails leaves every item already in the queue intact.
struct fragile {
  static inline bool fail_copy = false;
  std::string s;
  explicit fragile(std::string x) : s(std::move(x)) {}
  fragile(const fragile& o) : s(o.s) {
    if (fail_copy) throw std::runtime_error("copy failed");
  }
  fragile(fragile&& o) noexcept(false) : s(std::move(o.s)) {}
};

TEST_CASE("queue: a put that cannot grow the buffer throws and loses no item") {
  coring::queue<fragile> q;
  int n = 0;
  // Fill the first buffer exactly (the next put must grow it), wrapped once.
  q.put_nowait(fragile("x"));
  (void)q.get_nowait();
  while (q.size() < 16) q.put_nowait(fragile(std::to_string(n++)));
  fragile::fail_copy = true;
  fragile last("last");
  CHECK_THROWS_WITH(q.put_nowait(std::move(last)), "copy failed");
  fragile::fail_copy = false;
  CHECK(q.size() == 16);
  bool intact = true;
  for (int i = 0; i < 16; ++i) intact &= q.get_nowait().s == std::to_string(i);
  CHECK(intact);
}

TEST_CASE("queue: put_nowait on a full queue throws queue_full") {
  coring::queue<int> q(2);
  q.put_nowait(1);
  q.put_nowait(2);
  CHECK(q.full());
  CHECK_THROWS_AS(q.put_nowait(3), coring::queue_full);
  CHECK(q.size() == 2);
  // The error is a std::runtime_error and says what to do.
  CHECK_THROWS_WITH(q.put_nowait(3), Catch::Contains("co_await put()"));
}

TEST_CASE("queue: get_nowait on an empty queue throws queue_empty") {
  coring::queue<int> q;
  CHECK(q.empty());
  CHECK_THROWS_AS(q.get_nowait(), coring::queue_empty);
  const std::runtime_error& as_base = coring::queue_empty();
  CHECK(std::string(as_base.what()).find("empty") != std::string::npos);
  q.put_nowait(4);
  CHECK(q.get_nowait() == 4);
}

TEST_CASE("queue: move-only items go through put, get and the nowait calls") {
  coring::run([]() -> task<> {
    coring::queue<std::unique_ptr<int>> q(1);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {
        for (int i = 0; i < 10; ++i) co_await q.put(std::make_unique<int>(i));
      });
      for (int i = 0; i < 10; ++i) {
        std::unique_ptr<int> p = co_await q.get();
        CHECK(*p == i);
      }
      co_return;
    });
    q.put_nowait(std::make_unique<int>(42));
    CHECK(*q.get_nowait() == 42);
    // The awaiters move (with_timeout takes them by value) with a move-only item inside.
    co_await coring::with_timeout(1s, q.put(std::make_unique<int>(5)));
    auto p = co_await coring::with_timeout(1s, q.get());
    CHECK(*p == 5);
  }());
}

TEST_CASE("queue: a put on a full queue waits until a get makes room") {
  coring::run([]() -> task<> {
    coring::queue<int> q(2);
    bool third_done = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> {
        co_await q.put(1);
        co_await q.put(2);
        co_await q.put(3);
        third_done = true;
      });
      co_await settle();
      CHECK_FALSE(third_done);
      CHECK(q.statistics().putters == 1);
      CHECK(q.get_nowait() == 1);
      co_await settle();
      CHECK(third_done);
      CHECK(q.size() == 2);
    });
    CHECK(q.get_nowait() == 2);
    CHECK(q.get_nowait() == 3);
  }());
}

TEST_CASE("queue: a get on an empty queue waits for a put") {
  coring::run([]() -> task<> {
    coring::queue<std::string> q;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([&]() -> task<std::string> { co_return co_await q.get(); });
      co_await settle();
      CHECK_FALSE(h.done());
      CHECK(q.statistics().getters == 1);
      co_await q.put("hello");
      co_await settle();
      REQUIRE(h.done());
      CHECK(h.result() == "hello");
    });
  }());
}

TEST_CASE("queue: blocked getters are served in FIFO order") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    std::vector<std::pair<int, int>> got;  // (getter, item)
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int g = 0; g < 4; ++g) {
        tg.spawn([&, g]() -> task<> { got.emplace_back(g, co_await q.get()); });
        co_await coring::checkpoint();  // getter g parks before getter g+1 exists
      }
      CHECK(q.statistics().getters == 4);
      for (int i = 0; i < 4; ++i) q.put_nowait(100 + i);
      co_return;
    });
    REQUIRE(got.size() == 4);
    for (int i = 0; i < 4; ++i) {
      CHECK(got[i].first == i);
      CHECK(got[i].second == 100 + i);
    }
  }());
}

TEST_CASE("queue: blocked putters are served in FIFO order") {
  coring::run([]() -> task<> {
    coring::queue<int> q(1);
    q.put_nowait(-1);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int p = 0; p < 4; ++p) {
        tg.spawn([&, p]() -> task<> { co_await q.put(p); });
        co_await coring::checkpoint();
      }
      CHECK(q.statistics().putters == 4);
      std::vector<int> out;
      for (int i = 0; i < 5; ++i) out.push_back(co_await q.get());
      CHECK(out == std::vector<int>{-1, 0, 1, 2, 3});
    });
  }());
}

TEST_CASE("queue: a newcomer cannot take an item promised to a woken getter") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([&]() -> task<int> { co_return co_await q.get(); });
      co_await settle();
      q.put_nowait(7);  // handed to the blocked getter, which has not run yet
      CHECK(q.empty());
      CHECK_THROWS_AS(q.get_nowait(), coring::queue_empty);
      co_await settle();
      CHECK(h.result() == 7);
    });
  }());
}

TEST_CASE("queue: a newcomer cannot take a slot promised to a woken putter") {
  coring::run([]() -> task<> {
    coring::queue<int> q(1);
    q.put_nowait(1);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&]() -> task<> { co_await q.put(2); });
      co_await settle();
      CHECK(q.get_nowait() == 1);  // frees the slot for the blocked putter
      CHECK(q.full());
      CHECK_THROWS_AS(q.put_nowait(3), coring::queue_full);
      co_await settle();
      CHECK(q.get_nowait() == 2);
    });
  }());
}

TEST_CASE("queue: statistics are fmt-formattable") {
  coring::queue<int> q(3);
  q.put_nowait(1);
  const auto s = q.statistics();
  CHECK(s.size == 1);
  CHECK(s.maxsize == 3);
  CHECK(s.puts == 1);
  CHECK(fmt::format("{}", s) ==
        "queue(size=1 maxsize=3 getters=0 putters=0 joiners=0 unfinished=1 shut_down=false "
        "puts=1 gets=0)");
}

// ---- cancellation: no lost items ----

TEST_CASE("queue: a cancelled put never enqueues") {
  coring::run([]() -> task<> {
    coring::queue<int> q(1);
    q.put_nowait(1);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([&]() -> task<> { co_await q.put(2); });
      co_await settle();
      CHECK(q.statistics().putters == 1);
      h.cancel();
      co_await settle();
      CHECK(h.cancelled());
    });
    CHECK(q.statistics().putters == 0);
    CHECK(q.get_nowait() == 1);
    CHECK_THROWS_AS(q.get_nowait(), coring::queue_empty);
    CHECK(q.statistics().puts == 1);
  }());
}

TEST_CASE("queue: a put cancelled after it was handed a slot does not enqueue; the slot goes to the next putter") {
  coring::run([]() -> task<> {
    coring::queue<int> q(1);
    q.put_nowait(1);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto first = tg.spawn([&]() -> task<> { co_await q.put(2); });
      co_await coring::checkpoint();
      auto second = tg.spawn([&]() -> task<> { co_await q.put(3); });
      co_await settle();
      CHECK(q.statistics().putters == 2);
      CHECK(q.get_nowait() == 1);  // the slot is handed to `first`...
      first.cancel();              // ...which is cancelled before it runs
      co_await settle();
      CHECK(first.cancelled());
      CHECK(second.done());
    });
    CHECK(q.get_nowait() == 3);
    CHECK_THROWS_AS(q.get_nowait(), coring::queue_empty);
  }());
}

TEST_CASE("queue: a cancelled get never consumes") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([&]() -> task<int> { co_return co_await q.get(); });
      co_await settle();
      h.cancel();
      co_await settle();
      CHECK(h.cancelled());
      CHECK(q.statistics().getters == 0);
    });
    q.put_nowait(5);
    CHECK(q.get_nowait() == 5);
  }());
}

TEST_CASE("queue: a get handed an item and cancelled before resuming does not lose it; the next getter receives it") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto first = tg.spawn([&]() -> task<int> { co_return co_await q.get(); });
      co_await coring::checkpoint();
      auto second = tg.spawn([&]() -> task<int> { co_return co_await q.get(); });
      co_await settle();
      CHECK(q.statistics().getters == 2);
      q.put_nowait(7);  // handed to `first`...
      first.cancel();   // ...which is cancelled before it resumes
      co_await settle();
      CHECK(first.cancelled());
      REQUIRE(second.done());
      CHECK(second.result() == 7);
    });
    CHECK(q.statistics().gets == 1);
  }());
}

TEST_CASE("queue: an item handed to a getter cancelled before resuming stays in the queue when nobody else waits") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([&]() -> task<int> { co_return co_await q.get(); });
      co_await settle();
      q.put_nowait(9);
      h.cancel();
      co_await settle();
      CHECK(h.cancelled());
    });
    CHECK(q.size() == 1);
    CHECK(q.get_nowait() == 9);
  }());
}

TEST_CASE("queue: a get in a cancelled scope throws cancelled even when an item is there") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    q.put_nowait(1);
    {
      coring::cancel_scope scope;
      scope.cancel();
      bool threw = false;
      try {
        (void)co_await q.get();
      } catch (const coring::cancelled&) {
        threw = true;
      }
      CHECK(threw);
      threw = false;
      try {
        co_await q.put(2);
      } catch (const coring::cancelled&) {
        threw = true;
      }
      CHECK(threw);
    }
    CHECK(q.size() == 1);
    CHECK(q.get_nowait() == 1);
  }());
}

TEST_CASE("queue: with_timeout around get on an empty queue throws timeout_error and leaves the queue intact") {
  coring::run([]() -> task<> {
    coring::queue<int> q(4);
    q.put_nowait(1);
    CHECK(q.get_nowait() == 1);
    CHECK_THROWS_AS(co_await coring::with_timeout(2ms, q.get()), coring::timeout_error);
    const auto s = q.statistics();
    CHECK(s.getters == 0);
    CHECK(s.size == 0);
    CHECK(s.gets == 1);
    q.put_nowait(2);
    const int v = co_await q.get();
    CHECK(v == 2);
  }());
}

TEST_CASE("queue: with_timeout around put on a full queue throws timeout_error and enqueues nothing") {
  coring::run([]() -> task<> {
    coring::queue<int> q(1);
    q.put_nowait(1);
    CHECK_THROWS_AS(co_await coring::with_timeout(2ms, q.put(2)), coring::timeout_error);
    CHECK(q.statistics().putters == 0);
    CHECK(q.get_nowait() == 1);
    CHECK(q.empty());
  }());
}

TEST_CASE("queue: a get with nobody left to put is reported as a deadlock") {
  CHECK_THROWS_WITH(coring::run([]() -> task<> {
                      coring::queue<int> q;
                      (void)co_await q.get();
                    }()),
                    Catch::Contains("deadlock"));
}

TEST_CASE("queue: tasks blocked in put and get when the runtime gives up leave the wait lists and free their frames") {
  CHECK_THROWS_WITH(coring::run([]() -> task<> {
                      coring::queue<int> empty_q;
                      coring::queue<int> full_q(1);
                      full_q.put_nowait(0);
                      co_await coring::with_task_group([&](task_group& tg) -> task<> {
                        for (int i = 0; i < 3; ++i) {
                          tg.spawn([&]() -> task<> { (void)co_await empty_q.get(); });
                          tg.spawn([&]() -> task<> { co_await full_q.put(1); });
                        }
                        co_return;
                      });
                    }()),
                    Catch::Contains("deadlock"));
  CHECK(coring::stats().frames == 0);
}

// ---- task_done / join ----

TEST_CASE("queue: join waits until every item is marked task_done") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    int processed = 0;
    co_await q.join();  // nothing unfinished: returns at once
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 10; ++i) q.put_nowait(i);
      tg.spawn([&]() -> task<> {
        for (;;) {
          (void)co_await q.get();
          co_await coring::checkpoint();
          ++processed;
          q.task_done();
        }
      });
      CHECK(q.statistics().unfinished == 10);
      co_await q.join();
      CHECK(processed == 10);
      CHECK(q.statistics().unfinished == 0);
      tg.cancel();
    });
  }());
}

TEST_CASE("queue: task_done called more times than items were put throws logic_error") {
  coring::queue<int> q;
  q.put_nowait(1);
  (void)q.get_nowait();
  q.task_done();
  CHECK_THROWS_AS(q.task_done(), std::logic_error);
  CHECK_THROWS_WITH(q.task_done(), Catch::Contains("once per item"));
}

// ---- shutdown ----

TEST_CASE("queue: after shutdown put and put_nowait throw queue_shut_down") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    q.shutdown();
    CHECK(q.is_shut_down());
    CHECK_THROWS_AS(q.put_nowait(1), coring::queue_shut_down);
    CHECK_THROWS_AS(co_await q.put(1), coring::queue_shut_down);
    CHECK(q.statistics().puts == 0);
  }());
}

TEST_CASE("queue: shutdown lets getters drain the items, then get throws queue_shut_down") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    q.put_nowait(1);
    q.put_nowait(2);
    q.shutdown();
    const int first = co_await q.get();
    CHECK(first == 1);
    CHECK(q.get_nowait() == 2);
    CHECK_THROWS_AS(co_await q.get(), coring::queue_shut_down);
    CHECK_THROWS_AS(q.get_nowait(), coring::queue_shut_down);
  }());
}

TEST_CASE("queue: shutdown wakes every blocked getter with queue_shut_down") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    int shut = 0;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 3; ++i) tg.spawn(get_counting_shutdown(q, shut));
      co_await settle();
      CHECK(q.statistics().getters == 3);
      q.shutdown();
      co_return;
    });
    CHECK(shut == 3);
  }());
}

TEST_CASE("queue: shutdown wakes every blocked putter with queue_shut_down and keeps the items for getters") {
  coring::run([]() -> task<> {
    coring::queue<int> q(1);
    q.put_nowait(1);
    int shut = 0;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 3; ++i) tg.spawn(put_counting_shutdown(q, 10 + i, shut));
      co_await settle();
      CHECK(q.statistics().putters == 3);
      q.shutdown();
      co_return;
    });
    CHECK(shut == 3);
    const int v = co_await q.get();
    CHECK(v == 1);
    CHECK_THROWS_AS(co_await q.get(), coring::queue_shut_down);
  }());
}

TEST_CASE("queue: a putter woken with a slot but not yet resumed at shutdown throws queue_shut_down") {
  coring::run([]() -> task<> {
    coring::queue<int> q(1);
    q.put_nowait(1);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = tg.spawn([&]() -> task<bool> {
        try {
          co_await q.put(2);
        } catch (const coring::queue_shut_down&) {
          co_return true;
        }
        co_return false;
      });
      co_await settle();
      CHECK(q.get_nowait() == 1);  // slot handed to the putter
      q.shutdown();
      co_await settle();
      REQUIRE(h.done());
      CHECK(h.result());
    });
    CHECK(q.statistics().puts == 1);
    CHECK_THROWS_AS(q.get_nowait(), coring::queue_shut_down);
  }());
}

TEST_CASE("queue: shutdown(immediate) drops the items and releases join") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    bool joined = false;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      q.put_nowait(1);
      q.put_nowait(2);
      tg.spawn([&]() -> task<> {
        co_await q.join();
        joined = true;
      });
      co_await settle();
      CHECK_FALSE(joined);
      CHECK(q.statistics().joiners == 1);
      q.shutdown(true);
      CHECK(q.size() == 0);
      co_return;
    });
    CHECK(joined);
    CHECK(q.statistics().unfinished == 0);
    CHECK_THROWS_AS(q.get_nowait(), coring::queue_shut_down);
  }());
}

TEST_CASE("queue: shutdown(immediate) wakes every getter with queue_shut_down, even one already handed an item") {
  coring::run([]() -> task<> {
    coring::queue<int> q;
    int shut = 0;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 2; ++i) tg.spawn(get_counting_shutdown(q, shut));
      co_await settle();
      q.put_nowait(1);  // handed to the first getter, which has not resumed yet
      q.shutdown(true);
      co_return;
    });
    CHECK(shut == 2);
    CHECK(q.statistics().unfinished == 0);
    CHECK(q.statistics().gets == 0);
  }());
}

// ---- many tasks, no system calls ----

TEST_CASE("queue: 1,000,000 items through maxsize 100 with 5 consumers make no io_uring_enter after start-up") {
  coring::run([]() -> task<> {
    constexpr long n = 1'000'000;
    coring::queue<long> q(100);
    long sum = 0, count = 0;
    std::vector<long> per_consumer(5, 0);
    const auto before = coring::stats();
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int c = 0; c < 5; ++c)
        tg.spawn([&, c]() -> task<> {
          try {
            for (;;) {
              sum += co_await q.get();
              ++count;
              ++per_consumer[c];
            }
          } catch (const coring::queue_shut_down&) {
          }
        });
      tg.spawn([&]() -> task<> {
        for (long i = 0; i < n; ++i) co_await q.put(i);
        q.shutdown();
      });
      co_return;
    });
    const auto after = coring::stats();
    CHECK(count == n);
    CHECK(sum == n * (n - 1) / 2);
    for (long c : per_consumer) CHECK(c > 0);  // every consumer took part
    CHECK(after.enters == before.enters);
    CHECK(after.sqes == before.sqes);
    INFO(fmt::format("{}", after));
  }());
}
