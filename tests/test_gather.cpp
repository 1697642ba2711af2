#include <catch2/catch.hpp>

#include <coring/coring.hpp>

using namespace std::chrono_literals;
using coring::task;

namespace {
task<int> value_after(int v, std::chrono::milliseconds d) {
  co_await coring::sleep(d);
  co_return v;
}
task<int> fail_after(std::chrono::milliseconds d, const char* msg) {
  co_await coring::sleep(d);
  throw std::runtime_error(msg);
}
task<> nothing() { co_return; }
// Sleeps for a long time and records whether it was cancelled instead.
task<int> slow_value(int v, bool& was_cancelled) {
  try {
    co_await coring::sleep(10s);
  } catch (const coring::cancelled&) {
    was_cancelled = true;
    throw;
  }
  co_return v;
}
}  // namespace

TEST_CASE("gather: returns every result in argument order") {
  coring::run([]() -> task<> {
    auto [a, b, c] = co_await coring::gather(value_after(1, 3ms), value_after(2, 1ms), nothing());
    CHECK(a == 1);
    CHECK(b == 2);
    (void)c;
  }());
}

TEST_CASE("gather: the first failure cancels the rest and is rethrown unwrapped") {
  coring::run([]() -> task<> {
    bool slow_cancelled = false;
    CHECK_THROWS_WITH(co_await coring::gather(slow_value(1, slow_cancelled), fail_after(1ms, "first")), "first");
    CHECK(slow_cancelled);
  }());
}

TEST_CASE("gather_settled: collects values and exceptions in input order") {
  coring::run([]() -> task<> {
    std::vector<task<int>> jobs;
    jobs.push_back(value_after(1, 2ms));
    jobs.push_back(fail_after(1ms, "bad"));
    jobs.push_back(value_after(3, 1ms));
    auto out = co_await coring::gather_settled(std::move(jobs));
    REQUIRE(out.size() == 3);
    CHECK(out[0].value() == 1);
    CHECK_FALSE(out[1]);
    CHECK_THROWS_WITH(out[1].value(), "bad");
    CHECK(out[2].value() == 3);
  }());
}

TEST_CASE("first_success: the first success wins and the rest are cancelled") {
  coring::run([]() -> task<> {
    std::vector<task<int>> mirrors;
    mirrors.push_back(fail_after(1ms, "down"));
    mirrors.push_back(value_after(2, 3ms));
    bool slow_cancelled = false;
    mirrors.push_back(slow_value(3, slow_cancelled));
    int winner = co_await coring::first_success(std::move(mirrors));
    CHECK(winner == 2);
    CHECK(slow_cancelled);
  }());
}

TEST_CASE("first_success: when every task fails it throws all their errors") {
  coring::run([]() -> task<> {
    std::vector<task<int>> mirrors;
    mirrors.push_back(fail_after(2ms, "a"));
    mirrors.push_back(fail_after(1ms, "b"));
    try {
      co_await coring::first_success(std::move(mirrors));
      FAIL("no throw");
    } catch (const coring::exception_group& eg) {
      CHECK(eg.size() == 2);
    }
    CHECK_THROWS_AS(co_await coring::first_success(std::vector<task<int>>{}), std::invalid_argument);
  }());
}

TEST_CASE("gather: a vector of tasks gives its values in input order and fails fast") {
  coring::run([]() -> task<> {
    std::vector<task<int>> jobs;
    for (int i = 0; i < 5; ++i) jobs.push_back(value_after(i, std::chrono::milliseconds(5 - i)));
    std::vector<int> values = co_await coring::gather(std::move(jobs));
    CHECK(values == std::vector<int>{0, 1, 2, 3, 4});
    std::vector<task<int>> bad;
    bool slow_cancelled = false;
    bad.push_back(slow_value(1, slow_cancelled));
    bad.push_back(fail_after(1ms, "vector failure"));
    CHECK_THROWS_WITH(co_await coring::gather(std::move(bad)), "vector failure");
    CHECK(slow_cancelled);
  }());
}
