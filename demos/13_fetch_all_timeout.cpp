// Demo 13 — fetch_all: fetch URLs concurrently over HTTP under one overall timeout,
// reporting HTTP status errors per URL and returning what succeeded.
//
// Mirrors the seed's fetch_all (setting up task groups), which used httpx:
//     async def fetch_url(client, url):
//         response = await client.get(url)
//         response.raise_for_status()
//         return {"url": url, "status": response.status_code, "size": len(response.content)}
//     try:
//         async with asyncio.timeout(30):
//             async with asyncio.TaskGroup() as tg:
//                 for url in urls:
//                     results.append(tg.create_task(fetch_url(client, url)))
//     except* httpx.HTTPStatusError as eg:
//         for exc in eg.exceptions:
//             print(f"HTTP error: {exc}")
//     except TimeoutError:
//         print("Overall timeout exceeded")
//         return []
//     return [t.result() for t in results if not t.cancelled()]
//
// Two slips in the Python: `except` and `except*` cannot share one try (SyntaxError),
// and t.result() re-raises for the task that failed. C++ catches both kinds in one try,
// and the last line skips failed tasks too. The server is a coring_http server the demo
// starts on 127.0.0.1 (httpbin's /get, /ip, /status/N and /delay/ms); the overall
// timeout is 100 ms instead of 30 s.
//
// Run: build/demos/demo_fetch_all_timeout
#include <coring/coring.hpp>
#include <coring/http.hpp>
#include <coring/net.hpp>
#include <fmt/core.h>

#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace http = coring::http;

namespace {

coring::task<http::response> httpbin(const http::request& req) {
  auto path = req.path();
  if (path.starts_with("/status/")) co_return http::response::text(std::stoi(std::string(path.substr(8))), "");
  if (path.starts_with("/delay/")) co_await coring::sleep(std::chrono::milliseconds(std::stoi(std::string(path.substr(7)))));
  co_return http::response::text(200, fmt::format(R"({{"url": "{}"}})", path));
}

struct result {
  std::string url;
  int status;
  std::size_t size;
};

coring::task<result> fetch_url(http::client& client, std::string url) {
  http::response response = co_await client.get(url);
  response.raise_for_status();
  co_return result{url, response.status, response.body.size()};
}

coring::task<std::vector<result>> fetch_all(std::vector<std::string> urls) {
  http::client client;
  std::vector<coring::task_handle<result>> results;
  try {
    co_await coring::with_timeout(100ms, coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      for (const auto& url : urls) results.push_back(tg.spawn(fetch_url(client, url), url));
      co_return;
    }));
  } catch (const coring::exception_group& eg) {
    eg.handle<http::status_error>([](const http::status_error& exc) { fmt::print("HTTP error: {}\n", exc.what()); });
  } catch (const coring::timeout_error&) {
    fmt::print("Overall timeout exceeded\n");
    co_return std::vector<result>{};
  }
  std::vector<result> done;
  for (auto& t : results)
    if (!t.cancelled() && !t.exception()) done.push_back(t.result());
  co_return done;
}

}  // namespace

coring::task<> demo_fetch_all_timeout() {
  auto listener = coring::tcp_listener::bind("127.0.0.1", 0);
  const std::string base = fmt::format("http://127.0.0.1:{}", listener.local_port());
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    auto server = tg.spawn(http::serve(listener, httpbin), "httpbin");
    const std::vector<std::vector<std::string>> runs = {
        {base + "/get", base + "/ip"},                              // all fine
        {base + "/get", base + "/status/404", base + "/delay/50"},  // one 404: the slow one is cancelled
        {base + "/get", base + "/delay/5000"},                      // one never answers in time
    };
    for (const auto& urls : runs) {
      std::vector<result> fetched = co_await fetch_all(urls);
      fmt::print("fetch_all returned {} result(s)\n", fetched.size());
      for (const result& r : fetched) fmt::print("  {} {} {} bytes\n", r.url.substr(base.size()), r.status, r.size);
    }
    server.cancel();
  });
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_fetch_all_timeout()); }
#endif
