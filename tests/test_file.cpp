#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <coring/cancel.hpp>
#include <coring/file.hpp>
#include <coring/runtime.hpp>

#include <filesystem>
#include <string>
#include <system_error>

#include "support.hpp"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using coring_test::open_fds;

namespace {

struct temp_dir {
  fs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/coring-file-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { fs::remove_all(path); }
};

}  // namespace

TEST_CASE("file: open, write_at, read_at, size, fsync and close round-trip") {
  temp_dir dir;
  const std::string p = (dir.path / "data.bin").string();
  coring::run([p]() -> coring::task<> {
    auto f = co_await coring::file::open(p, O_RDWR | O_CREAT, 0600);
    CHECK(f.is_open());
    CHECK(f.path() == p);
    const std::size_t w = co_await f.write_at(0, "hello world");
    CHECK(w == 11);
    co_await f.write_all_at(6, "there");
    co_await f.fsync();
    co_await f.fsync(true);
    const std::uint64_t sz = co_await f.size();
    CHECK(sz == 11);
    char buf[32];
    const std::size_t n = co_await f.read_at(0, buf);
    CHECK(std::string(buf, n) == "hello there");
    const std::size_t tail = co_await f.read_at(6, std::span<char>(buf, 3));
    CHECK(std::string(buf, tail) == "the");
    const std::size_t eof = co_await f.read_at(100, buf);
    CHECK(eof == 0);
    co_await f.close();
    CHECK(!f.is_open());
  }());
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("file: read_file and write_file round-trip, and read_file reads /proc files of size 0") {
  temp_dir dir;
  const std::string p = (dir.path / "text.txt").string();
  coring::run([p]() -> coring::task<> {
    std::string big(100'000, 'x');
    for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
    co_await coring::write_file(p, big);
    const std::string back = co_await coring::read_file(p);
    CHECK(back == big);
    co_await coring::write_file(p, "short");  // truncates
    const std::string again = co_await coring::read_file(p);
    CHECK(again == "short");
    const std::string status = co_await coring::read_file("/proc/self/status");
    CHECK(status.find("Pid:") != std::string::npos);
  }());
}

TEST_CASE("file: opening a missing path throws ENOENT naming the path") {
  coring::run([]() -> coring::task<> {
    const auto fds = open_fds();
    try {
      co_await coring::file::open("/nonexistent/coring/file");
      FAIL("opened");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == ENOENT);
      CHECK_THAT(e.what(), Catch::Contains("open /nonexistent/coring/file"));
    }
    try {
      co_await coring::write_file("/nonexistent/dir/x", "data");
      FAIL("wrote");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == ENOENT);
    }
    CHECK(open_fds() == fds);
  }());
}

TEST_CASE("file: reading a directory throws EISDIR naming the path") {
  temp_dir dir;
  const std::string p = dir.path.string();
  coring::run([p]() -> coring::task<> {
    auto d = co_await coring::file::open(p, O_RDONLY | O_DIRECTORY);
    char buf[8];
    try {
      co_await d.read_at(0, buf);
      FAIL("read a directory");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == EISDIR);
      CHECK_THAT(e.what(), Catch::Contains("read " + p));
    }
  }());
}

TEST_CASE("file: a read blocked forever on a FIFO is cancelled by with_timeout and nothing leaks") {
  temp_dir dir;
  const std::string p = (dir.path / "fifo").string();
  REQUIRE(::mkfifo(p.c_str(), 0600) == 0);
  coring::run([p]() -> coring::task<> {
    const auto fds = open_fds();
    {
      // O_RDWR: the open does not wait for a writer, and the read waits forever.
      auto f = co_await coring::file::open(p, O_RDWR);
      char buf[8];
      bool timed_out = false;
      try {
        co_await coring::with_timeout(10ms, f.read_at(0, buf));
      } catch (const coring::timeout_error&) {
        timed_out = true;
      }
      CHECK(timed_out);
    }
    CHECK(open_fds() == fds);
    {
      coring::cancel_scope scope;
      scope.cancel();
      bool was_cancelled = false;
      try {
        co_await coring::file::open(p, O_RDWR);
      } catch (const coring::cancelled&) {
        was_cancelled = true;
      }
      CHECK(was_cancelled);
    }
    CHECK(open_fds() == fds);
  }());
}
