#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <coring/buffered_reader.hpp>
#include <coring/cancel.hpp>
#include <coring/event.hpp>
#include <coring/fd.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

#include <array>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "support.hpp"
#include "net_support.hpp"

using namespace std::chrono_literals;
using coring_test::connect_pair;
using coring_test::open_fds;

namespace {

// A pipe whose ends close with the object (the reader never owns a raw descriptor).
struct pipe_fds {
  int fds[2] = {-1, -1};
  pipe_fds() { REQUIRE(::pipe2(fds, O_CLOEXEC) == 0); }
  ~pipe_fds() {
    close_write();
    if (fds[0] >= 0) ::close(fds[0]);
  }
  void close_write() {
    if (fds[1] >= 0) ::close(std::exchange(fds[1], -1));
  }
  int r() const { return fds[0]; }
  int w() const { return fds[1]; }
};

// Writes each piece as its own write, yielding in between so the reader sees them apart.
coring::task<> feed(int fd, std::vector<std::string> pieces) {
  for (const std::string& p : pieces) {
    co_await coring::write_some(fd, p);
    co_await coring::checkpoint();
  }
}

}  // namespace

TEST_CASE("buffered_reader: read_line over a tcp_stream joins lines that arrive in pieces") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto p = co_await connect_pair(l);
    coring::buffered_reader r(p.server);
    std::vector<std::string> lines;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&]() -> coring::task<> {
        for (const char* piece : {"hel", "lo\nwor", "ld\n", "\nlast"}) {
          co_await p.client.write_all(piece);
          co_await coring::sleep(1ms);  // separate segments; the order, not the time, is checked
        }
        co_await p.client.shutdown();
      });
      for (;;) {
        std::string line = co_await r.read_line();
        if (line.empty()) break;
        lines.push_back(line);
      }
    });
    CHECK(lines == std::vector<std::string>{"hello\n", "world\n", "\n", "last"});
    CHECK(r.at_eof());
    const std::string again = co_await r.read_line();
    CHECK(again.empty());
    CHECK(&r.source<coring::tcp_stream>() == &p.server);
    CHECK(r.native_handle() == p.server.native_handle());
    CHECK_THROWS_AS(r.source<coring::file>(), std::logic_error);
  }());
}

TEST_CASE("buffered_reader: read_until finds a multi-byte delimiter split across reads") {
  coring::run([]() -> coring::task<> {
    pipe_fds pp;
    coring::buffered_reader r(pp.r());
    std::string head, body;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&] { return feed(pp.w(), {"Host: x\r", "\n\r", "\nbo", "dy"}); });
      head = co_await r.read_until("\r\n\r\n", 100);
      body = co_await r.read_exact(4);
    });
    CHECK(head == "Host: x\r\n\r\n");
    CHECK(body == "body");
    CHECK(r.buffered() == 0);
    CHECK(r.native_handle() == pp.r());
  }());
}

TEST_CASE("buffered_reader: read_until with a char delimiter and the bytes read ahead stay for the next call") {
  coring::run([]() -> coring::task<> {
    pipe_fds pp;
    co_await coring::write_some(pp.w(), "a;bb;ccc;");
    coring::buffered_reader r(pp.r());
    const std::string a = co_await r.read_until(';');
    CHECK(a == "a;");
    CHECK(r.buffered() == 7);  // one read brought everything
    CHECK(r.peek() == "bb;ccc;");
    const std::string b = co_await r.read_until(';', 3);  // exactly max bytes, delimiter last
    CHECK(b == "bb;");
    r.consume(2);
    const std::string c = co_await r.read_until(std::string(";"));  // a temporary delimiter
    CHECK(c == "c;");
    CHECK_THROWS_AS(r.consume(1), std::out_of_range);
  }());
}

TEST_CASE("buffered_reader: read_until beyond max throws limit_overrun and leaves every byte buffered") {
  coring::run([]() -> coring::task<> {
    pipe_fds pp;
    co_await coring::write_some(pp.w(), "0123456789abcdef\n");
    coring::buffered_reader r(pp.r());
    std::size_t reported = 0;
    std::string msg;
    try {
      (void)co_await r.read_line(10);
    } catch (const coring::limit_overrun& e) {
      reported = e.buffered();
      msg = e.what();
    }
    CHECK(reported == 17);
    CHECK_THAT(msg, Catch::Contains("read_line: no \"\\n\" within the first 10 bytes"));
    CHECK(r.buffered() == 17);
    // A larger limit then finds the line: nothing was lost.
    const std::string line = co_await r.read_line(100);
    CHECK(line == "0123456789abcdef\n");
    // The limit also applies while waiting: 8 bytes arrive, max is 5.
    co_await coring::write_some(pp.w(), "xxxxxxxx");
    bool overrun = false;
    try {
      (void)co_await r.read_until("\r\n", 5);
    } catch (const std::length_error&) {
      overrun = true;
    }
    CHECK(overrun);
    CHECK(r.peek() == "xxxxxxxx");
  }());
}

TEST_CASE("buffered_reader: the buffer grows to what max allows, with no other cap") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto p = co_await connect_pair(l);
    std::string big(3 * 1024 * 1024, 'z');
    big.back() = '\n';
    coring::buffered_reader r(p.server);
    std::string line;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&] { return p.client.write_all(big); });
      line = co_await r.read_line(big.size());
    });
    CHECK(line.size() == big.size());
    CHECK(line == big);
    // A frame larger than the initial buffer, in one read_exact.
    std::string frame(coring::buffered_reader::initial_capacity * 5 + 3, 'f');
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&] { return p.client.write_all(frame); });
      const std::string got = co_await r.read_exact(frame.size());
      CHECK(got == frame);
    });
  }());
}

TEST_CASE("buffered_reader: at end of stream read_until and read_exact throw incomplete_read, the bytes stay") {
  coring::run([]() -> coring::task<> {
    pipe_fds pp;
    co_await coring::write_some(pp.w(), "abc");
    pp.close_write();
    coring::buffered_reader r(pp.r());
    std::string msg;
    std::size_t received = 99, expected = 99;
    try {
      (void)co_await r.read_exact(8);
    } catch (const coring::incomplete_read& e) {
      msg = e.what();
      received = e.received();
      expected = e.expected();
    }
    CHECK(msg == "read_exact: end of stream after 3 of 8 bytes (they stay buffered)");
    CHECK(received == 3);
    CHECK(expected == 8);
    bool incomplete = false;
    try {
      (void)co_await r.read_until("\r\n");
    } catch (const coring::incomplete_read& e) {
      incomplete = true;
      CHECK_THAT(e.what(), Catch::Contains("after 3 bytes without \"\\r\\n\""));
      CHECK(e.expected() == 0);
    }
    CHECK(incomplete);
    CHECK(!r.at_eof());
    std::array<char, 16> buf{};
    const std::size_t n = co_await r.read_some(buf);
    CHECK(std::string(buf.data(), n) == "abc");
    CHECK(r.at_eof());
    const std::size_t eof = co_await r.read_some(buf);
    CHECK(eof == 0);
    const std::string none = co_await r.read_exact(0);
    CHECK(none.empty());
  }());
}

TEST_CASE("buffered_reader: read_some returns buffered bytes first, then reads the source") {
  coring::run([]() -> coring::task<> {
    pipe_fds pp;
    co_await coring::write_some(pp.w(), "line\nrest");
    coring::buffered_reader r(pp.r());
    const std::string line = co_await r.read_line();
    CHECK(line == "line\n");
    std::array<char, 2> small{};
    std::size_t n = co_await r.read_some(small);
    CHECK(std::string(small.data(), n) == "re");
    n = co_await r.read_some(small);
    CHECK(std::string(small.data(), n) == "st");
    // Nothing buffered and a large buffer: one read straight from the pipe.
    co_await coring::write_some(pp.w(), "direct");
    std::vector<char> large(coring::buffered_reader::initial_capacity);
    n = co_await r.read_some(large);
    CHECK(std::string(large.data(), n) == "direct");
    CHECK(r.buffered() == 0);
    const std::size_t zero = co_await r.read_some(std::span<char>());
    CHECK(zero == 0);
  }());
}

TEST_CASE("buffered_reader: over a file it reads lines sequentially from the given offset") {
  const auto dir = std::filesystem::temp_directory_path() / ("coring-br-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "lines.txt").string();
  coring::run([path]() -> coring::task<> {
    std::string text = "skip\n";
    for (int i = 0; i < 3000; ++i) text += "line " + std::to_string(i) + "\n";
    co_await coring::write_file(path, text);
    auto f = co_await coring::file::open(path);
    coring::buffered_reader r(f, 5);
    int count = 0;
    std::string first, last;
    for (;;) {
      std::string line = co_await r.read_line();
      if (line.empty()) break;
      if (count++ == 0) first = line;
      last = line;
    }
    CHECK(count == 3000);
    CHECK(first == "line 0\n");
    CHECK(last == "line 2999\n");
    CHECK(&r.source<coring::file>() == &f);
    CHECK_THROWS_AS(r.source<coring::tcp_stream>(), std::logic_error);
    co_await f.close();
  }());
  std::filesystem::remove_all(dir);
}

TEST_CASE("buffered_reader: a read_line cancelled by a timeout keeps the partial line for the next read") {
  coring::run([]() -> coring::task<> {
    auto l = coring::tcp_listener::bind("127.0.0.1", 0);
    auto p = co_await connect_pair(l);
    coring::buffered_reader r(p.server);
    // The first half is in the socket before the read starts; the newline comes later.
    co_await p.client.write_all("partial");
    const std::optional<std::string> none = co_await coring::move_on_after(20ms, r.read_line());
    CHECK(!none);
    CHECK(r.buffered() == 7);
    co_await p.client.write_all(" li");
    bool timed_out = false;
    try {
      (void)co_await coring::with_timeout(20ms, r.read_line());
    } catch (const coring::timeout_error&) {
      timed_out = true;
    }
    CHECK(timed_out);
    CHECK(r.peek() == "partial li");
    co_await p.client.write_all("ne\nnext");
    const std::string line = co_await r.read_line();
    CHECK(line == "partial line\n");
    CHECK(r.peek() == "next");
  }());
}

TEST_CASE("buffered_reader: a read_exact cancelled by its task group loses no byte") {
  coring::run([]() -> coring::task<> {
    pipe_fds pp;
    coring::buffered_reader r(pp.r());
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      auto h = tg.spawn([&]() -> coring::task<> { (void)co_await r.read_exact(10); });
      co_await coring::write_some(pp.w(), "1234");
      // Wherever the reader is now (the 4 bytes in its buffer or still in the pipe),
      // cancelling it must not drop them.
      co_await coring::checkpoint();
      h.cancel();
    });
    co_await coring::write_some(pp.w(), "567890");
    const std::string all = co_await r.read_exact(10);
    CHECK(all == "1234567890");
  }());
}

TEST_CASE("buffered_reader: a read in a cancelled scope throws cancelled and consumes nothing, even when buffered") {
  coring::run([]() -> coring::task<> {
    pipe_fds pp;
    co_await coring::write_some(pp.w(), "one\ntwo\n");
    coring::buffered_reader r(pp.r());
    const std::string one = co_await r.read_line();
    CHECK(one == "one\n");
    {
      coring::cancel_scope scope;
      scope.cancel();
      int cancelled = 0;
      for (int i = 0; i < 4; ++i) {
        try {
          switch (i) {
            case 0: (void)co_await r.read_line(); break;
            case 1: (void)co_await r.read_until("o"); break;
            case 2: (void)co_await r.read_exact(1); break;
            default: {
              char c;
              (void)co_await r.read_some(std::span<char>(&c, 1));
            }
          }
        } catch (const coring::cancelled&) {
          ++cancelled;
        }
      }
      CHECK(cancelled == 4);
    }
    CHECK(r.peek() == "two\n");
  }());
}

TEST_CASE("buffered_reader: a second read while one is in progress is a logic_error") {
  coring::run([]() -> coring::task<> {
    pipe_fds pp;
    coring::buffered_reader r(pp.r());
    std::string first;
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      tg.spawn([&]() -> coring::task<> { first = co_await r.read_line(); });
      co_await coring::checkpoint();  // the first read is now waiting on the pipe
      bool refused = false;
      try {
        (void)co_await r.read_line();
      } catch (const std::logic_error& e) {
        refused = true;
        CHECK_THAT(e.what(), Catch::Contains("another read is in progress"));
      }
      CHECK(refused);
      co_await coring::write_some(pp.w(), "x\n");
    });
    CHECK(first == "x\n");
  }());
}

TEST_CASE("buffered_reader: bad arguments throw invalid_argument before reading") {
  coring::run([]() -> coring::task<> {
    pipe_fds pp;
    co_await coring::write_some(pp.w(), "data\n");
    coring::buffered_reader r(pp.r());
    bool empty = false, small = false;
    try {
      (void)co_await r.read_until("");
    } catch (const std::invalid_argument& e) {
      empty = std::string(e.what()).find("delimiter is empty") != std::string::npos;
    }
    try {
      (void)co_await r.read_until("\r\n", 1);
    } catch (const std::invalid_argument& e) {
      small = std::string(e.what()).find("max (1) is smaller than the delimiter \"\\r\\n\"") != std::string::npos;
    }
    CHECK(empty);
    CHECK(small);
    CHECK(r.buffered() == 0);
    const std::string line = co_await r.read_line();
    CHECK(line == "data\n");
  }());
}

TEST_CASE("buffered_reader: the source's errors pass through and a moved reader keeps its bytes") {
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    {
      auto l = coring::tcp_listener::bind("127.0.0.1", 0);
      auto p = co_await connect_pair(l);
      co_await p.client.write_all("kept\nmore");
      coring::buffered_reader a(p.server);
      const std::string kept = co_await a.read_line();
      CHECK(kept == "kept\n");
      coring::buffered_reader b(std::move(a));
      CHECK(b.peek() == "more");
      CHECK(a.buffered() == 0);
      co_await p.server.close();
      const std::string more = co_await b.read_exact(4);  // buffered: no read of the source
      CHECK(more == "more");
      bool failed = false;
      try {
        (void)co_await b.read_line();
      } catch (const std::system_error& e) {
        failed = e.code() == std::errc::bad_file_descriptor;
        CHECK_THAT(e.what(), Catch::Contains("recv"));
      }
      CHECK(failed);
    }
    CHECK(open_fds() == fds);
  }());
}
