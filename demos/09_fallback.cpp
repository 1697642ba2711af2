// Demo 9 — fallback chain: try the primary; if it fails (except* FetchError), try the
// alternates concurrently and take the first that answers.
//
// Mirrors "Fallback pattern" (seed: common TaskGroup patterns):
//     try:
//         async with asyncio.TaskGroup() as tg:
//             task = tg.create_task(try_fetch(primary_url))
//         return task.result()
//     except* FetchError:
//         async with asyncio.TaskGroup() as tg:
//             tasks = [tg.create_task(try_fetch(url)) for url in fallback_urls]
//         for task in tasks:
//             if not task.cancelled() and task.exception() is None:
//                 return task.result()
//         raise AllFetchesFailed()
//
// The Python's second TaskGroup cancels every fallback as soon as ONE of them fails, so
// its loop never sees a later success. coring::first_success says what was meant: the
// first fallback to succeed wins and the slower ones are cancelled; if all fail it throws
// an exception_group of every error. The network is simulated (a table of answers and
// delays): this demo is about the control flow.
//
// Run: build/demos/demo_fallback
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <chrono>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

struct fetch_error : std::runtime_error {
  explicit fetch_error(const std::string& url) : std::runtime_error("no answer from " + url) {}
};
struct all_fetches_failed : std::runtime_error {
  all_fetches_failed() : std::runtime_error("all fetches failed") {}
};

namespace {

struct answer {
  std::string body;  // empty: no answer
  std::chrono::milliseconds delay;
};
const std::map<std::string, answer> network = {
    {"primary", {"", 5ms}},       {"mirror-1", {"", 2ms}},      {"mirror-2", {"data from mirror-2", 10ms}},
    {"mirror-3", {"data from mirror-3", 900ms}}, {"dead-1", {"", 1ms}}, {"dead-2", {"", 3ms}},
};

// The URLs whose fetch was cancelled, as each fetch saw it (first_success keeps the tasks'
// handles to itself, so the demo asks the tasks, not the clock).
std::set<std::string> cancelled_fetches;

coring::task<std::string> fetch(std::string url) {
  const answer& a = network.at(url);
  try {
    co_await coring::sleep(a.delay);
  } catch (const coring::cancelled&) {
    cancelled_fetches.insert(url);
    throw;
  }
  co_return a.body;
}

coring::task<std::string> try_fetch(std::string url) {
  std::string result = co_await fetch(url);
  if (!result.empty()) co_return result;
  throw fetch_error(url);
}

coring::task<std::string> fetch_with_fallbacks(std::string primary_url, std::vector<std::string> fallback_urls) {
  try {
    coring::task_handle<std::string> task;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      task = tg.spawn(try_fetch(primary_url));
      co_return;
    });
    co_return task.result();
  } catch (const coring::exception_group& eg) {
    eg.handle<fetch_error>([](const fetch_error& e) { fmt::print("{}: trying the fallbacks\n", e.what()); });
  }
  std::vector<coring::task<std::string>> tasks;
  for (const auto& url : fallback_urls) tasks.push_back(try_fetch(url));
  try {
    co_return co_await coring::first_success(std::move(tasks));
  } catch (const coring::exception_group&) {
    throw all_fetches_failed();
  }
}

}  // namespace

coring::task<> demo_fallback() {
  // (named vectors: g++ 12 rejects a braced list of string literals in a co_await argument)
  const std::vector<std::string> mirrors = {"mirror-1", "mirror-2", "mirror-3"}, dead = {"dead-1", "dead-2"};
  std::string data = co_await fetch_with_fallbacks("primary", mirrors);
  fmt::print("got: {} (the slow mirror-3 was cancelled: {})\n", data, cancelled_fetches.count("mirror-3") == 1);
  try {
    co_await fetch_with_fallbacks("primary", dead);
  } catch (const all_fetches_failed& e) {
    fmt::print("AllFetchesFailed: {}\n", e.what());
  }
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_fallback()); }
#endif
