// coring_server: the coring echo server of the echo benchmark (bench/echo/run_echo), written
// with the public API only, the way a user would: a listener, one task per connection in a
// task group, a multishot receive (multishot_reader over a provided buffer ring, like the
// floor server) + write_all, and a clean stop on SIGINT/SIGTERM (the group is
// cancelled and the listener closed, so the port is free at once).
//
// Usage: coring_server PORT [-b WAIT_BATCH] [-t WAIT_BATCH_TIMEOUT_US] [-T THREADS] [-s]
//   -b, -t: coring::runtime_options::wait_batch / wait_batch_timeout (default: the
//           runtime's defaults), to compare loop settings without rebuilding.
//   -T:     THREADS loop threads (issue 13), each with its own SO_REUSEPORT listener on
//           the port, its own buffer pool and connections (a group child per thread, made
//           with spawn_on); the kernel spreads the connections. Without -T: one thread,
//           one plain listener.
//   -s:     print coring::stats() at exit (with -T: every thread's, and the total).
// Listens on 127.0.0.1:PORT.
#include <coring/coring.hpp>
#include <coring/net.hpp>
#include <coring/signal.hpp>
#include <coring/task_group.hpp>

#include <fmt/core.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

namespace {

coring::task<> echo(coring::tcp_stream s, coring::recv_buffer_pool& pool) {
  char buf[4096];
  try {
    // One multishot receive stays armed, as in the hand-written floor server: the next
    // request can arrive in the same io_uring_enter that submits this reply.
    coring::multishot_reader in(s, pool);
    for (;;) {
      std::size_t n = co_await in.read_some(buf, sizeof buf);
      if (n == 0) break;
      co_await s.write_all(std::string_view(buf, n));
    }
  } catch (const std::system_error&) {
    // a reset peer ends its own connection, not the server
  }
  co_await s.close();
}

// Not a coroutine: g++ 12 rejects a braced list inside a coroutine body ("array used as
// initializer"), so the list is built here.
coring::task<int> stop_signal() { return coring::wait_for_signal({SIGINT, SIGTERM}); }

// One thread's share of the -T server: its own listener on the shared port, its own pool.
coring::task<> serve_shard(std::uint16_t port) {
  coring::listen_options lo;
  lo.reuse_port(true);
  auto listener = coring::tcp_listener::bind(coring::endpoint::parse("127.0.0.1", port), lo);
  coring::recv_buffer_pool pool(1024, 4096);
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (;;) {
      coring::tcp_stream s = co_await listener.accept();
      tg.spawn(echo(std::move(s), pool), "conn");
    }
  });
}

coring::task<> serve_threads(std::uint16_t port, bool print_stats) {
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(
        [&]() -> coring::task<> {
          co_await stop_signal();
          if (print_stats) {
            const auto per = co_await coring::thread_stats();
            for (const auto& s : per) fmt::print(stderr, "coring_server: thread {}: {}\n", s.thread, s);
            fmt::print(stderr, "coring_server: total: {}\n", coring::total(per));
          }
          tg.cancel();  // every shard's accept and connections, on every thread
        },
        "signals");
    for (unsigned k = 0; k < coring::thread_count(); ++k)
      tg.spawn_on(k, [port]() -> coring::task<> { co_await serve_shard(port); }, "shard");
    co_return;
  });
}

coring::task<> serve(std::uint16_t port) {
  auto listener = coring::tcp_listener::bind("127.0.0.1", port);
  coring::recv_buffer_pool pool(1024, 4096);
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn(
        [&]() -> coring::task<> {
          co_await stop_signal();
          tg.cancel();       // the accept below ends as cancelled, the group quietly
          listener.close();  // release the port now, not when the ring goes
        },
        "signals");
    for (;;) {
      coring::tcp_stream s = co_await listener.accept();
      tg.spawn(echo(std::move(s), pool), "conn");
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fmt::print(stderr, "usage: coring_server PORT [-b WAIT_BATCH] [-t TIMEOUT_US] [-s]\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  if (port <= 0 || port > 65535) {
    fmt::print(stderr, "coring_server: PORT must be 1..65535, got '{}'\n", argv[1]);
    return 2;
  }
  coring::runtime_options opts;
  opts.wait_batch = 64;  // the replies' send CQEs and the next request in one enter
  bool print_stats = false;
  bool sharded = false;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-b" && i + 1 < argc) {
      opts.wait_batch = static_cast<unsigned>(std::atoi(argv[++i]));
    } else if (a == "-t" && i + 1 < argc) {
      opts.wait_batch_timeout = std::chrono::microseconds(std::atol(argv[++i]));
    } else if (a == "-T" && i + 1 < argc) {
      opts.threads = static_cast<unsigned>(std::atoi(argv[++i]));
      sharded = true;
    } else if (a == "-s") {
      print_stats = true;
    } else {
      fmt::print(stderr, "coring_server: unknown argument '{}'\n", a);
      return 2;
    }
  }
  try {
    coring::runtime rt(opts);
    try {
      if (sharded)
        rt.run(serve_threads(static_cast<std::uint16_t>(port), print_stats));
      else
        rt.run(serve(static_cast<std::uint16_t>(port)));
    } catch (const coring::cancelled&) {
      // the signal task cancelled the group: a normal stop
    }
    if (print_stats && !sharded) fmt::print(stderr, "coring_server: {}\n", rt.stats());
  } catch (const std::exception& e) {
    fmt::print(stderr, "coring_server: {}\n", e.what());
    return 1;
  }
  return 0;
}
