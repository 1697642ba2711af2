#include "coring/fs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "coring/blocking.hpp"
#include "coring/errors.hpp"

namespace coring::fs {

namespace {

using std::filesystem::file_type;

file_type type_of_mode(unsigned mode) noexcept {
  switch (mode & S_IFMT) {
    case S_IFREG: return file_type::regular;
    case S_IFDIR: return file_type::directory;
    case S_IFLNK: return file_type::symlink;
    case S_IFBLK: return file_type::block;
    case S_IFCHR: return file_type::character;
    case S_IFIFO: return file_type::fifo;
    case S_IFSOCK: return file_type::socket;
    default: return file_type::unknown;
  }
}

// readdir's d_type; DT_UNKNOWN (some filesystems never fill it in) asks fstatat.
file_type type_of_entry(int dir_fd, const dirent& e) noexcept {
  switch (e.d_type) {
    case DT_REG: return file_type::regular;
    case DT_DIR: return file_type::directory;
    case DT_LNK: return file_type::symlink;
    case DT_BLK: return file_type::block;
    case DT_CHR: return file_type::character;
    case DT_FIFO: return file_type::fifo;
    case DT_SOCK: return file_type::socket;
    default: break;
  }
  struct ::stat st {};
  if (::fstatat(dir_fd, e.d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) return file_type::unknown;
  return type_of_mode(st.st_mode);
}

// Runs on a blocking-pool thread.
std::vector<dir_entry> read_dir(const std::filesystem::path& path) {
  const auto fail = [&path] { throw_errno(-errno, "list_dir " + path.string()); };
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail();
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), &::closedir);
  if (!dir) {
    const int err = errno;
    ::close(fd);
    throw_errno(-err, "list_dir " + path.string());
  }
  std::vector<dir_entry> out;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(dir.get());
    if (!e) {
      if (errno != 0) fail();
      break;
    }
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    out.push_back({std::string(name), type_of_entry(fd, *e)});
  }
  std::sort(out.begin(), out.end(), [](const dir_entry& a, const dir_entry& b) { return a.name < b.name; });
  return out;
}

// "rename /a to /b", "symlink /tmp/l -> target": the call, then the paths it names.
std::string two_paths(const char* call, const std::filesystem::path& a, const char* sep,
                      const std::filesystem::path& b) {
  return std::string(call) + " " + a.string() + sep + b.string();
}

}  // namespace

namespace detail {

stat_result finish_stat(int res, const path& p, const struct statx& stx) {
  if (res < 0) throw_errno(res, "stat " + p.string());
  stat_result r;
  r.type = type_of_mode(stx.stx_mode);
  r.size = stx.stx_size;
  r.mode = stx.stx_mode & 07777u;
  r.mtime = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds(stx.stx_mtime.tv_sec) + std::chrono::nanoseconds(stx.stx_mtime.tv_nsec)));
  r.inode = stx.stx_ino;
  r.nlink = stx.stx_nlink;
  r.uid = stx.stx_uid;
  r.gid = stx.stx_gid;
  return r;
}

void throw_two_paths(int res, const char* call, const path& a, const char* sep, const path& b) {
  throw_errno(res, two_paths(call, a, sep, b));
}

}  // namespace detail

task<void> remove(std::filesystem::path path) {
  const bool removed = co_await detail::unlink_op(path, 0);
  if (!removed) co_await detail::unlink_op(std::move(path), AT_REMOVEDIR);
}

task<std::vector<dir_entry>> list_dir(std::filesystem::path path) {
  // `path` lives in this frame until the worker is done with it.
  co_return co_await run_blocking([&path] { return read_dir(path); });
}

}  // namespace coring::fs
