// Demo — fetch many URLs concurrently over HTTP, at most 4 at a time.
//
// Mirrors the asyncio + aiohttp pattern:
//     async def fetch(session, limit, url):
//         async with limit:                         # asyncio.Semaphore(4)
//             async with session.get(url) as r:
//                 return r.status, await r.text()
//     async with asyncio.TaskGroup() as tg:
//         tasks = [tg.create_task(fetch(session, limit, u)) for u in urls]
//     for t in tasks: print(t.result())
//
// What it shows: everything runs on one machine with no outside service. The demo starts
// its own coring HTTP server on 127.0.0.1 (port 0: the kernel picks a free one) as a task
// in a task group, fetches 12 URLs from it concurrently in an inner task group — a
// coring::semaphore keeps at most 4 requests in flight, and the client's keep-alive pool
// reuses those 4 sockets — then reads every result after the group (one URL answers 404,
// handled per task with raise_for_status / status_error), and finally shuts the server
// down by cancelling its task, which closes every connection.
//
// Run: build/demos/fetch_all          (takes about 50 ms)
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

// The local server: /item/N answers after N ms; anything else is 404.
coring::task<http::response> handle(const http::request& req) {
  const std::string_view path = req.path();
  if (path.starts_with("/item/")) {
    const int n = std::stoi(std::string(path.substr(6)));
    co_await coring::sleep(std::chrono::milliseconds(n));
    co_return http::response::text(200, fmt::format("item {} is ready", n));
  }
  co_return http::response::text(404, "no such item\n");
}

struct fetched {
  int status = 0;
  std::string text;  // the body, or the error
};

}  // namespace

coring::task<> demo_fetch_all() {
  auto listener = coring::tcp_listener::bind("127.0.0.1", 0);
  const std::string base = fmt::format("http://127.0.0.1:{}", listener.local_port());
  http::server_statistics server_stats;
  http::server_options server_opts;
  server_opts.stats(&server_stats);

  std::vector<std::string> urls;
  for (int i = 1; i <= 11; ++i) urls.push_back(fmt::format("{}/item/{}", base, 2 + i % 4 * 3));
  urls.push_back(base + "/nothing-here");

  http::client session;
  coring::semaphore limit(4);
  int in_flight = 0, peak = 0;
  std::vector<coring::task_handle<fetched>> tasks;

  co_await coring::with_task_group([&](coring::task_group& outer) -> coring::task<> {
    auto server = outer.spawn(http::serve(listener, handle, server_opts), "http-server");

    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      for (const std::string& url : urls)
        tasks.push_back(tg.spawn([&]() -> coring::task<fetched> {
          auto permit = co_await limit.acquire();  // async with limit:
          peak = std::max(peak, ++in_flight);
          http::response r = co_await session.get(url);
          --in_flight;
          try {
            r.raise_for_status();
          } catch (const http::status_error& e) {
            co_return fetched{e.status(), e.what()};
          }
          co_return fetched{r.status, r.body};
        }, url));
      co_return;
    });

    server.cancel();  // shut the server down: its connections are closed
  });

  // Results are read after the group, in the order the URLs were given.
  for (auto& t : tasks) {
    const fetched& f = t.result();
    fmt::print("{:<40} {} {}\n", t.name().substr(base.size()), f.status, f.text.substr(0, f.text.find(" for ")));
  }
  const auto cs = session.statistics();
  fmt::print("at most {} requests in flight (limit 4)\n", peak);
  fmt::print("client: {} requests over {} connections ({} reused)\n", cs.requests, cs.connections_opened,
             cs.connections_reused);
  fmt::print("server: {} requests on {} connections, {} still open after shutdown\n", server_stats.requests,
             server_stats.connections, server_stats.open);
}

#ifndef CORING_DEMO_TOUR
int main() { coring::run(demo_fetch_all()); }
#endif
