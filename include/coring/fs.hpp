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

  // Tests of `type` (only lstat reports a symlink; stat follows it).
  bool is_regular_file() const noexcept { return type == std::filesystem::file_type::regular; }
  bool is_directory() const noexcept { return type == std::filesystem::file_type::directory; }
  bool is_symlink() const noexcept { return type == std::filesystem::file_type::symlink; }
};

// One entry of a directory listing ("." and ".." are never listed).
struct dir_entry {
  std::string name;  // the file name, without the directory
  std::filesystem::file_type type = std::filesystem::file_type::unknown;

  // True for a subdirectory (not for a symlink to one: `type` is the entry's own).
  bool is_directory() const noexcept { return type == std::filesystem::file_type::directory; }
};

namespace detail {

// Each op owns its path strings (the kernel reads them after the submit): they are
// arguments of make_op, stored in the awaiting frame.
using std::filesystem::path;
using coring::detail::make_op;

stat_result finish_stat(int res, const path& p, const struct statx& st);
// Throws "<call> <a><sep><b>: <error>" for a failed two-path call.
[[noreturn]] void throw_two_paths(int res, const char* call, const path& a, const char* sep, const path& b);

// "<call> <path>: <error>" for a failed one-path call (the path is the op's second argument).
struct path_checked {
  const char* call;
  template <class... Rest>
  void operator()(int res, int, path& p, Rest&...) const {
    if (res < 0) throw_errno(res, std::string(call) + " " + p.string());
  }
};

inline auto stat_op(path p, bool follow) {
  struct statx buffer {};
  return make_op(
      "stat", [](int res, path& p, int, struct statx& st) { return finish_stat(res, p, st); },
      [](io_uring_sqe* sqe, const char* p, int flags, struct statx& st) {
        io_uring_prep_statx(sqe, AT_FDCWD, p, flags, STATX_BASIC_STATS, &st);
      },
      std::move(p), AT_STATX_SYNC_AS_STAT | (follow ? 0 : AT_SYMLINK_NOFOLLOW), buffer);
}
using stat_op_t = decltype(stat_op(path(), true));

inline auto mkdir_op(path p, mode_t mode) {
  return make_op("mkdir", path_checked{"mkdir"}, &io_uring_prep_mkdirat, int{AT_FDCWD}, std::move(p), mode);
}
using mkdir_op_t = decltype(mkdir_op(path(), 0));

inline auto rename_op(path from, path to, unsigned flags) {
  return make_op(
      "rename",
      [](int res, int, path& from, int, path& to, unsigned) {
        if (res < 0) throw_two_paths(res, "rename", from, " to ", to);
      },
      &io_uring_prep_renameat, int{AT_FDCWD}, std::move(from), int{AT_FDCWD}, std::move(to), flags);
}
using rename_op_t = decltype(rename_op(path(), path(), 0));

// unlinkat(2). Without AT_REMOVEDIR, a directory is not an error: the result is false
// (EISDIR) so that fs::remove can go on with AT_REMOVEDIR. Otherwise true.
inline auto unlink_op(path p, int flags) {
  return make_op(
      "remove",
      [](int res, int, path& p, int flags) {
        if (res == -EISDIR && !(flags & AT_REMOVEDIR)) return false;
        if (res < 0) throw_errno(res, "remove " + p.string());
        return true;
      },
      &io_uring_prep_unlinkat, int{AT_FDCWD}, std::move(p), flags);
}

inline auto link_op(path target, path link) {
  return make_op(
      "link",
      [](int res, int, path& target, int, path& link, int) {
        if (res < 0) throw_two_paths(res, "link", link, " -> ", target);
      },
      &io_uring_prep_linkat, int{AT_FDCWD}, std::move(target), int{AT_FDCWD}, std::move(link), 0);
}
using link_op_t = decltype(link_op(path(), path()));

inline auto symlink_op(path target, path link) {
  return make_op(
      "symlink",
      [](int res, path& target, int, path& link) {
        if (res < 0) throw_two_paths(res, "symlink", link, " -> ", target);
      },
      &io_uring_prep_symlinkat, std::move(target), int{AT_FDCWD}, std::move(link));
}
using symlink_op_t = decltype(symlink_op(path(), path()));

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
inline detail::stat_op_t stat(std::filesystem::path path) { return detail::stat_op(std::move(path), true); }
inline detail::stat_op_t lstat(std::filesystem::path path) { return detail::stat_op(std::move(path), false); }

// Creates the directory `path` with `mode` (less the umask); its parent must exist.
// One IORING_OP_MKDIRAT. Errors: std::system_error "mkdir <path>: File exists" (EEXIST),
// ENOENT when the parent is missing, ENOTDIR when it is a file.
// Example: examples/fs_dirs.cpp, quoted at list_dir.
inline detail::mkdir_op_t mkdir(std::filesystem::path path, mode_t mode = 0777) {
  return detail::mkdir_op(std::move(path), mode);
}

// Renames `from` to `to`, atomically replacing `to` if it exists (rename(2)); `flags` are
// renameat2's (RENAME_NOREPLACE: EEXIST instead of replacing; RENAME_EXCHANGE).
// One IORING_OP_RENAMEAT. Errors: std::system_error "rename <from> to <to>: ..." (ENOENT,
// ENOTEMPTY for a non-empty directory `to`, EXDEV across filesystems).
// Example: examples/fs_dirs.cpp, quoted at list_dir.
inline detail::rename_op_t rename(std::filesystem::path from, std::filesystem::path to, unsigned flags = 0) {
  return detail::rename_op(std::move(from), std::move(to), flags);
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
inline detail::link_op_t link(std::filesystem::path target, std::filesystem::path link) {
  return detail::link_op(std::move(target), std::move(link));
}

// Creates the symlink `link` whose content is `target` (os.symlink(target, link)); the
// target need not exist, and a relative one is resolved from the link's directory.
// One IORING_OP_SYMLINKAT. Errors: std::system_error "symlink <link> -> <target>: File
// exists" (EEXIST), ENOENT when the link's directory is missing.
// Example: examples/fs_links.cpp, quoted at link.
inline detail::symlink_op_t symlink(std::filesystem::path target, std::filesystem::path link) {
  return detail::symlink_op(std::move(target), std::move(link));
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
