#include <catch2/catch.hpp>

#include <coring/exception_group.hpp>

#include <stdexcept>
#include <system_error>

using coring::exception_group;

namespace {
exception_group sample() {
  exception_group inner("inner", {{std::make_exception_ptr(std::invalid_argument("bad arg")), "c"},
                                  {std::make_exception_ptr(std::out_of_range("range")), "d"}});
  return exception_group("outer", {{std::make_exception_ptr(std::invalid_argument("top")), "a"},
                                   {std::make_exception_ptr(inner), "group"},
                                   {std::make_exception_ptr(std::runtime_error("rt")), "b"}});
}
}  // namespace

TEST_CASE("exception_group: what() counts the sub-exceptions") {
  CHECK(std::string(sample().what()) == "outer (3 sub-exceptions)");
}

TEST_CASE("exception_group: split keeps the tree shape on both sides") {
  auto [match, rest] = sample().split<std::invalid_argument>();
  REQUIRE(match);
  REQUIRE(rest);
  REQUIRE(match->size() == 2);  // "top" and the inner group holding "bad arg"
  const exception_group* m_inner = exception_group::as_group(match->exceptions()[1]);
  REQUIRE(m_inner);
  CHECK(m_inner->size() == 1);
  CHECK(m_inner->message() == "inner");
  REQUIRE(rest->size() == 2);  // the inner group holding "range", and "rt"
  CHECK(rest->entries()[0].task_name == "group");
  auto [none, all] = sample().split<std::system_error>();
  CHECK_FALSE(none);
  REQUIRE(all);
  CHECK(all->size() == 3);
}

TEST_CASE("exception_group: handle calls each clause with its part and rethrows the rest") {
  int values = 0, ranges = 0;
  try {
    sample().handle(coring::except<std::invalid_argument>([&](const std::invalid_argument&) { ++values; }),
                    coring::except<std::out_of_range>([&](const exception_group& g) { ranges += int(g.size()); }));
    FAIL("the runtime_error was not rethrown");
  } catch (const exception_group& rest) {
    REQUIRE(rest.size() == 1);
    CHECK_THROWS_WITH(std::rethrow_exception(rest.exceptions()[0]), "rt");
  }
  CHECK(values == 2);
  CHECK(ranges == 1);  // one nested group holding the out_of_range
  int all = 0;
  CHECK_NOTHROW(sample().handle<std::exception>([&](const std::exception&) { ++all; }));
  CHECK(all == 4);
}

TEST_CASE("exception_group: fmt prints the tree with task names") {
  const std::string s = fmt::format("{}", sample());
  CHECK(s.find("coring::exception_group: outer (3 sub-exceptions)") != std::string::npos);
  CHECK(s.find("(task 'a')") != std::string::npos);
  CHECK(s.find("std::invalid_argument: bad arg") != std::string::npos);
  CHECK(s.find("  | coring::exception_group: inner (2 sub-exceptions)") != std::string::npos);
}
