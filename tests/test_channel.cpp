// coring::channel<T>: a bounded MPMC FIFO between loop threads, cancellation-safe as
// coring::queue.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <coring/cancel.hpp>
#include <coring/channel.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/thread.hpp>
#include <coring/time.hpp>

#include "support.hpp"
#include "threads_support.hpp"

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;
using coring_test::settle;
using coring_test::with_threads;

namespace {

template <class A>
using handle_of = decltype(std::declval<task_group&>().spawn(std::declval<A>()));

// Spawns `waiter` (a put or a get) on `tg` and lets it run until it blocks on the channel.
template <class A>
task<handle_of<A>> blocked(task_group& tg, A waiter) {
  auto h = tg.spawn(std::move(waiter));
  co_await settle();
  co_return h;
}

}  // namespace

// ---- the vocabulary, on one thread ----

TEST_CASE("channel: capacity 0 is refused with a message") {
  CHECK_THROWS_WITH(coring::channel<int>(0), Catch::Contains("capacity 0"));
}

TEST_CASE("channel: put_nowait on a full channel throws channel_full and get_nowait on an empty one channel_empty") {
  coring::run([]() -> task<> {
    coring::channel<int> ch(2);
    CHECK_THROWS_AS(ch.get_nowait(), coring::channel_empty);
    ch.put_nowait(1);
    ch.put_nowait(2);
    CHECK(ch.size() == 2);
    CHECK_THROWS_AS(ch.put_nowait(3), coring::channel_full);
    CHECK(ch.get_nowait() == 1);
    CHECK(ch.get_nowait() == 2);
    co_return;
  }());
}

TEST_CASE("channel: move-only items go through put and get") {
  coring::run([]() -> task<> {
    coring::channel<std::unique_ptr<int>> ch(1);
    co_await ch.put(std::make_unique<int>(4));
    auto p = co_await ch.get();
    CHECK(*p == 4);
  }());
}

TEST_CASE("channel: a put on a full channel waits until a get makes room") {
  coring::run([]() -> task<> {
    coring::channel<int> ch(1);
    ch.put_nowait(1);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = co_await blocked(tg, ch.put(2));
      CHECK_FALSE(h.done());
      const int first = co_await ch.get();
      CHECK(first == 1);
      co_await settle();
      CHECK(h.done());
    });
    CHECK(ch.get_nowait() == 2);
  }());
}

TEST_CASE("channel: a cancelled put never enqueues") {
  coring::run([]() -> task<> {
    coring::channel<int> ch(1);
    ch.put_nowait(1);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = co_await blocked(tg, ch.put(2));
      h.cancel();
      co_await settle();
      CHECK(h.cancelled());
    });
    CHECK(ch.get_nowait() == 1);
    CHECK_THROWS_AS(ch.get_nowait(), coring::channel_empty);
  }());
}

TEST_CASE("channel: a put cancelled after it was handed a slot does not enqueue; the slot goes to the next putter") {
  coring::run([]() -> task<> {
    coring::channel<int> ch(1);
    ch.put_nowait(1);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto first = co_await blocked(tg, ch.put(2));
      auto second = co_await blocked(tg, ch.put(3));
      CHECK(ch.get_nowait() == 1);  // the slot is handed to `first`...
      first.cancel();               // ...which is cancelled before it runs
      co_await settle();
      CHECK(first.cancelled());
      CHECK(second.done());
    });
    CHECK(ch.get_nowait() == 3);
    CHECK_THROWS_AS(ch.get_nowait(), coring::channel_empty);
  }());
}

TEST_CASE("channel: a cancelled get never consumes") {
  coring::run([]() -> task<> {
    coring::channel<int> ch(4);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = co_await blocked(tg, ch.get());
      h.cancel();
      co_await settle();
      CHECK(h.cancelled());
    });
    ch.put_nowait(5);
    CHECK(ch.get_nowait() == 5);
  }());
}

TEST_CASE("channel: an item handed to a getter cancelled before resuming passes to the next getter") {
  coring::run([]() -> task<> {
    coring::channel<int> ch(4);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto first = co_await blocked(tg, ch.get());
      auto second = co_await blocked(tg, ch.get());
      ch.put_nowait(7);  // handed to `first`...
      first.cancel();    // ...which is cancelled before it resumes
      co_await settle();
      CHECK(first.cancelled());
      REQUIRE(second.done());
      CHECK(second.result() == 7);
    });
  }());
}

TEST_CASE("channel: an item handed to a getter cancelled before resuming stays when nobody else waits") {
  coring::run([]() -> task<> {
    coring::channel<int> ch(4);
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      auto h = co_await blocked(tg, ch.get());
      ch.put_nowait(9);
      h.cancel();
      co_await settle();
      CHECK(h.cancelled());
    });
    CHECK(ch.size() == 1);
    CHECK(ch.get_nowait() == 9);
  }());
}

TEST_CASE("channel: a get in a cancelled scope throws cancelled even when an item is there") {
  coring::run([]() -> task<> {
    coring::channel<int> ch(1);
    ch.put_nowait(1);
    bool threw = false;
    {
      coring::cancel_scope scope;
      scope.cancel();
      try {
        (void)co_await ch.get();
      } catch (const coring::cancelled&) {
        threw = true;
      }
    }
    CHECK(threw);
    CHECK(ch.size() == 1);
  }());
}

TEST_CASE("channel: after close put throws channel_closed and get drains the rest, then throws channel_closed") {
  coring::run([]() -> task<> {
    coring::channel<int> ch(4);
    ch.put_nowait(1);
    ch.put_nowait(2);
    ch.close();
    CHECK(ch.is_closed());
    CHECK_THROWS_AS(ch.put_nowait(3), coring::channel_closed);
    CHECK_THROWS_AS(co_await ch.put(3), coring::channel_closed);
    const int first = co_await ch.get();
    CHECK(first == 1);
    CHECK(ch.get_nowait() == 2);
    CHECK_THROWS_AS(co_await ch.get(), coring::channel_closed);
    CHECK_THROWS_AS(ch.get_nowait(), coring::channel_closed);
  }());
}

TEST_CASE("channel: close wakes blocked getters and putters with channel_closed and enqueues nothing") {
  coring::run([]() -> task<> {
    coring::channel<int> empty(1), full(1);
    full.put_nowait(1);
    int closed = 0;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int i = 0; i < 2; ++i) {
        tg.spawn([&]() -> task<> {
          try {
            (void)co_await empty.get();
          } catch (const coring::channel_closed&) {
            ++closed;
          }
        });
        tg.spawn([&]() -> task<> {
          try {
            co_await full.put(2);
          } catch (const coring::channel_closed&) {
            ++closed;
          }
        });
      }
      co_await settle();
      empty.close();
      full.close();
    });
    CHECK(closed == 4);
    CHECK(full.get_nowait() == 1);
    CHECK_THROWS_AS(full.get_nowait(), coring::channel_closed);
  }());
}

// ---- between threads ----

TEST_CASE("channel: items cross threads in FIFO order") {
  coring::run([]() -> task<> {
    coring::channel<int> ch(8);
    std::vector<int> got;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn_on(1, [&]() -> task<> {
        for (int i = 0; i < 20000; ++i) co_await ch.put(i);
        ch.close();
      }, "producer");
      try {
        for (;;) got.push_back(co_await ch.get());
      } catch (const coring::channel_closed&) {
      }
    });
    REQUIRE(got.size() == 20000);
    bool ordered = true;
    for (int i = 0; i < 20000; ++i) ordered = ordered && got[i] == i;
    CHECK(ordered);
  }(), with_threads(2));
}

TEST_CASE("channel: many producers and consumers on several threads deliver every item exactly once") {
  coring::run([]() -> task<> {
    constexpr int per_producer = 5000, producers = 3, consumers = 3;
    coring::channel<int> ch(16);
    std::vector<std::atomic<int>> seen(per_producer * producers);
    std::atomic<int> producing{producers};
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (int p = 0; p < producers; ++p)
        tg.spawn_on(p % 3, [&, p]() -> task<> {
          for (int i = 0; i < per_producer; ++i) co_await ch.put(p * per_producer + i);
          if (producing.fetch_sub(1) == 1) ch.close();
        });
      for (int c = 0; c < consumers; ++c)
        tg.spawn_on((c + 1) % 3, [&]() -> task<> {
          try {
            for (;;) seen[co_await ch.get()].fetch_add(1);
          } catch (const coring::channel_closed&) {
          }
        });
      co_return;
    });
    int once = 0;
    for (auto& s : seen) once += s.load() == 1;
    CHECK(once == per_producer * producers);
  }(), with_threads(3));
}

TEST_CASE("channel: under random cancellations across threads no item is lost or duplicated") {
  coring::run([]() -> task<> {
    constexpr int rounds = 3000;
    coring::channel<int> ch(4);
    std::atomic<long> put_sum{0}, got_sum{0};
    std::atomic<int> put_count{0}, got_count{0};
    std::atomic<int> producers{2};
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      for (unsigned p = 0; p < 2; ++p)
        tg.spawn_on(p + 1, [&, p]() -> task<> {
          std::minstd_rand rng(p + 1);
          for (int i = 1; i <= rounds; ++i) {
            const int v = static_cast<int>(p) * rounds + i;
            // Some puts are cancelled while blocked (or even before): those never enqueue.
            const bool cut = rng() % 3 == 0;
            auto r = co_await coring::move_on_after(cut ? std::chrono::microseconds(rng() % 50) : 1h, ch.put(v));
            if (r) {
              put_sum.fetch_add(v);
              put_count.fetch_add(1);
            }
          }
          if (producers.fetch_sub(1) == 1) ch.close();
        });
      for (unsigned c = 0; c < 3; ++c)
        tg.spawn_on(c, [&, c]() -> task<> {
          std::minstd_rand rng(c + 11);
          for (;;) {
            try {
              const bool cut = rng() % 3 == 0;
              auto r = co_await coring::move_on_after(cut ? std::chrono::microseconds(rng() % 50) : 1h, ch.get());
              if (r) {
                got_sum.fetch_add(*r);
                got_count.fetch_add(1);
              }
            } catch (const coring::channel_closed&) {
              co_return;
            }
          }
        });
      co_return;
    });
    INFO("put " << put_count.load() << " items, got " << got_count.load());
    CHECK(put_count.load() > 0);
    CHECK(got_count.load() == put_count.load());
    CHECK(got_sum.load() == put_sum.load());
    CHECK(ch.size() == 0);
  }(), with_threads(3));
}

TEST_CASE("channel: a getter blocked on another thread is woken and no system call is made while both loops run") {
  coring::run([]() -> task<> {
    coring::channel<int> ch(1024);
    const auto before = co_await coring::thread_stats();
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn_on(1, [&]() -> task<> {
        for (int i = 0; i < 1000; ++i) (void)co_await ch.get();
      });
      for (int i = 0; i < 1000; ++i) ch.put_nowait(i);  // one turn: at most one wake-up
      co_return;
    });
    const auto after = co_await coring::thread_stats();
    CHECK(after[1].wakeups_received - before[1].wakeups_received <= 2);
  }(), with_threads(2));
}
