// tcp_stream's write-behind (issue 12): a small write_all returns before its send
// completes. What it must never cost: byte order, errors, the bytes themselves when the
// stream goes away, cancellation, and memory or descriptors when the peer never reads.
#include <catch2/catch.hpp>

#include <sys/socket.h>

#include <coring/cancel.hpp>
#include <coring/net.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>
#include <coring/time.hpp>
#include <coring/detail/loop.hpp>

#include <string>
#include <system_error>

#include "support.hpp"
#include "net_support.hpp"

using namespace std::chrono_literals;

using coring_test::connect_pair;
using coring_test::open_fds;

namespace {

// Reads until end-of-stream and returns everything.
coring::task<std::string> read_all(coring::tcp_stream& s) {
  std::string got;
  char buf[65536];
  for (;;) {
    const std::size_t n = co_await s.read_some(buf, sizeof buf);
    if (n == 0) break;
    got.append(buf, n);
  }
  co_return got;
}

// Fills the socket's send path (the peer does not read) until a write would wait, and
// returns how many bytes went in. Small receive and send buffers keep it quick.
coring::task<std::size_t> fill(coring::tcp_stream& s) {
  const std::string chunk(4096, 'f');
  std::size_t total = 0;
  for (;;) {
    auto r = co_await coring::move_on_after(50ms, s.write_all(chunk));
    if (!r) co_return total;  // the last write waited for room: the pipe is full
    total += chunk.size();
  }
}

void shrink_buffers(coring::tcp_stream& s) {
  int size = 4096;
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

}  // namespace

TEST_CASE("write_behind: a small write_all returns before its send completes, one enter for the send and the next read") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    const std::uint64_t enters = coring::stats().enters;
    co_await c.write_all("ping");
    // Nothing entered the kernel yet: the send is queued, and the task went on.
    CHECK(coring::stats().enters == enters);
    char buf[8];
    const std::size_t n = co_await s.read_some(buf, sizeof buf);
    CHECK(std::string(buf, n) == "ping");
  }());
}

TEST_CASE("write_behind: bytes of small, large and write_some writes arrive in the order written") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    std::string expected;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&]() -> coring::task<> {
        for (int i = 0; i < 300; ++i) {
          std::string piece = std::to_string(i) + ";";
          if (i % 50 == 7) piece += std::string(40000, static_cast<char>('a' + i % 26));  // over 16 KiB: sent directly
          expected += piece;
          if (i % 3 == 1) {
            std::size_t sent = 0;
            while (sent < piece.size()) sent += co_await c.write_some(std::string_view(piece).substr(sent));
          } else {
            co_await c.write_all(piece);
          }
        }
        co_await c.shutdown();
      });
      const std::string got = co_await read_all(s);
      CHECK(got.size() == expected.size());
      CHECK(got == expected);
    });
  }());
}

TEST_CASE("write_behind: a send's error is reported by the next write, flush and shutdown") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    coring::tcp_stream c = co_await coring_test::reset_by_peer(l);
    char buf[8];
    const auto reset = co_await coring_test::caught<std::system_error>(c.read_some(buf, sizeof buf));  // the RST is in
    CHECK(reset.has_value());
    co_await c.write_all("lost");  // written behind: its send fails in the kernel
    int err = 0;
    try {
      co_await c.write_all("after");
    } catch (const std::system_error& e) {
      err = e.code().value();
      CHECK_THAT(e.what(), Catch::Contains("send"));
    }
    CHECK((err == EPIPE || err == ECONNRESET));
    // Sticky: bytes after a failed send could never arrive in order.
    const auto flush_failed = co_await coring_test::caught<std::system_error>(c.flush());
    const auto shutdown_failed = co_await coring_test::caught<std::system_error>(c.shutdown());
    CHECK(flush_failed.has_value());
    CHECK(shutdown_failed.has_value());
  }());
}

TEST_CASE("write_behind: flush returns once the bytes are with the kernel, and at once when nothing is pending") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    co_await c.flush();  // no writer yet
    co_await c.write_all("abc");
    co_await c.flush();
    // The bytes are in the peer's receive queue now: a non-blocking peek sees them.
    char buf[4];
    CHECK(::recv(s.native_handle(), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT) == 3);
  }());
}

TEST_CASE("write_behind: a stream destroyed or closed right after write_all still delivers its bytes") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    for (int how = 0; how < 3; ++how) {
      auto [c, s] = co_await connect_pair(l);
      co_await c.write_all("last words");
      if (how == 0) {
        { coring::tcp_stream gone = std::move(c); }  // destructor: close(2) right away
      } else if (how == 1) {
        co_await c.close();  // IORING_OP_CLOSE queued behind the send
      } else {
        const int fd = c.release();  // the caller closes it at once
        ::close(fd);
      }
      const std::string got = co_await read_all(s);
      CHECK(got == "last words");
    }
  }());
}

TEST_CASE("write_behind: a cancelled task's write_all sends nothing and raises cancelled") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    bool raised = false;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&]() -> coring::task<> {
        tg.cancel();  // cancels this task too: its next cancellation point raises
        try {
          co_await c.write_all("never");
        } catch (const coring::cancelled&) {
          raised = true;
          throw;
        }
      });
      co_return;
    });
    CHECK(raised);
    co_await c.shutdown();
    const std::string got = co_await read_all(s);
    CHECK(got.empty());
  }());
}

TEST_CASE("write_behind: a write waits for the previous send when the peer reads nothing, and a timeout ends the wait") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto [c, s] = co_await connect_pair(l);
    shrink_buffers(c);
    shrink_buffers(s);
    const std::size_t in = co_await fill(c);
    CHECK(in > 0);
    // The peer now reads: every byte that a returned write_all accepted arrives, then EOF
    // (the shutdown waits for the send still waiting for room, so it comes last).
    std::string got;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&]() -> coring::task<> { got = co_await read_all(s); });
      co_await c.shutdown();
    });
    CHECK(got.size() == in);
    CHECK(got.find_first_not_of('f') == std::string::npos);
  }());
}

TEST_CASE("write_behind: a stream dropped while its send waits for a peer that never reads lingers, then lets go") {
  // Under virtual time the linger deadline is reached at once: the orphaned send is
  // cancelled, its buffer freed (ASan would see a leak) and the socket closed.
  coring::runtime_options opts;
  opts.virtual_time = true;
  const std::size_t fds = open_fds();
  coring::run(
      []() -> coring::task<> {
        auto l = coring::tcp_listener::bind("127.0.0.1", 0);
        auto [c, s] = co_await connect_pair(l);
        shrink_buffers(c);
        shrink_buffers(s);
        const std::size_t in = co_await fill(c);
        { coring::tcp_stream gone = std::move(c); }  // its last send is still waiting for room
        const auto t0 = coring::clock::now();
        co_await coring::sleep(61s);  // past the 60 s linger
        CHECK(coring::clock::now() - t0 >= 61s);
        // The socket is gone: the peer reads what got in before, then end-of-stream. The
        // bytes of the cancelled send never arrive (without the linger, reading would make
        // room for them and they would).
        const std::string got = co_await read_all(s);
        CHECK(got.size() < in);
      }(),
      opts);
  CHECK(open_fds() == fds);
}

TEST_CASE("write_behind: a runtime that ends with a send still waiting cancels it and frees the buffer") {
  const std::size_t fds = open_fds();
  {
    coring::tcp_stream kept;  // outlives the runtime
    coring::tcp_stream peer;
    coring::run([&]() -> coring::task<> {
      auto l = coring::tcp_listener::bind("127.0.0.1", 0);
      auto [c, s] = co_await connect_pair(l);
      shrink_buffers(c);
      shrink_buffers(s);
      (void)co_await fill(c);
      kept = std::move(c);
      peer = std::move(s);
    }());
    // The runtime is gone; the stream's writer was settled by its loop and is freed here.
  }
  CHECK(open_fds() == fds);
}
