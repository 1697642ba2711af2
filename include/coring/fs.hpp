// The filesystem on the ring (layer 7), namespace coring::fs: stat, mkdir, rename, remove,
// link, symlink as io_uring operations (IORING_OP_STATX, MKDIRAT, RENAMEAT, UNLINKAT,
// LINKAT, SYMLINKAT), and list_dir on the blocking pool (getdents has no io_uring op).
//
// Paths are std::filesystem::path, relative to the working directory unless absolute. Each
// operation copies its paths into itself, and the operation lives in the awaiting frame
// until the kernel is done with it, so a temporary path argument is fine.
//
// Errors: std::system_error(errno, std::system_category()) naming the call and the path:
// "mkdir /tmp/x: File exists", "stat /nope: No such file or directory",
// "rename /a to /b: ...". Tests run as root, where permission errors do not happen; as
// another user EACCES / EPERM come back the same way.
//
// Cancellation: every awaitable is a cancellation point. In a cancelled scope nothing is
// submitted (coring::cancelled, nothing changed on disk). The single operations (all but
// remove and list_dir) work with with_timeout's linked timeout; a metadata change the
// kernel already made when the cancel arrives is reported as done, not as cancelled.
#pragma once

#include <fcntl.h>
#include <linux/stat.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "coring/detail/io_op.hpp"
#include "coring/task.hpp"

namespace coring::fs {

// What stat returns: the fields of statx(2) a program usually needs.
struct stat_result {
  std::filesystem::file_type type = std::filesystem::file_type::none;
  std::uint64_t size = 0;    // bytes
  std::uint32_t mode = 0;    // permission bits only (st_mode & 07777), e.g. 0644
  std::chrono::system_clock::time_point mtime;  // last modification (nanoseconds)
  std::uint64_t inode = 0;
  std::uint32_t nlink = 0;   // hard links
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;

  bool is_regular_file() const noexcept { return type == std::filesystem::file_type::regular; }
  bool is_directory() const noexcept { return type == std::filesystem::file_type::directory; }
  bool is_symlink() const noexcept { return type == std::filesystem::file_type::symlink; }
};

// One entry of a directory listing ("." and ".." are never listed).
struct dir_entry {
  std::string name;  // the file name, without the directory
  std::filesystem::file_type type = std::filesystem::file_type::unknown;

  bool is_directory() const noexcept { return type == std::filesystem::file_type::directory; }
};

namespace detail {

// Each op owns its path strings: the kernel reads them after the submit.

class stat_op : public coring::detail::io_op<stat_op> {
 public:
  static constexpr const char* op_name = "stat";
  stat_op(std::filesystem::path p, bool follow) noexcept
      : path_(std::move(p)), flags_(AT_STATX_SYNC_AS_STAT | (follow ? 0 : AT_SYMLINK_NOFOLLOW)) {}
  void prepare(io_uring_sqe* sqe) noexcept {
    io_uring_prep_statx(sqe, AT_FDCWD, path_.c_str(), flags_, STATX_BASIC_STATS, &stx_);
  }
  stat_result result(int res, unsigned);

 private:
  std::filesystem::path path_;
  int flags_;
  struct statx stx_ {};
};

class mkdir_op : public coring::detail::io_op<mkdir_op> {
 public:
  static constexpr const char* op_name = "mkdir";
  mkdir_op(std::filesystem::path p, mode_t mode) noexcept : path_(std::move(p)), mode_(mode) {}
  void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_mkdirat(sqe, AT_FDCWD, path_.c_str(), mode_); }
  void result(int res, unsigned);

 private:
  std::filesystem::path path_;
  mode_t mode_;
};

class rename_op : public coring::detail::io_op<rename_op> {
 public:
  static constexpr const char* op_name = "rename";
  rename_op(std::filesystem::path from, std::filesystem::path to, unsigned flags) noexcept
      : from_(std::move(from)), to_(std::move(to)), flags_(flags) {}
  void prepare(io_uring_sqe* sqe) noexcept {
    io_uring_prep_renameat(sqe, AT_FDCWD, from_.c_str(), AT_FDCWD, to_.c_str(), flags_);
  }
  void result(int res, unsigned);

 private:
  std::filesystem::path from_;
  std::filesystem::path to_;
  unsigned flags_;
};

// unlinkat(2). Without AT_REMOVEDIR, a directory is not an error: the result is false
// (EISDIR) so that fs::remove can go on with AT_REMOVEDIR. Otherwise true.
class unlink_op : public coring::detail::io_op<unlink_op> {
 public:
  static constexpr const char* op_name = "remove";
  unlink_op(std::filesystem::path p, int flags) noexcept : path_(std::move(p)), flags_(flags) {}
  void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_unlinkat(sqe, AT_FDCWD, path_.c_str(), flags_); }
  bool result(int res, unsigned);

 private:
  std::filesystem::path path_;
  int flags_;
};

class link_op : public coring::detail::io_op<link_op> {
 public:
  static constexpr const char* op_name = "link";
  link_op(std::filesystem::path target, std::filesystem::path link) noexcept
      : target_(std::move(target)), link_(std::move(link)) {}
  void prepare(io_uring_sqe* sqe) noexcept {
    io_uring_prep_linkat(sqe, AT_FDCWD, target_.c_str(), AT_FDCWD, link_.c_str(), 0);
  }
  void result(int res, unsigned);

 private:
  std::filesystem::path target_;
  std::filesystem::path link_;
};

class symlink_op : public coring::detail::io_op<symlink_op> {
 public:
  static constexpr const char* op_name = "symlink";
  symlink_op(std::filesystem::path target, std::filesystem::path link) noexcept
      : target_(std::move(target)), link_(std::move(link)) {}
  void prepare(io_uring_sqe* sqe) noexcept {
    io_uring_prep_symlinkat(sqe, target_.c_str(), AT_FDCWD, link_.c_str());
  }
  void result(int res, unsigned);

 private:
  std::filesystem::path target_;
  std::filesystem::path link_;
};

}  // namespace detail

// The status of `path`, following symlinks (os.stat); lstat describes a symlink itself.
// One IORING_OP_STATX. Cancellation: a cancellation point (see the top of this file).
// Errors: std::system_error "stat <path>: No such file or directory" (ENOENT), ENOTDIR
// when a parent is a file, ELOOP...
//
// Example (examples/fs_stat.cpp):
//   co_await coring::write_file(p, "hello\n");
//   coring::fs::stat_result st = co_await coring::fs::stat(p);
//   // st.size == 6, st.is_regular_file(), st.mode == 0644 (less the umask)
inline detail::stat_op stat(std::filesystem::path path) noexcept { return {std::move(path), true}; }
inline detail::stat_op lstat(std::filesystem::path path) noexcept { return {std::move(path), false}; }

// Creates the directory `path` with `mode` (less the umask); its parent must exist.
// One IORING_OP_MKDIRAT. Errors: std::system_error "mkdir <path>: File exists" (EEXIST),
// ENOENT when the parent is missing, ENOTDIR when it is a file.
// Example: examples/fs_dirs.cpp, quoted at list_dir.
inline detail::mkdir_op mkdir(std::filesystem::path path, mode_t mode = 0777) noexcept {
  return {std::move(path), mode};
}

// Renames `from` to `to`, atomically replacing `to` if it exists (rename(2)); `flags` are
// renameat2's (RENAME_NOREPLACE: EEXIST instead of replacing; RENAME_EXCHANGE).
// One IORING_OP_RENAMEAT. Errors: std::system_error "rename <from> to <to>: ..." (ENOENT,
// ENOTEMPTY for a non-empty directory `to`, EXDEV across filesystems).
// Example: examples/fs_dirs.cpp, quoted at list_dir.
inline detail::rename_op rename(std::filesystem::path from, std::filesystem::path to, unsigned flags = 0) noexcept {
  return {std::move(from), std::move(to), flags};
}

// Removes a file, a symlink (not what it points to) or an EMPTY directory. It tries
// unlink first, and when the kernel answers EISDIR removes the directory (AT_REMOVEDIR):
// no stat beforehand, so no window between checking and removing; a directory costs two
// IORING_OP_UNLINKAT. Not a single operation: with_timeout uses a cancel scope.
// Errors: std::system_error "remove <path>: ..." (ENOENT, ENOTEMPTY for a directory
// with entries, ENOTDIR).
// Example: examples/fs_dirs.cpp, quoted at list_dir.
task<void> remove(std::filesystem::path path);

// Creates the hard link `link` to the existing file `target` (os.link(target, link)).
// One IORING_OP_LINKAT. Errors: std::system_error "link <link> -> <target>: ..." (EEXIST,
// ENOENT for a missing target, EPERM for a directory target).
//
// Example (examples/fs_links.cpp):
//   co_await coring::fs::link(file, dir / "hard");
//   co_await coring::fs::symlink("data.txt", dir / "soft");  // relative to the link's dir
//   auto hard = co_await coring::fs::stat(dir / "hard");     // hard.nlink == 2
//   auto soft = co_await coring::fs::lstat(dir / "soft");    // soft.is_symlink()
inline detail::link_op link(std::filesystem::path target, std::filesystem::path link) noexcept {
  return {std::move(target), std::move(link)};
}

// Creates the symlink `link` whose content is `target` (os.symlink(target, link)); the
// target need not exist, and a relative one is resolved from the link's directory.
// One IORING_OP_SYMLINKAT. Errors: std::system_error "symlink <link> -> <target>: File
// exists" (EEXIST), ENOENT when the link's directory is missing.
// Example: examples/fs_links.cpp, quoted at link.
inline detail::symlink_op symlink(std::filesystem::path target, std::filesystem::path link) noexcept {
  return {std::move(target), std::move(link)};
}

// The entries of directory `path`, sorted by name, without "." and "..", each with its
// type (symlinks are reported as symlinks, not followed). Runs opendir/readdir on the
// blocking pool (coring::run_blocking): getdents has no io_uring operation.
// Cancellation: a cancellation point; a listing already running finishes on its worker
// thread, then the call throws coring::cancelled (run_blocking's rule). The directory is
// closed either way.
// Errors: std::system_error "list_dir <path>: No such file or directory" (ENOENT),
// ENOTDIR for a file.
//
// Example (examples/fs_dirs.cpp):
//   co_await coring::fs::mkdir(root / "a");
//   co_await coring::write_file(root / "a" / "x.txt", "x");
//   co_await coring::fs::rename(root / "a", root / "b");
//   std::vector<coring::fs::dir_entry> entries = co_await coring::fs::list_dir(root / "b");
//   // one entry: name "x.txt", type regular
//   co_await coring::fs::remove(root / "b" / "x.txt");
//   co_await coring::fs::remove(root / "b");  // an empty directory
task<std::vector<dir_entry>> list_dir(std::filesystem::path path);

}  // namespace coring::fs
