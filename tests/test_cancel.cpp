#include <catch2/catch.hpp>

#include <coring/cancel.hpp>
#include <coring/runtime.hpp>

using namespace std::chrono_literals;

TEST_CASE("cancel: with_timeout on a task throws timeout_error") {
  coring::run([]() -> coring::task<> {
    REQUIRE_THROWS_AS(co_await coring::with_timeout(5ms, coring::sleep(1s)), coring::timeout_error);
  }());
}
