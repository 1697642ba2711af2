#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <coring/cancel.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>
#include <coring/detail/testing.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <system_error>

#include "support.hpp"
#include "net_support.hpp"

using namespace std::chrono_literals;

using coring_test::connect_pair;
using coring_test::open_fds;

namespace {

// A port that nothing listens on (bound then released).
std::uint16_t closed_port() {
  auto l = coring::tcp_listener::bind("127.0.0.1", 0);
  const auto port = l.local_port();
  l.close();
  return port;
}

// The ioprio of the receive SQE that `reader`'s read_some queues on `s` (`reader` writes
// first if it wants to), read from the SQ before the loop hands it to the kernel, by a
// sibling task that runs in the same turn; then `peer` sends what the read takes.
coring::task<unsigned> queued_recv_prio(coring::tcp_stream& s, coring::tcp_stream& peer,
                                        coring::task<> (*reader)(coring::tcp_stream&)) {
  unsigned prio = ~0u;
  co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
    tg.spawn([&]() -> coring::task<> { co_await reader(s); });
    tg.spawn([&]() -> coring::task<> {
      for (const io_uring_sqe& q : coring::detail::testing::access::queued_sqes())
        if (q.opcode == IORING_OP_RECV && q.fd == s.native_handle()) prio = q.ioprio;
      co_await peer.write_all("pong");
    });
    co_return;
  });
  co_return prio;
}

coring::task<> read_four(coring::tcp_stream& s) {
  char buf[4];
  const std::size_t n = co_await s.read_some(buf);
  CHECK(n == 4);
}

coring::task<> write_then_read_four(coring::tcp_stream& s) {
  co_await s.write_all("ping");
  co_await read_four(s);
}

}  // namespace

TEST_CASE("net: endpoint parses IPv4, IPv6 and host:port and rejects host names") {
  CHECK(coring::endpoint::parse("127.0.0.1", 80).to_string() == "127.0.0.1:80");
  CHECK(coring::endpoint::parse("::1", 80).to_string() == "[::1]:80");
  CHECK(coring::endpoint::parse("[::1]:8080").port() == 8080);
  CHECK(coring::endpoint::parse("localhost:5").to_string() == "127.0.0.1:5");
  CHECK(coring::endpoint::parse(":7").to_string() == "0.0.0.0:7");
  CHECK_THROWS_AS(coring::endpoint::parse("example.com", 80), std::invalid_argument);
  CHECK_THROWS_AS(coring::endpoint::parse("127.0.0.1"), std::invalid_argument);
  CHECK_THROWS_AS(coring::endpoint::parse("127.0.0.1:99999"), std::invalid_argument);
  CHECK_THROWS_AS(coring::endpoint::parse("::1:80"), std::invalid_argument);
  CHECK_THROWS_WITH(coring::tcp_listener::bind("example.com", 80), Catch::Contains("coring::resolve"));
}

TEST_CASE("net: a client and an accepted stream exchange data both ways") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    REQUIRE(l.local_port() != 0);
    auto [c, s] = co_await connect_pair(l);
    co_await c.write_all("hello server");
    char buf[12];
    co_await s.read_exact(buf);
    CHECK(std::string(buf, 12) == "hello server");
    co_await s.write_all("hi");
    char small[16];
    const std::size_t n = co_await c.read_some(small);
    CHECK(std::string(small, n) == "hi");
    CHECK(c.peer_endpoint() == s.local_endpoint());
    CHECK(s.peer_endpoint() == c.local_endpoint());
    co_await c.close();
    co_await s.close();
    CHECK(!c.is_open());
  }());
}

TEST_CASE("net: one multishot accept SQE serves many connections, queued while nobody awaits") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    // The first accept arms the multishot accept.
    auto [c0, s0] = co_await connect_pair(l);
    std::vector<coring::tcp_stream> clients;
    for (int i = 0; i < 8; ++i) clients.push_back(co_await coring::tcp_stream::connect("127.0.0.1", l.local_port()));
    co_await coring_test::eventually([&] { return l.queued() >= 8; }, "the kernel posts the accept CQEs");
    CHECK(l.queued() == 8);
    const auto before = coring::stats().sqes;
    for (int i = 0; i < 8; ++i) {
      auto s = co_await l.accept();
      CHECK(s.is_open());
    }
    CHECK(coring::stats().sqes == before);  // no SQE per accept
  }());
}

TEST_CASE("net: listeners with reuse_port share a port and each accepts; without it a second bind is EADDRINUSE") {
  coring::run([]() -> coring::task<> {
    coring::listen_options opts;
    opts.reuse_port(true);
    auto a = coring::tcp_listener::bind(coring::endpoint::parse("127.0.0.1", 0), opts);
    auto b = coring::tcp_listener::bind(coring::endpoint::parse("127.0.0.1", a.local_port()), opts);
    CHECK(a.local_port() == b.local_port());
    try {
      (void)coring::tcp_listener::bind("127.0.0.1", a.local_port());
      FAIL("a listener without reuse_port bound a port in use");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == EADDRINUSE);
      CHECK_THAT(e.what(), Catch::Contains("bind 127.0.0.1:"));
    }
    // The kernel hashes each connection to one of the two: connect until both have had
    // one (every connection lands on exactly one listener).
    std::vector<coring::tcp_stream> clients;
    std::size_t on_a = 0, on_b = 0;
    while ((on_a == 0 || on_b == 0) && clients.size() < 200) {
      clients.push_back(co_await coring::tcp_stream::connect("127.0.0.1", a.local_port()));
      co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
        tg.spawn([&]() -> coring::task<> {
          auto s = co_await a.accept();
          ++on_a;
          tg.cancel();
        });
        tg.spawn([&]() -> coring::task<> {
          auto s = co_await b.accept();
          ++on_b;
          tg.cancel();
        });
        co_return;
      });
    }
    CHECK(on_a + on_b == clients.size());
    CHECK(on_a > 0);
    CHECK(on_b > 0);
    CHECK_THROWS_AS(coring::listen_options().backlog(-1), std::invalid_argument);
  }());
}

TEST_CASE("net: accepted and connected sockets have TCP_NODELAY on") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    for (int fd : {c.native_handle(), s.native_handle()}) {
      int v = 0;
      socklen_t len = sizeof v;
      REQUIRE(::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0);
      CHECK(v != 0);
    }
  }());
}

TEST_CASE("net: connecting to a closed port throws ECONNREFUSED naming the address") {
  const auto port = closed_port();
  coring::run([port]() -> coring::task<> {
    const auto fds = open_fds();
    try {
      co_await coring::tcp_stream::connect("127.0.0.1", port);
      FAIL("connect succeeded");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == ECONNREFUSED);
      CHECK_THAT(e.what(), Catch::Contains("connect 127.0.0.1:" + std::to_string(port)) &&
                               Catch::Contains("refused"));
    }
    CHECK(open_fds() == fds);
  }());
}

// "localhost" and numeric addresses are answered by endpoint::parse (inet_pton). A number
// that inet_pton refuses but getaddrinfo reads as an IPv4 address (inet_aton's forms) can
// only get its answer from getaddrinfo, on any machine.
TEST_CASE("net: resolve hands a name it cannot parse to getaddrinfo, on any machine") {
  CHECK_THROWS_AS(coring::endpoint::parse("16909060", 80), std::invalid_argument);
  coring::run([]() -> coring::task<> {
    auto eps = co_await coring::resolve("16909060", 80);  // 0x01020304
    REQUIRE(eps.size() == 1);
    CHECK(eps.front().to_string() == "1.2.3.4:80");
    auto dotted = co_await coring::resolve("127.1", 81);  // inet_aton: 127.0.0.1
    REQUIRE(!dotted.empty());
    CHECK(dotted.front().to_string() == "127.0.0.1:81");
  }());
}

// "localhost" is answered without getaddrinfo (endpoint::parse), so this resolves the machine's
// own host name, which only getaddrinfo knows (from /etc/hosts or DNS), and compares the
// answer with what getaddrinfo gives the test directly.
TEST_CASE("net: resolve and connect look a host name up with getaddrinfo on the blocking pool", "[.hostname]") {
  char name[256] = {};
  REQUIRE(::gethostname(name, sizeof name - 1) == 0);
  const std::string host = name;
  std::vector<std::string> ips;  // the IPv4 addresses getaddrinfo gives for `host`
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (host.empty() || host == "localhost" || ::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) {
    coring_test::skip("this machine's host name '" + host + "' has no IPv4 address in /etc/hosts or DNS");
    return;
  }
  for (addrinfo* a = res; a; a = a->ai_next)
    ips.emplace_back(::inet_ntoa(reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr));
  ::freeaddrinfo(res);
  const auto is_one_of_ips = [&](const coring::endpoint& e, std::uint16_t port) {
    return std::any_of(ips.begin(), ips.end(),
                       [&](const std::string& ip) { return e.to_string() == ip + ":" + std::to_string(port); });
  };
  coring::run([&]() -> coring::task<> {
    auto eps = co_await coring::resolve(host, 80);
    REQUIRE(!eps.empty());
    CHECK(std::any_of(eps.begin(), eps.end(), [&](const coring::endpoint& e) { return is_one_of_ips(e, 80); }));
    auto l = coring::tcp_listener::bind("", 0);  // all IPv4 interfaces: wherever the name points
    auto c = co_await coring::tcp_stream::connect(host, l.local_port());
    auto s = co_await l.accept();
    CHECK(is_one_of_ips(c.peer_endpoint(), l.local_port()));
  }());
}

TEST_CASE("net: resolving an unknown name throws a system_error naming it") {
  coring::run([]() -> coring::task<> {
    try {
      co_await coring::resolve("no-such-host.invalid", 80);
      FAIL("resolved");
    } catch (const std::system_error& e) {
      CHECK_THAT(e.what(), Catch::Contains("resolve no-such-host.invalid"));
    }
  }());
}

TEST_CASE("net: IPv6 loopback listens and connects", "[.ipv6]") {
  coring::run([]() -> coring::task<> {
    coring::tcp_listener l;
    try {
      l = coring::tcp_listener::bind("[::1]:0");
    } catch (const std::system_error& e) {
      coring_test::skip(std::string("no IPv6 loopback here: ") + e.what());
      co_return;
    }
    auto c = co_await coring::tcp_stream::connect("::1", l.local_port());
    auto s = co_await l.accept();
    co_await c.write_all("v6");
    char b[2];
    co_await s.read_exact(b);
    CHECK(std::string(b, 2) == "v6");
    CHECK(s.peer_endpoint().family() == AF_INET6);
  }());
}

TEST_CASE("net: read_exact on a peer that closes early throws 'connection closed by peer'") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    co_await c.write_all("abc");
    co_await c.close();
    char buf[8];
    try {
      co_await s.read_exact(buf);
      FAIL("read_exact returned");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == ECONNRESET);
      CHECK_THAT(e.what(), Catch::Contains("connection closed by peer after 3 of 8 bytes"));
    }
  }());
}

TEST_CASE("net: read_some returns 0 after the peer shuts down its sending side") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    co_await c.shutdown();
    char buf[8];
    const std::size_t got1 = co_await s.read_some(buf);
    CHECK(got1 == 0);
    // The other direction still works.
    co_await s.write_all("ok");
    const std::size_t got2 = co_await c.read_some(buf);
    CHECK(got2 == 2);
  }());
}

TEST_CASE("net: a read right after a write waits for data first (POLL_FIRST) unless data is left; others try at once") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    const unsigned poll_first = coring::detail::current_loop().uring().recv_poll_first();
    if (poll_first == 0) WARN("this ring has no DEFER_TASKRUN: reads never ask for POLL_FIRST");
    const unsigned first = co_await queued_recv_prio(s, c, read_four);
    CHECK(first == 0);
    const unsigned after_write = co_await queued_recv_prio(s, c, write_then_read_four);
    CHECK(after_write == poll_first);
    char ping[4];
    co_await c.read_exact(ping);
    // One write marks one read: the one after it tries the socket at once again.
    const unsigned next = co_await queued_recv_prio(s, c, read_four);
    CHECK(next == 0);
    // A read that left data in the socket (IORING_CQE_F_SOCK_NONEMPTY): the read after the
    // next write can succeed at once, so it does not wait for a poll.
    co_await c.write_all("abcdefgh");
    co_await read_four(s);
    const unsigned data_left = co_await queued_recv_prio(s, c, write_then_read_four);
    CHECK(data_left == 0);
    co_await read_four(s);  // the sibling's "pong"
    co_await c.read_exact(ping);

    // A reply already waiting is still read at once, and a zero-byte read after a write
    // returns 0 without waiting (and leaves the mark for the next real read).
    co_await c.write_all("ab");
    co_await s.write_all("x");
    char buf[8];
    const std::size_t none = co_await s.read_some(buf, 0);
    CHECK(none == 0);
    const std::size_t waiting = co_await s.read_some(buf);
    CHECK(waiting == 2);
    co_await c.read_exact(std::span(buf, 1));
    // read_exact after a write waits too, and end of stream still ends a polled read.
    co_await s.write_all("y");
    co_await c.write_all("cd");
    co_await s.read_exact(std::span(buf, 2));
    CHECK(std::string(buf, 2) == "cd");
    co_await s.write_all("z");
    co_await c.shutdown();
    const std::size_t end = co_await s.read_some(buf);
    CHECK(end == 0);
  }());
}

TEST_CASE("net: a reset peer gives ECONNRESET on read and EPIPE/ECONNRESET on write, no SIGPIPE") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    coring::tcp_stream c = co_await coring_test::reset_by_peer(l);
    char buf[8];
    int err = 0;
    try {
      co_await c.read_some(buf);
    } catch (const std::system_error& e) {
      err = e.code().value();
      CHECK_THAT(e.what(), Catch::Contains("recv"));
    }
    CHECK(err == ECONNRESET);
    err = 0;
    try {
      for (int i = 0; i < 4; ++i) co_await c.write_all("data after reset");
    } catch (const std::system_error& e) {
      err = e.code().value();
    }
    CHECK((err == EPIPE || err == ECONNRESET));
  }());
}

TEST_CASE("net: a read blocked forever is cancelled by with_timeout, its fd closed, nothing leaks") {
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    {
      auto l = coring::tcp_listener::bind("127.0.0.1", 0);
      auto body = [&]() -> coring::task<> {
        auto [c, s] = co_await connect_pair(l);
        char buf[8];
        co_await coring::with_timeout(20ms, s.read_some(buf));  // nobody writes
      };
      CHECK(open_fds() == fds + 1);
      bool timed_out = false;
      try {
        co_await body();
      } catch (const coring::timeout_error&) {
        timed_out = true;
      }
      CHECK(timed_out);
      CHECK(open_fds() == fds + 1);  // only the listener is left
    }
    CHECK(open_fds() == fds);
  }());
}

TEST_CASE("net: a task cancelled before connect or in accept leaks no descriptor") {
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    {
      coring::cancel_scope scope;
      scope.cancel();
      bool was_cancelled = false;
      try {
        co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
      } catch (const coring::cancelled&) {
        was_cancelled = true;
      }
      CHECK(was_cancelled);
    }
    auto r = co_await coring::move_on_after(5ms, l.accept());
    CHECK(!r);
    l.close();
    CHECK(open_fds() == fds);
  }());
}

TEST_CASE("net: with_timeout on a single read adds exactly one SQE and no extra enter") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    char buf[4];
    // Plain read that must wait for data written by the peer after it was submitted is
    // impossible in one task, so compare two reads that find their data waiting.
    co_await c.write_all("a");
    auto s0 = coring::stats();
    const std::size_t got3 = co_await s.read_some(buf);
    CHECK(got3 == 1);
    auto s1 = coring::stats();
    co_await c.write_all("b");
    auto s2 = coring::stats();
    const std::size_t got4 = co_await coring::with_timeout(1s, s.read_some(buf));
    CHECK(got4 == 1);
    auto s3 = coring::stats();
    CHECK((s3.sqes - s2.sqes) == (s1.sqes - s0.sqes) + 1);
    CHECK((s3.enters - s2.enters) == (s1.enters - s0.enters));
  }());
}

TEST_CASE("net: a cancel racing a completed read never loses data") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    std::string sent, received;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&]() -> coring::task<> {
        std::mt19937 rng(42);
        for (int i = 0; i < 400; ++i) {
          std::string chunk(1 + rng() % 7, static_cast<char>('a' + i % 26));
          sent += chunk;
          co_await c.write_all(chunk);
          if (rng() % 3 == 0) co_await coring::sleep(std::chrono::microseconds(rng() % 40));
          else co_await coring::checkpoint();
        }
        co_await c.shutdown();
      }, "writer");
      tg.spawn([&]() -> coring::task<> {
        std::mt19937 rng(7);
        char buf[5];
        for (int i = 0;; ++i) {
          const auto d = std::chrono::microseconds(rng() % 30);
          std::optional<std::size_t> n;
          if (i % 2) {
            n = co_await coring::move_on_after(d, s.read_some(buf));  // user-space deadline
          } else {
            try {
              n = co_await coring::with_timeout(d + 1us, s.read_some(buf));  // linked timeout
            } catch (const coring::timeout_error&) {
            }
          }
          if (!n) continue;
          if (*n == 0) break;
          received.append(buf, *n);
        }
      }, "reader");
      co_return;
    });
    CHECK(received.size() == sent.size());
    CHECK(received == sent);
  }());
}

TEST_CASE("net: a listener restarted on the same port 20 times binds every time") {
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    std::uint16_t port = 0;
    for (int i = 0; i < 20; ++i) {
      auto l = coring::tcp_listener::bind("127.0.0.1", port);
      port = l.local_port();
      // Serve one connection so the multishot accept is armed when the listener closes.
      auto c = co_await coring::tcp_stream::connect("127.0.0.1", port);
      auto s = co_await l.accept();
      co_await s.write_all("x");
      char b;
      const std::size_t got5 = co_await c.read_some(&b, 1);

      CHECK(got5 == 1);
    }
    CHECK(open_fds() == fds);
  }());
}

TEST_CASE("net: closing a listener closes queued connections and fails waiting accepts with EBADF") {
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c0, s0] = co_await connect_pair(l);  // arms the multishot accept
    auto c1 = co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
    co_await coring_test::eventually([&] { return l.queued() >= 1; }, "the kernel posts the accept CQEs");
    CHECK(l.queued() == 1);
    int accept_error = 0;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&]() -> coring::task<> {
        co_await l.accept();  // takes c1's connection
        try {
          co_await l.accept();  // waits; the close below fails it
        } catch (const std::system_error& e) {
          accept_error = e.code().value();
          CHECK_THAT(e.what(), Catch::Contains("listener closed"));
        }
      }, "acceptor");
      co_await coring_test::settle();  // the acceptor took c1's connection and waits again
      l.close();
    });
    CHECK(accept_error == EBADF);
    int again = 0;
    try {
      co_await l.accept();
    } catch (const std::system_error& e) {
      again = e.code().value();
    }
    CHECK(again == EBADF);
    co_await c0.close();
    co_await s0.close();
    co_await c1.close();
    CHECK(open_fds() == fds);
  }());
}

TEST_CASE("net: connections queued at close are closed, their clients see end of stream") {
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c0, s0] = co_await connect_pair(l);
    auto c1 = co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
    auto c2 = co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
    co_await coring_test::eventually([&] { return l.queued() >= 2; }, "the kernel posts the accept CQEs");
    CHECK(l.queued() == 2);
    l.close();
    CHECK(l.queued() == 0);
    char b[1];
    for (auto* c : {&c1, &c2}) {
      std::size_t n = 1;
      try {
        n = co_await c->read_some(b);
      } catch (const std::system_error& e) {
        n = e.code().value() == ECONNRESET ? 0 : 1;
      }
      CHECK(n == 0);
    }
    co_await c0.close();
    co_await s0.close();
    co_await c1.close();
    co_await c2.close();
    CHECK(open_fds() == fds + 0);
  }());
}

TEST_CASE("net: a cancelled accept leaves the next connection for the next accept") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto none = co_await coring::move_on_after(2ms, l.accept());
    CHECK(!none);
    auto c = co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
    auto s = co_await l.accept();
    co_await c.write_all("z");
    char b;
    const std::size_t got6 = co_await s.read_some(&b, 1);
    CHECK(got6 == 1);
  }());
}

TEST_CASE("net: an echo server in a task group serves concurrent clients") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    int served = 0;
    co_await coring::with_task_group([&](coring::task_group& outer) -> coring::task<> {
      auto server = outer.spawn([&]() -> coring::task<> {
        co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
          for (;;) {
            auto s = co_await l.accept();
            tg.spawn([](coring::tcp_stream st, int& count) -> coring::task<> {
              char buf[256];
              for (;;) {
                const std::size_t n = co_await st.read_some(buf);
                if (n == 0) break;
                co_await st.write_all(std::string_view(buf, n));
              }
              ++count;
              co_await st.close();
            }(std::move(s), served), "conn");
          }
        });
      }, "server");
      co_await coring::with_task_group([&](coring::task_group& clients) -> coring::task<> {
        for (int i = 0; i < 10; ++i) {
          clients.spawn([&l, i]() -> coring::task<> {
            auto c = co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
            const std::string msg = "message " + std::to_string(i);
            for (int k = 0; k < 5; ++k) {
              co_await c.write_all(msg);
              std::string back(msg.size(), '\0');
              co_await c.read_exact(std::span<char>(back));
              CHECK(back == msg);
            }
            co_await c.shutdown();
            char b;
            const std::size_t got7 = co_await c.read_some(&b, 1);

            CHECK(got7 == 0);
          }, "client");
        }
        co_return;
      });
      server.cancel();
    });
    CHECK(served == 10);
  }());
}

TEST_CASE("net: udp send_to and recv_from exchange datagrams with the sender's address") {
  coring::run([]() -> coring::task<> {
    auto a = coring::udp_socket::bind("127.0.0.1", 0);
    auto b = coring::udp_socket::bind("127.0.0.1", 0);
    const std::size_t got8 = co_await a.send_to("ping", b.local_endpoint());
    CHECK(got8 == 4);
    char buf[16];
    auto d = co_await b.recv_from(buf);
    CHECK(std::string(buf, d.size) == "ping");
    CHECK(d.from == a.local_endpoint());
    CHECK(!d.truncated);
    co_await b.send_to("a longer reply", d.from);
    char small[4];
    auto t = co_await a.recv_from(small);
    CHECK(t.truncated);
    CHECK(t.size == 4);
    CHECK(std::string(small, 4) == "a lo");
    co_await a.close();
  }());
}

TEST_CASE("net: a udp recv_from is cancelled by with_timeout") {
  coring::run([]() -> coring::task<> {
    auto a = coring::udp_socket::bind("127.0.0.1", 0);
    char buf[8];
    bool timed_out = false;
    try {
      co_await coring::with_timeout(5ms, a.recv_from(buf));
    } catch (const coring::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
  }());
}

TEST_CASE("net: a connect cancelled while the kernel waits for the handshake leaks no descriptor") {
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    // Nobody accepts and the backlog is tiny: once the accept queue is full, the kernel
    // drops further SYNs and those connects wait in the kernel until cancelled.
    auto l = coring::tcp_listener::bind("127.0.0.1", 0, 0);
    std::vector<coring::tcp_stream> connected;
    int timed_out = 0;
    for (int i = 0; i < 4; ++i) {
      try {
        connected.push_back(co_await coring::with_timeout(30ms, coring::tcp_stream::connect("127.0.0.1", l.local_port())));
      } catch (const coring::timeout_error&) {
        ++timed_out;
      }
    }
    CHECK(timed_out > 0);
    CHECK(open_fds() == fds + 1 + connected.size());
    connected.clear();
    l.close();
    CHECK(open_fds() == fds);
  }());
}

// ---- multishot recv with a provided buffer ring ----

TEST_CASE("net: a multishot reader receives many messages with one recv SQE") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    coring::recv_buffer_pool pool(64, 1024);
    coring::multishot_reader in(s, pool);
    char buf[64];
    co_await c.write_all("first");
    const std::size_t n0 = co_await in.read_some(buf);  // arms the multishot recv
    CHECK(std::string(buf, n0) == "first");
    const auto before = coring::stats().sqes;
    std::string got;
    for (int i = 0; i < 20; ++i) {
      const std::string msg = "msg" + std::to_string(i) + ";";
      co_await c.write_all(msg);
      while (got.size() < msg.size()) {
        const std::size_t n = co_await in.read_some(buf);
        got.append(buf, n);
      }
      CHECK(got == msg);
      got.clear();
    }
    // Only the 20 sends took SQEs: no receive was submitted again.
    CHECK(coring::stats().sqes - before == 20);
    co_await c.shutdown();
    const std::size_t eof = co_await in.read_some(buf);
    CHECK(eof == 0);
  }());
}

TEST_CASE("net: a multishot reader survives an exhausted buffer pool without losing bytes") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    coring::recv_buffer_pool pool(4, 16);  // 64 bytes in all
    coring::multishot_reader in(s, pool);
    std::string sent;
    for (int i = 0; i < 2000; ++i) sent += static_cast<char>('a' + (i * 7) % 26);
    std::string received;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&]() -> coring::task<> {
        for (std::size_t off = 0; off < sent.size(); off += 100) {
          co_await c.write_all(std::string_view(sent).substr(off, 100));
          co_await coring::checkpoint();
        }
        co_await c.shutdown();
      }, "writer");
      tg.spawn([&]() -> coring::task<> {
        char buf[10];
        for (;;) {
          const std::size_t n = co_await in.read_some(buf);
          if (n == 0) break;
          received.append(buf, n);
        }
      }, "reader");
      co_return;
    });
    CHECK(received == sent);
  }());
}

TEST_CASE("net: a cancelled multishot read keeps the data for the next read") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    coring::recv_buffer_pool pool(8, 256);
    coring::multishot_reader in(s, pool);
    char buf[32];
    auto none = co_await coring::move_on_after(3ms, in.read_some(buf));
    CHECK(!none);
    co_await c.write_all("kept");
    co_await coring_test::eventually([&] { return in.buffered() >= 4; }, "the kernel posts the 4 messages' CQEs");
    CHECK(in.buffered() == 4);
    {
      // Cancelled with data queued: the data stays.
      coring::cancel_scope scope;
      scope.cancel();
      bool was_cancelled = false;
      try {
        co_await in.read_some(buf);
      } catch (const coring::cancelled&) {
        was_cancelled = true;
      }
      CHECK(was_cancelled);
    }
    const std::size_t n = co_await in.read_some(buf);
    CHECK(std::string(buf, n) == "kept");
  }());
}

TEST_CASE("net: a multishot reader reports a reset and its destruction leaks nothing") {
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    {
      auto l = coring::tcp_listener::bind("127.0.0.1", 0);
      auto [c, s] = co_await connect_pair(l);
      coring::recv_buffer_pool pool(8, 256);
      {
        coring::multishot_reader idle(c, pool);
        char b[4];
        auto none = co_await coring::move_on_after(1ms, idle.read_some(b));  // armed, then dropped
        CHECK(!none);
      }
      coring::multishot_reader in(c, pool);
      linger lg{1, 0};
      REQUIRE(::setsockopt(s.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
      co_await s.close();
      char buf[8];
      int err = 0;
      try {
        co_await in.read_some(buf);
      } catch (const std::system_error& e) {
        err = e.code().value();
      }
      CHECK(err == ECONNRESET);
    }
    CHECK(open_fds() == fds);
  }());
}

TEST_CASE("net: a closed listener's port can be bound again while the old object still exists") {
  coring::run([]() -> coring::task<> {
    auto first = coring::tcp_listener::bind("127.0.0.1", 0);
    const auto port = first.local_port();
    auto c = co_await coring::tcp_stream::connect("127.0.0.1", port);
    auto s = co_await first.accept();  // the multishot accept is armed
    first.close();                     // shutdown + cancel, no await
    auto second = coring::tcp_listener::bind("127.0.0.1", port);
    CHECK(second.local_port() == port);
    auto c2 = co_await coring::tcp_stream::connect("127.0.0.1", port);
    auto s2 = co_await second.accept();
    CHECK(s2.is_open());
  }());
}

namespace {

// A non-blocking connect: the handshake completes in the kernel's backlog whether or not
// the server accepts.
int start_connect(const coring::endpoint& ep) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  const int r = ::connect(fd, ep.data(), ep.size());
  REQUIRE((r == 0 || errno == EINPROGRESS));
  return fd;
}

struct rlimit_guard {
  rlimit saved{};
  rlimit_guard() { ::getrlimit(RLIMIT_NOFILE, &saved); }
  ~rlimit_guard() { ::setrlimit(RLIMIT_NOFILE, &saved); }
  // Allows no new descriptor: a new one takes the lowest free number, which must be below
  // the soft limit.
  void exhaust() const {
    const int lowest_free = ::dup(0);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit r = saved;
    r.rlim_cur = static_cast<rlim_t>(lowest_free);
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
};

}  // namespace

TEST_CASE("net: connections nobody accepts stay in the kernel backlog, not in user space") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0, 128);
    l.set_max_queued(4);
    std::vector<int> clients;
    clients.push_back(start_connect(l.local_endpoint()));
    coring::tcp_stream first = co_await l.accept();  // arms the multishot accept
    // Nothing to await here but the absence of further completions: a few loop turns that
    // enter the kernel let it post every accept it is going to post.
    const auto settle = []() -> coring::task<> {
      for (int i = 0; i < 10; ++i) co_await coring::sleep(2ms);
    };
    // A first burst: the kernel hands over what is in its backlog at once, then the
    // listener disarms (more than max_queued are queued).
    for (int i = 0; i < 10; ++i) clients.push_back(start_connect(l.local_endpoint()));
    co_await settle();
    const std::size_t after_burst = l.queued();
    CHECK(after_burst <= 10);
    // Later connections stay in the kernel's backlog: no descriptor is made for them.
    const auto fds = open_fds();
    for (int i = 0; i < 40; ++i) clients.push_back(start_connect(l.local_endpoint()));
    co_await settle();
    CHECK(l.queued() == after_burst);
    CHECK(open_fds() - fds == 40);  // just the client sockets
    // Every connection is still there to be accepted.
    for (int i = 0; i < 50; ++i) {
      coring::tcp_stream s = co_await coring::with_timeout(5s, l.accept());
      CHECK(s.is_open());
    }
    CHECK(l.stats().accepted == 51);
    CHECK(l.stats().errors == 0);
    for (int fd : clients) ::close(fd);
  }());
}

TEST_CASE("net: accept at the descriptor limit throws EMFILE, counts it, and works once descriptors are free") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    std::vector<int> clients;
    for (int i = 0; i < 3; ++i) clients.push_back(start_connect(l.local_endpoint()));
    {
      rlimit_guard limit;
      limit.exhaust();
      bool emfile = false;
      try {
        coring::tcp_stream s = co_await l.accept();
      } catch (const std::system_error& e) {
        emfile = e.code().value() == EMFILE;
        CHECK(std::string(e.what()).find("accept 127.0.0.1:") != std::string::npos);
      }
      CHECK(emfile);
      CHECK(l.stats().errors >= 1);
      CHECK(l.stats().last_error == EMFILE);
    }
    // Descriptors are available again: the connections waited in the backlog.
    for (int i = 0; i < 3; ++i) {
      coring::tcp_stream s = co_await coring::with_timeout(5s, l.accept());
      CHECK(s.is_open());
    }
    for (int fd : clients) ::close(fd);
  }());
}

TEST_CASE("net: set_max_queued rejects zero") {
  auto l = coring::tcp_listener::bind("127.0.0.1", 0);
  CHECK_THROWS_AS(l.set_max_queued(0), std::invalid_argument);
  l.set_max_queued(4);
  CHECK(l.max_queued() == 4);
}
