// Time: saturating deadline arithmetic, relative deadlines counted from the await, and
// virtual time (runtime_options::virtual_time).
#include <catch2/catch.hpp>

#include <coring/coring.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using coring::task;
using coring::task_group;

#include "support.hpp"

namespace {

using coring_test::pipe_pair;

constexpr coring::runtime_options real_time{};
constexpr coring::runtime_options virtual_time{.virtual_time = true};


task<> note_when_done(task<> work, std::string& first) {
  co_await std::move(work);
  if (first.empty()) first = "slow";
}

// Races `slow`, which must not end by itself, against a 5 ms sleep that then cancels the
// group. Returns "short" when the sleep came first (nothing in `slow` fired early), "slow"
// when `slow` returned, or the error it threw.
task<std::string> race_short_sleep(task<> slow) {
  std::string first;
  try {
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn(note_when_done(std::move(slow), first));
      co_await coring::sleep(5ms);
      if (first.empty()) first = "short";
      tg.cancel();
    });
  } catch (const std::exception& e) {
    first = std::string("error: ") + e.what();
  }
  co_return first;
}

template <class T>
task<> discard(task<T> t) {
  co_await std::move(t);
}

// The race under real time and under virtual time.
void check_never_fires(const std::function<task<>()>& make) {
  for (const auto& opts : {real_time, virtual_time}) {
    INFO("virtual time: " << opts.virtual_time);
    CHECK(coring::run(race_short_sleep(make()), opts) == "short");
  }
}

// Durations no coring::duration can hold (and one it can, a century), of several units and
// representations.
template <class F>
void for_each_huge_duration(F fn) {
  fn(std::chrono::seconds::max());
  fn(std::chrono::hours::max());
  fn(std::chrono::nanoseconds::max());
  fn(std::chrono::duration<double>::max());
  fn(std::chrono::duration<double, std::milli>(std::numeric_limits<double>::infinity()));
  fn(std::chrono::duration<std::uint64_t, std::ratio<86400>>::max());
  fn(std::chrono::duration<std::int32_t, std::ratio<31556952>>::max());
  fn(std::chrono::hours(24 * 365 * 100));
}

task<std::size_t> read_pipe(int fd) {
  char buf[16];
  co_return co_await coring::read_some(fd, buf);
}

// with_timeout straight on the read operation (the linked-timeout path).
template <class D>
task<> read_with_timeout(D d, int fd) {
  char buf[16];
  co_await coring::with_timeout(d, coring::read_some(fd, buf));
}

}  // namespace

TEST_CASE("time: durations convert to nanoseconds rounding up, and saturate instead of overflowing") {
  using coring::detail::saturate;
  using std::chrono::duration;
  CHECK(saturate(1h) == 3'600'000'000'000ns);
  CHECK(saturate(duration<double, std::milli>(1.5)) == 1'500'000ns);
  CHECK(saturate(duration<double>(1e-10)) == 1ns);
  CHECK(saturate(duration<std::int64_t, std::pico>(1500)) == 2ns);
  CHECK(saturate(duration<std::int64_t, std::ratio<1, 3>>(3)) == 1s);
  CHECK(saturate(std::chrono::seconds::max()) == coring::duration::max());
  CHECK(saturate(std::chrono::hours::min()) == coring::duration::min());
  CHECK(saturate(duration<double>(std::numeric_limits<double>::infinity())) == coring::duration::max());
  CHECK(saturate(std::chrono::nanoseconds::max()) == coring::duration::max());
  CHECK(saturate(std::chrono::nanoseconds::max() - 1ns) == std::chrono::nanoseconds::max() - 1ns);
  CHECK(coring::detail::deadline_after(coring::duration::max() - 1ns) == coring::time_point::max());
  CHECK_THROWS_AS(coring::sleep(duration<double>(std::numeric_limits<double>::quiet_NaN())),
                  std::invalid_argument);
}

TEST_CASE("time: a sleep of a duration too long to represent never fires early") {
  for_each_huge_duration([](auto d) {
    INFO("duration count " << d.count());
    check_never_fires([d]() -> task<> { return coring::sleep(d); });
  });
}

TEST_CASE("time: move_on_after, with_timeout and fail_after with huge durations never expire early") {
  for_each_huge_duration([](auto d) {
    INFO("duration count " << d.count());
    check_never_fires([d] { return discard(coring::move_on_after(d, coring::sleep(d))); });
    check_never_fires([d] { return coring::with_timeout(d, coring::sleep(d)); });
    check_never_fires([d] { return coring::fail_after(d, coring::sleep(d)); });
  });
}

TEST_CASE("time: with_timeout on a single read with a huge duration neither expires nor arms a bad kernel timeout") {
  pipe_pair p;  // nobody writes: only the group's cancel ends the read
  auto huge = [&p](auto d) {
    INFO("duration count " << d.count());
    check_never_fires([d, fd = p.r] { return discard(coring::with_timeout(d, read_pipe(fd))); });
    check_never_fires([d, fd = p.r] { return read_with_timeout(d, fd); });
  };
  for_each_huge_duration(huge);
  huge(std::chrono::days(100));  // under a year: a real LINK_TIMEOUT of 100 days
  // A read with data and a huge timeout still returns its bytes.
  REQUIRE(::write(p.w, "abc", 3) == 3);
  std::uint64_t sqes = 0;
  std::size_t n = coring::run([](int fd, std::uint64_t& sqes) -> task<std::size_t> {
    char buf[8];
    const auto s0 = coring::stats().sqes;
    const std::size_t got = co_await coring::with_timeout(std::chrono::hours::max(), coring::read_some(fd, buf));
    sqes = coring::stats().sqes - s0;
    co_return got;
  }(p.r, sqes));
  CHECK(n == 3);
  CHECK(sqes == 1);  // the read alone: no LINK_TIMEOUT was armed for "never"
}

TEST_CASE("time: time points too late to represent never come") {
  using late = std::chrono::time_point<std::chrono::steady_clock, std::chrono::hours>;
  using late_double = std::chrono::time_point<std::chrono::steady_clock, std::chrono::duration<double>>;
  check_never_fires([] { return task<>(coring::sleep_until(late::max())); });
  check_never_fires([] { return task<>(coring::sleep_until(coring::time_point::max())); });
  check_never_fires([] { return discard(coring::move_on_at(late::max(), coring::sleep(1h))); });
  check_never_fires([] { return coring::fail_at(late_double::max(), coring::sleep(1h)); });
  check_never_fires([]() -> task<> {
    coring::cancel_scope scope;
    scope.set_deadline(late::max());
    co_await coring::sleep(1h);
    CHECK_FALSE(scope.cancel_called());
  });
}

TEST_CASE("time: a task that only sleeps forever is reported as a deadlock") {
  for (const auto& opts : {real_time, virtual_time}) {
    CHECK_THROWS_AS(coring::run(task<>(coring::sleep(std::chrono::hours::max())), opts), std::logic_error);
  }
}

namespace {
task<> take(coring::duration d) { co_await coring::sleep(d); }

// `start` made now, awaited after a longer sleep: must still complete, because the
// deadline counts from the await.
template <class Make>
task<> awaited_late(Make start) {
  auto t = start();
  co_await coring::sleep(70ms);
  co_await std::move(t);
}
}  // namespace

TEST_CASE("time: with_timeout, fail_after and move_on_after count from the await, not from the call") {
  for (const auto& opts : {real_time, virtual_time}) {
    INFO("virtual time: " << opts.virtual_time);
    CHECK_NOTHROW(coring::run(awaited_late([] { return coring::with_timeout(50ms, take(5ms)); }), opts));
    CHECK_NOTHROW(coring::run(awaited_late([] { return coring::fail_after(50ms, take(5ms)); }), opts));
    coring::run([]() -> task<> {
      auto t = coring::move_on_after(50ms, take(5ms));
      co_await coring::sleep(70ms);
      bool finished = co_await std::move(t);
      CHECK(finished);
    }(), opts);
  }
}

TEST_CASE("time: with_timeout on a single read counts from the await") {
  for (const auto& opts : {real_time, virtual_time}) {
    INFO("virtual time: " << opts.virtual_time);
    pipe_pair p;
    std::size_t n = coring::run([](int r, int w) -> task<std::size_t> {
      char buf[8];
      auto t = coring::with_timeout(50ms, coring::read_some(r, buf));
      co_await coring::sleep(70ms);
      std::size_t got = 0;
      co_await coring::with_task_group([&](task_group& tg) -> task<> {
        tg.spawn([w]() -> task<> {
          co_await coring::sleep(5ms);
          co_await coring::write_some(w, "hi");
        });
        got = co_await std::move(t);
      });
      co_return got;
    }(p.r, p.w), opts);
    CHECK(n == 2);
  }
}

TEST_CASE("time: a sleep counts from the await, not from the call") {
  for (const auto& opts : {real_time, virtual_time}) {
    INFO("virtual time: " << opts.virtual_time);
    const coring::duration slept = coring::run([]() -> task<coring::duration> {
      auto nap = coring::sleep(50ms);
      co_await coring::sleep(70ms);
      const auto before = coring::clock::now();
      co_await std::move(nap);
      co_return coring::clock::now() - before;
    }(), opts);
    CHECK(slept >= 50ms);
    if (opts.virtual_time) CHECK(slept == 50ms);
  }
}

TEST_CASE("time: coring::clock is a steady clock that is steady time outside a virtual runtime") {
  static_assert(std::chrono::is_clock_v<coring::clock>);
  static_assert(coring::clock::is_steady);
  const auto s0 = std::chrono::steady_clock::now();
  const auto c0 = coring::clock::now();
  CHECK(c0 >= s0);
  CHECK(std::chrono::steady_clock::now() >= c0);
  coring::run([]() -> task<> {
    const auto s = std::chrono::steady_clock::now();
    CHECK(coring::clock::now() >= s);  // real time inside a real-time runtime
    co_return;
  }());
  coring::run([]() -> task<> {
    // Virtual time moves only when the loop jumps to a deadline, not while tasks run.
    const auto v = coring::clock::now();
    for (int i = 0; i < 100; ++i) co_await coring::checkpoint();
    std::this_thread::sleep_for(2ms);
    CHECK(coring::clock::now() == v);
    co_await coring::sleep(3s);
    CHECK(coring::clock::now() == v + 3s);
  }(), virtual_time);
  CHECK(coring::clock::now() >= c0);  // steady again after the runtime
  CHECK(coring::clock::now() < c0 + 1h);
}

TEST_CASE("time: under virtual time an hour of sleep and ten-minute timeouts take almost no real time") {
  pipe_pair p;  // nobody writes
  const auto real_start = std::chrono::steady_clock::now();
  coring::run([](int fd) -> task<> {
    const coring::time_point v0 = coring::clock::now();
    co_await coring::sleep(1h);
    const coring::time_point v1 = coring::clock::now();
    CHECK(v1 - v0 >= 1h);
    bool timed_out = false;
    try {
      co_await coring::with_timeout(10min, coring::sleep(20min));
    } catch (const coring::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    const coring::time_point v2 = coring::clock::now();
    CHECK(v2 - v1 == 10min);
    char buf[8];
    timed_out = false;
    try {
      co_await coring::with_timeout(10min, coring::read_some(fd, buf));
    } catch (const coring::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(coring::clock::now() - v2 == 10min);
  }(p.r), virtual_time);
  CHECK(std::chrono::steady_clock::now() - real_start < 10s);
}

namespace {
// 40 sleepers, two of each duration (3 ms steps) in a scrambled order; returns the order in
// which they woke.
task<std::vector<int>> wake_order() {
  std::vector<int> order;
  co_await coring::with_task_group([&](task_group& tg) -> task<> {
    for (int i = 0; i < 40; ++i)
      tg.spawn([&order, i]() -> task<> {
        co_await coring::sleep(3ms * ((i * 7) % 20));
        order.push_back(i);
      });
    co_return;
  });
  co_return order;
}
}  // namespace

TEST_CASE("time: many sleeps wake in the same order under virtual and real time") {
  const std::vector<int> real = coring::run(wake_order(), real_time);
  const std::vector<int> virt = coring::run(wake_order(), virtual_time);
  CHECK(virt == real);
  // By deadline, and equal deadlines in the order the sleeps began.
  std::vector<int> expected(40);
  for (int i = 0; i < 40; ++i) expected[static_cast<std::size_t>(i)] = i;
  std::stable_sort(expected.begin(), expected.end(), [](int a, int b) { return (a * 7) % 20 < (b * 7) % 20; });
  CHECK(virt == expected);
}

TEST_CASE("time: under virtual time a deadline expires exactly at its time") {
  coring::run([]() -> task<> {
    const coring::time_point t0 = coring::clock::now();
    coring::time_point seen{};
    bool finished = co_await coring::move_on_after(10min, [&]() -> task<> {
      try {
        co_await coring::sleep(1h);
      } catch (const coring::cancelled&) {
        seen = coring::clock::now();
        throw;
      }
    }());
    CHECK_FALSE(finished);
    CHECK(seen == t0 + 10min);

    const coring::time_point t1 = coring::clock::now();
    {
      coring::cancel_scope scope;
      scope.set_deadline(t1 + 7s);
      try {
        co_await coring::sleep(1min);
      } catch (const coring::cancelled&) {
        CHECK(scope.owns_cancellation());
        seen = coring::clock::now();
      }
    }
    CHECK(seen == t1 + 7s);

    const coring::time_point t2 = coring::clock::now();
    try {
      co_await coring::fail_at(t2 + 90s, coring::sleep(2min));
    } catch (const coring::timeout_error&) {
      seen = coring::clock::now();
    }
    CHECK(seen == t2 + 90s);
  }(), virtual_time);
}

TEST_CASE("time: under virtual time with_timeout on a single read is a deadline in the timer heap") {
  pipe_pair p;
  coring::run([](int fd) -> task<> {
    char buf[8];
    const auto s0 = coring::stats();
    const auto t0 = coring::clock::now();
    CHECK_THROWS_AS(co_await coring::with_timeout(3s, coring::read_some(fd, buf)), coring::timeout_error);
    const auto s1 = coring::stats();
    CHECK(coring::clock::now() - t0 == 3s);
    CHECK(s1.timers - s0.timers == 1);  // the scope's deadline fired, not a kernel timeout
    CHECK(s1.sqes - s0.sqes == 2);      // the read and its ASYNC_CANCEL
    CHECK(s1.cqes - s0.cqes == 2);
  }(p.r), virtual_time);
}

TEST_CASE("time: under virtual time completions are collected before the clock jumps") {
  pipe_pair p;
  coring::run([](int r, int w) -> task<> {
    const auto t0 = coring::clock::now();
    std::size_t got = 0;
    co_await coring::with_task_group([&](task_group& tg) -> task<> {
      tg.spawn([&tg, &got, r]() -> task<> {
        got = co_await read_pipe(r);
        tg.cancel();
      });
      tg.spawn(coring::sleep(1h));  // the jump the read must beat
      co_await coring::write_some(w, "data");
    });
    CHECK(got == 4);
    CHECK(coring::clock::now() == t0);  // no jump happened
  }(p.r, p.w), virtual_time);
}

TEST_CASE("time: under virtual time with no timer the loop waits for I/O as usual") {
  pipe_pair p;
  ssize_t wrote = 0;
  std::thread writer([w = p.w, &wrote] {
    std::this_thread::sleep_for(20ms);
    wrote = ::write(w, "late", 4);
  });
  const std::size_t n = coring::run(read_pipe(p.r), virtual_time);
  writer.join();
  CHECK(wrote == 4);
  CHECK(n == 4);
}
