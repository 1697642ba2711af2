#include <catch2/catch.hpp>

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <coring/cancel.hpp>
#include <coring/file.hpp>
#include <coring/fs.hpp>
#include <coring/runtime.hpp>
#include <coring/task_group.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>


using namespace std::chrono_literals;
namespace stdfs = std::filesystem;
using std::filesystem::file_type;

namespace {

struct temp_dir {
  stdfs::path path;
  temp_dir() {
    char tmpl[] = "/tmp/coring-fs-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~temp_dir() { stdfs::remove_all(path); }
};

// Awaits `op` and returns the system_error it threw (code 0 and empty text if none).
template <class Op>
coring::task<std::system_error> error_of(Op op) {
  try {
    co_await std::move(op);
  } catch (const std::system_error& e) {
    co_return e;
  }
  co_return std::system_error(std::error_code(), "");
}

// Checks that `e` is errno `err` with a message starting with `what`.
void check_error(const std::system_error& e, std::errc err, const std::string& what) {
  CHECK(e.code() == err);
  CHECK(e.code().category() == std::system_category());
  CHECK_THAT(e.what(), Catch::StartsWith(what + ": "));
}

// Open descriptors other than io_uring instances: each blocking-pool worker creates its
// small ring on its first job, which is not a leak of the call under test.
std::size_t fds_but_rings() {
  std::size_t n = 0;
  for (const auto& e : stdfs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (stdfs::read_symlink(e.path(), ec).string() != "anon_inode:[io_uring]") ++n;
  }
  return n;
}

}  // namespace

TEST_CASE("fs: stat reports the type, size, mode, links and mtime of a file and a directory") {
  temp_dir dir;
  const stdfs::path p = dir.path / "data.txt";
  coring::run([&]() -> coring::task<> {
    const auto before = std::chrono::system_clock::now() - 5s;  // filesystem clocks are coarse
    co_await coring::write_file(p, "hello\n");
    ::chmod(p.c_str(), 0640);
    const coring::fs::stat_result st = co_await coring::fs::stat(p);
    CHECK(st.is_regular_file());
    CHECK(!st.is_directory());
    CHECK(st.size == 6);
    CHECK(st.mode == 0640);
    CHECK(st.nlink == 1);
    CHECK(st.uid == ::getuid());
    struct ::stat ref {};
    REQUIRE(::stat(p.c_str(), &ref) == 0);
    CHECK(st.inode == ref.st_ino);
    CHECK(st.mtime >= before);
    CHECK(st.mtime <= std::chrono::system_clock::now() + 5s);
    const auto d = co_await coring::fs::stat(dir.path);
    CHECK(d.is_directory());
    CHECK(d.type == file_type::directory);
    const auto null = co_await coring::fs::stat("/dev/null");
    CHECK(null.type == file_type::character);
  }());
}

TEST_CASE("fs: stat follows a symlink and lstat describes the link itself") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    co_await coring::write_file(dir.path / "target", "12345");
    co_await coring::fs::symlink("target", dir.path / "link");
    const auto followed = co_await coring::fs::stat(dir.path / "link");
    CHECK(followed.is_regular_file());
    CHECK(followed.size == 5);
    const auto itself = co_await coring::fs::lstat(dir.path / "link");
    CHECK(itself.is_symlink());
    CHECK(itself.size == 6);  // the length of "target"
    CHECK(stdfs::read_symlink(dir.path / "link") == "target");
    // A dangling link: lstat works, stat says ENOENT.
    co_await coring::fs::symlink("nowhere", dir.path / "dangling");
    const auto dangling = co_await coring::fs::lstat(dir.path / "dangling");
    CHECK(dangling.is_symlink());
    const auto e = co_await error_of(coring::fs::stat(dir.path / "dangling"));
    check_error(e, std::errc::no_such_file_or_directory, "stat " + (dir.path / "dangling").string());
  }());
}

TEST_CASE("fs: stat of a missing path is ENOENT and through a file is ENOTDIR, naming the path") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    const auto missing = dir.path / "missing";
    auto e = co_await error_of(coring::fs::stat(missing));
    check_error(e, std::errc::no_such_file_or_directory, "stat " + missing.string());
    CHECK_THAT(e.what(), Catch::EndsWith("No such file or directory"));
    co_await coring::write_file(dir.path / "f", "");
    e = co_await error_of(coring::fs::stat(dir.path / "f" / "x"));
    check_error(e, std::errc::not_a_directory, "stat " + (dir.path / "f" / "x").string());
  }());
}

TEST_CASE("fs: mkdir creates a directory with its mode; EEXIST, ENOENT and ENOTDIR name the path") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    const auto a = dir.path / "a";
    const mode_t old_mask = ::umask(022);
    co_await coring::fs::mkdir(a);
    co_await coring::fs::mkdir(a / "private", 0700);
    ::umask(old_mask);
    CHECK(stdfs::is_directory(a));
    const auto st = co_await coring::fs::stat(a);
    CHECK(st.mode == 0755);
    const auto priv = co_await coring::fs::stat(a / "private");
    CHECK(priv.mode == 0700);
    auto e = co_await error_of(coring::fs::mkdir(a));
    check_error(e, std::errc::file_exists, "mkdir " + a.string());
    CHECK(std::string(e.what()) == "mkdir " + a.string() + ": File exists");
    e = co_await error_of(coring::fs::mkdir(dir.path / "no" / "parent"));
    check_error(e, std::errc::no_such_file_or_directory, "mkdir " + (dir.path / "no" / "parent").string());
    co_await coring::write_file(dir.path / "file", "");
    e = co_await error_of(coring::fs::mkdir(dir.path / "file" / "sub"));
    check_error(e, std::errc::not_a_directory, "mkdir " + (dir.path / "file" / "sub").string());
  }());
}

TEST_CASE("fs: rename moves files and directories, replaces a file, and RENAME_NOREPLACE refuses") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    const auto a = dir.path / "a", b = dir.path / "b", c = dir.path / "c";
    co_await coring::write_file(a, "A");
    co_await coring::fs::rename(a, b);
    CHECK(!stdfs::exists(a));
    const std::string moved = co_await coring::read_file(b);
    CHECK(moved == "A");
    co_await coring::write_file(c, "C");
    co_await coring::fs::rename(c, b);  // replaces b atomically
    const std::string replaced = co_await coring::read_file(b);
    CHECK(replaced == "C");
    co_await coring::write_file(c, "C2");
    auto e = co_await error_of(coring::fs::rename(c, b, RENAME_NOREPLACE));
    check_error(e, std::errc::file_exists, "rename " + c.string() + " to " + b.string());
    co_await coring::fs::mkdir(dir.path / "d1");
    co_await coring::fs::rename(dir.path / "d1", dir.path / "d2");
    CHECK(stdfs::is_directory(dir.path / "d2"));
    e = co_await error_of(coring::fs::rename(a, c));
    check_error(e, std::errc::no_such_file_or_directory, "rename " + a.string() + " to " + c.string());
    co_await coring::write_file(dir.path / "d2" / "x", "");
    co_await coring::fs::mkdir(dir.path / "d3");
    e = co_await error_of(coring::fs::rename(dir.path / "d3", dir.path / "d2"));
    CHECK(e.code() == std::errc::directory_not_empty);
  }());
}

TEST_CASE("fs: remove deletes files, symlinks and empty directories; ENOENT, ENOTEMPTY, ENOTDIR") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    const auto f = dir.path / "f", d = dir.path / "d", l = dir.path / "l";
    co_await coring::write_file(f, "x");
    co_await coring::fs::mkdir(d);
    co_await coring::fs::symlink(d, l);
    co_await coring::fs::remove(l);  // the link, not the directory it points to
    CHECK(!stdfs::exists(stdfs::symlink_status(l)));
    CHECK(stdfs::is_directory(d));
    co_await coring::fs::remove(f);
    CHECK(!stdfs::exists(f));
    co_await coring::write_file(d / "inside", "");
    auto e = co_await error_of(coring::fs::remove(d));
    check_error(e, std::errc::directory_not_empty, "remove " + d.string());
    co_await coring::fs::remove(d / "inside");
    co_await coring::fs::remove(d);
    CHECK(!stdfs::exists(d));
    e = co_await error_of(coring::fs::remove(d));
    check_error(e, std::errc::no_such_file_or_directory, "remove " + d.string());
    co_await coring::write_file(f, "");
    e = co_await error_of(coring::fs::remove(f / "x"));
    check_error(e, std::errc::not_a_directory, "remove " + (f / "x").string());
  }());
}

TEST_CASE("fs: link makes a second name for a file; EEXIST, ENOENT and a directory target fail") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    const auto f = dir.path / "f", h = dir.path / "h";
    co_await coring::write_file(f, "shared");
    co_await coring::fs::link(f, h);
    const auto st = co_await coring::fs::stat(h);
    CHECK(st.nlink == 2);
    const auto orig = co_await coring::fs::stat(f);
    CHECK(orig.inode == st.inode);
    auto e = co_await error_of(coring::fs::link(f, h));
    check_error(e, std::errc::file_exists, "link " + h.string() + " -> " + f.string());
    e = co_await error_of(coring::fs::link(dir.path / "missing", dir.path / "h2"));
    check_error(e, std::errc::no_such_file_or_directory,
                "link " + (dir.path / "h2").string() + " -> " + (dir.path / "missing").string());
    e = co_await error_of(coring::fs::link(dir.path, dir.path / "h3"));
    CHECK(e.code() == std::errc::operation_not_permitted);
  }());
}

TEST_CASE("fs: symlink stores its target as given; EEXIST and a missing directory fail") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    const auto l = dir.path / "l";
    co_await coring::fs::symlink("../some/where", l);
    CHECK(stdfs::read_symlink(l) == "../some/where");
    auto e = co_await error_of(coring::fs::symlink("x", l));
    CHECK(std::string(e.what()) == "symlink " + l.string() + " -> x: File exists");
    CHECK(e.code() == std::errc::file_exists);
    e = co_await error_of(coring::fs::symlink("x", dir.path / "no" / "l"));
    check_error(e, std::errc::no_such_file_or_directory, "symlink " + (dir.path / "no" / "l").string() + " -> x");
  }());
}

TEST_CASE("fs: list_dir returns the entries sorted by name with their types, without . and ..") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    const auto fds = fds_but_rings();
    co_await coring::write_file(dir.path / "b.txt", "b");
    co_await coring::fs::mkdir(dir.path / "a-dir");
    co_await coring::fs::symlink("b.txt", dir.path / "c-link");
    REQUIRE(::mkfifo((dir.path / "d-fifo").c_str(), 0600) == 0);
    const std::vector<coring::fs::dir_entry> entries = co_await coring::fs::list_dir(dir.path);
    REQUIRE(entries.size() == 4);
    CHECK(entries[0].name == "a-dir");
    CHECK(entries[0].is_directory());
    CHECK(entries[1].name == "b.txt");
    CHECK(entries[1].type == file_type::regular);
    CHECK(entries[2].name == "c-link");
    CHECK(entries[2].type == file_type::symlink);
    CHECK(entries[3].name == "d-fifo");
    CHECK(entries[3].type == file_type::fifo);
    const auto empty = co_await coring::fs::list_dir(dir.path / "a-dir");
    CHECK(empty.empty());
    CHECK(fds_but_rings() == fds);  // the directory was closed
  }());
}

TEST_CASE("fs: list_dir of a missing path is ENOENT and of a file ENOTDIR, leaking no descriptor") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    const auto fds = fds_but_rings();
    auto e = co_await error_of(coring::fs::list_dir(dir.path / "missing"));
    check_error(e, std::errc::no_such_file_or_directory, "list_dir " + (dir.path / "missing").string());
    co_await coring::write_file(dir.path / "f", "");
    e = co_await error_of(coring::fs::list_dir(dir.path / "f"));
    check_error(e, std::errc::not_a_directory, "list_dir " + (dir.path / "f").string());
    CHECK(fds_but_rings() == fds);
  }());
}

TEST_CASE("fs: in a cancelled scope stat, mkdir, remove and list_dir submit nothing and change nothing") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    co_await coring::write_file(dir.path / "keep", "");
    const auto sqes = coring::stats().sqes;
    int cancelled = 0;
    {
      coring::cancel_scope scope;
      scope.cancel();
      for (int i = 0; i < 6; ++i) {
        try {
          switch (i) {
            case 0: (void)co_await coring::fs::stat(dir.path); break;
            case 1: co_await coring::fs::mkdir(dir.path / "new"); break;
            case 2: co_await coring::fs::remove(dir.path / "keep"); break;
            case 3: co_await coring::fs::rename(dir.path / "keep", dir.path / "moved"); break;
            case 4: co_await coring::fs::symlink("x", dir.path / "l"); break;
            default: (void)co_await coring::fs::list_dir(dir.path); break;
          }
        } catch (const coring::cancelled&) {
          ++cancelled;
        }
      }
    }
    co_await coring::sleep(1ms);  // one io_uring_enter, which would submit anything queued
    CHECK(cancelled == 6);
    CHECK(coring::stats().sqes == sqes);
    CHECK(!stdfs::exists(dir.path / "new"));
    CHECK(stdfs::exists(dir.path / "keep"));
    CHECK(!stdfs::exists(stdfs::symlink_status(dir.path / "l")));
  }());
}

TEST_CASE("fs: the single operations take with_timeout's linked timeout") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    const auto sqes = coring::stats().sqes;
    co_await coring::with_timeout(1s, coring::fs::mkdir(dir.path / "m"));
    const auto st = co_await coring::with_timeout(1s, coring::fs::stat(dir.path / "m"));
    CHECK(st.is_directory());
    CHECK(coring::stats().sqes - sqes == 4);  // each op and its IORING_OP_LINK_TIMEOUT
    co_await coring::with_timeout(1s, coring::fs::remove(dir.path / "m"));  // a task: a cancel scope
    CHECK(!stdfs::exists(dir.path / "m"));
  }());
}

TEST_CASE("fs: stat and mkdir accept temporary paths (the op keeps its own copy)") {
  temp_dir dir;
  coring::run([&]() -> coring::task<> {
    co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
      for (int i = 0; i < 50; ++i)
        tg.spawn([&dir, i]() -> coring::task<> {
          co_await coring::fs::mkdir(dir.path / ("d" + std::to_string(i)));
          const auto st = co_await coring::fs::stat((dir.path / ("d" + std::to_string(i))).string());
          CHECK(st.is_directory());
        });
      co_return;
    });
    const auto entries = co_await coring::fs::list_dir(dir.path);
    CHECK(entries.size() == 50);
  }());
}
