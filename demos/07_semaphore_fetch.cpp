// Demo 7 — semaphore-limited fetch: a task per URL, but at most 5 fetches at a time.
//
// Mirrors "Semaphore-Limited TaskGroup" (seed: common TaskGroup patterns):
//     async def limited_concurrent(urls, max_concurrent=5):
//         semaphore = asyncio.Semaphore(max_concurrent)
//         async def fetch_limited(url):
//             async with semaphore:
//                 return await fetch(url)
//         async with asyncio.TaskGroup() as tg:
//             tasks = [tg.create_task(fetch_limited(url)) for url in urls]
//         return [task.result() for task in tasks]
//
// `async with semaphore:` is an RAII permit: released when fetch_limited returns or
// throws or is cancelled. The fetches are real HTTP requests (coring_http) to a server
// the demo starts on 127.0.0.1 as a task of its own; the server counts how many requests
// it is answering at once, so the limit can be seen from the other side of the socket.
//
// Run: build/demos/demo_semaphore_fetch
#include <coring/coring.hpp>
#include <coring/http.hpp>
#include <coring/net.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace http = coring::http;

namespace {

int answering = 0, most_answering = 0;  // the server's view

coring::task<http::response> handle(const http::request& req) {
  most_answering = std::max(most_answering, ++answering);
  co_await coring::sleep(5ms);
  --answering;
  co_return http::response::text(200, fmt::format("page {}", req.path().substr(6)));
}

coring::task<std::vector<std::string>> limited_concurrent(http::client& session, std::vector<std::string> urls,
                                                          int max_concurrent = 5) {
  coring::semaphore semaphore(max_concurrent);
  auto fetch_limited = [&](std::string url) -> coring::task<std::string> {
    auto permit = co_await semaphore.acquire();
    co_return (co_await session.get(url)).body;
  };
  std::vector<coring::task_handle<std::string>> tasks;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (const auto& url : urls) tasks.push_back(tg.spawn(fetch_limited(url), url));
    co_return;
  });
  std::vector<std::string> results;
  for (auto& task : tasks) results.push_back(task.result());
  co_return results;
}

}  // namespace

coring::task<> demo_semaphore_fetch() {
  auto listener = coring::tcp_listener::bind("127.0.0.1", 0);  // port 0: any free port
  std::vector<std::string> urls;
  for (int i = 1; i <= 20; ++i) urls.push_back(fmt::format("http://127.0.0.1:{}/page/{}", listener.local_port(), i));

  http::client session;
  std::vector<std::string> results;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto server = tg.spawn(http::serve(listener, handle), "http-server");
    results = co_await limited_concurrent(session, urls);
    server.cancel();
  });
  fmt::print("{} results: {}, {}, ..., {}\n", results.size(), results[0], results[1], results.back());
  fmt::print("the server answered at most {} requests at once\n", most_answering);
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_semaphore_fetch()); }
#endif
