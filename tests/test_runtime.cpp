#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/runtime.hpp>
#include <coring/time.hpp>

using namespace std::chrono_literals;

namespace {
coring::task<int> answer() { co_return 42; }
coring::task<int> add_one() { co_return co_await answer() + 1; }
}  // namespace

TEST_CASE("runtime: run returns the main task's value") {
  REQUIRE(coring::run(add_one()) == 43);
}

TEST_CASE("runtime: an exception from main reaches the caller of run") {
  auto bad = []() -> coring::task<> {
    co_await coring::checkpoint();
    throw std::runtime_error("boom");
  };
  REQUIRE_THROWS_WITH(coring::run(bad()), "boom");
}

TEST_CASE("runtime: a sleep costs one io_uring_enter and a checkpoint none") {
  coring::run([]() -> coring::task<> {
    auto before = coring::stats();
    co_await coring::sleep(2ms);
    auto mid = coring::stats();
    CHECK(mid.enters - before.enters == 1);
    for (int i = 0; i < 1000; ++i) co_await coring::checkpoint();
    CHECK(coring::stats().enters == mid.enters);
  }());
}
