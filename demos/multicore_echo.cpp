// Demo — a TCP echo service on several loop threads (issue 13).
//
// Each loop thread runs its own SO_REUSEPORT listener on the same port (the kernel spreads
// new connections over them) and serves its connections on its own ring: nothing is shared
// on the hot path. The shards are children of ONE task group that spans the threads
// (task_group::spawn_on), so the service has the shape of a single-threaded one: SIGINT on
// thread 0 cancels the group, which cancels every shard's accept and connections on every
// thread, waits for them, and only then does coring::run join the threads and return.
//
// Run: build/demos/multicore_echo [--self-test] [THREADS]
//   Serves 127.0.0.1 on a free port until SIGINT (default 2 threads). --self-test connects
//   8 clients, checks their echoes and sends itself SIGINT.
#include <coring/coring.hpp>
#include <fmt/core.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

coring::task<> echo(coring::tcp_stream s) {
  char buf[1024];
  try {
    for (;;) {
      const std::size_t n = co_await s.read_some(std::span(buf));
      if (n == 0) break;
      co_await s.write_all(std::string_view(buf, n));
    }
  } catch (const std::system_error&) {
    // a reset peer ends its own connection only
  }
}

// One thread's share: a listener of its own on the shared port, and its connections.
coring::task<> shard(coring::tcp_listener listener, std::vector<int>& served) {
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    for (;;) {
      coring::tcp_stream s = co_await listener.accept();
      ++served[coring::thread_index()];  // each thread writes its own slot
      tg.spawn(echo(std::move(s)), "connection");
    }
  });
}

coring::listen_options shared_port() {
  coring::listen_options o;
  o.reuse_port(true);
  return o;
}

coring::task<> self_test(std::uint16_t port) {
  int ok = 0;
  for (int i = 0; i < 8; ++i) {
    auto c = co_await coring::tcp_stream::connect("127.0.0.1", port);
    const std::string line = fmt::format("hello {}\n", i);
    co_await c.write_all(line);
    char buf[64];
    std::size_t got = 0;
    while (got < line.size()) got += co_await c.read_some(std::span(buf + got, sizeof buf - got));
    ok += std::string_view(buf, got) == line;
    co_await c.close();
  }
  fmt::print("client: {} of 8 connections echoed\n", ok);
  std::fflush(stdout);
  ::kill(::getpid(), SIGINT);
}

coring::task<int> stop_signal() { return coring::wait_for_signal({SIGINT, SIGTERM}); }

coring::task<> service(bool test) {
  std::vector<int> served(coring::thread_count(), 0);
  // Thread 0 picks the free port; the other threads bind the same one.
  auto first = coring::tcp_listener::bind(coring::endpoint::parse("127.0.0.1", 0), shared_port());
  const std::uint16_t port = first.local_port();
  fmt::print("listening on 127.0.0.1:{} with {} loop threads (SO_REUSEPORT)\n", port, coring::thread_count());
  std::fflush(stdout);
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> {
      co_await stop_signal();
      fmt::print("got SIGINT: shutting down every thread\n");
      tg.cancel();  // every shard, on every thread, and their connections
    }, "signals");
    tg.spawn(shard(std::move(first), served), "shard-0");
    for (unsigned k = 1; k < coring::thread_count(); ++k)
      tg.spawn_on(k, [port, &served]() -> coring::task<> {
        co_await shard(coring::tcp_listener::bind(coring::endpoint::parse("127.0.0.1", port), shared_port()), served);
      }, fmt::format("shard-{}", k));
    if (test) tg.spawn(self_test(port), "self-test");
    co_return;
  });
  int total = 0;
  for (int n : served) total += n;
  fmt::print("served {} connections on {} threads\n", total, served.size());
  fmt::print("service stopped; every shard ended\n");
}

}  // namespace

int main(int argc, char** argv) {
  bool test = false;
  coring::runtime_options opts;
  opts.threads = 2;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--self-test") == 0)
      test = true;
    else
      opts.threads = static_cast<unsigned>(std::atoi(argv[i]));
  }
  coring::block_signals({SIGINT, SIGTERM});  // before a client can send one
  coring::run(service(test), opts);
  fmt::print("all loop threads joined\n");
  return 0;
}
