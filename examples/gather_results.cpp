// gather, gather_settled and first_success: results of concurrent tasks.
#include <coring/coring.hpp>
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace std::chrono_literals;

coring::task<int> fetch_size(int id) {  // stands in for a request
  co_await coring::sleep(1ms * id);
  if (id == 3) throw std::runtime_error("request 3 failed");
  co_return id * 100;
}
coring::task<std::string> mirror(std::string name, std::chrono::milliseconds delay) {
  co_await coring::sleep(delay);
  co_return "data from " + name;
}

coring::task<int> main_task() {
  int failures = 0;
  // example-begin
  auto [a, b] = co_await coring::gather(fetch_size(1), fetch_size(2));  // 100, 200
  std::vector<coring::task<int>> fetches;
  for (int id = 4; id <= 6; ++id) fetches.push_back(fetch_size(id));
  std::vector<int> sizes = co_await coring::gather(std::move(fetches));  // in input order
  // example-end
  if (a != 100 || b != 200 || sizes != std::vector<int>{400, 500, 600}) co_return 1;
  // example-begin
  std::vector<coring::task<int>> jobs;
  for (int id = 1; id <= 4; ++id) jobs.push_back(fetch_size(id));
  auto outcomes = co_await coring::gather_settled(std::move(jobs));  // none cancels another
  for (auto& o : outcomes) {
    if (o) {
      fmt::print("size {}\n", o.value());
    } else {
      fmt::print("failed: {}\n", coring::describe_exception(o.error()));
      ++failures;
    }
  }
  // example-end
  // example-begin
  std::vector<coring::task<std::string>> mirrors;
  mirrors.push_back(mirror("slow", 10s));
  mirrors.push_back(mirror("fast", 1ms));
  std::string body = co_await coring::first_success(std::move(mirrors));  // "slow" is cancelled
  // example-end
  co_return failures == 1 && body == "data from fast" ? 0 : 1;
}

int main() { return coring::run(main_task()); }
