// Files on the ring (layer 7): open, positional reads and writes, fsync, size, close — each
// one io_uring operation (IORING_OP_OPENAT, READ, WRITE, FSYNC, STATX, CLOSE).
//
// Example (examples/file_roundtrip.cpp):
//   coring::file f = co_await coring::file::open(path, O_RDWR | O_CREAT, 0600);
//   co_await f.write_at(0, "hello");
//   char buf[5];
//   std::size_t n = co_await f.read_at(0, buf);  // 5: "hello"
//   std::uint64_t size = co_await f.size();      // 5
//   co_await f.fsync();
//   co_await f.close();                          // always closes, even when cancelled
//
// Errors: std::system_error naming the call and the path: "open /nope: No such file or
// directory", "read /tmp/x: Is a directory".
//
// Example (examples/file_roundtrip.cpp):
//   try {
//     co_await coring::file::open("/nonexistent/app.conf");
//   } catch (const std::system_error& e) {
//     fmt::print("{}\n", e.what());  // open /nonexistent/app.conf: No such file or directory
//   }
//
// Cancellation: every awaitable is a cancellation point except close(). Single operations
// (open, read_at, write_at, fsync, size) work with with_timeout's linked timeout; a
// regular-file read or write that already reached the disk completes anyway and its result
// is returned (no lost results). An open that completed before the cancel took hold returns
// the file (it is then closed by the file's destructor when the task unwinds).
#pragma once

#include <fcntl.h>
#include <linux/stat.h>
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "coring/detail/fd_ops.hpp"
#include "coring/detail/io_op.hpp"
#include "coring/task.hpp"

namespace coring {

class file;

namespace detail {

// A result conversion naming the file's path: returns the byte count, or throws
// "<what> <path>: <error>".
struct path_bytes {
  const char* what;
  const std::string* path;
  std::size_t operator()(int res) const {
    if (res < 0) throw_errno(res, std::string(what) + " " + *path);
    return static_cast<std::size_t>(res);
  }
};

inline auto file_read_op(int fd, const std::string* path, void* buf, std::size_t len, std::uint64_t off) {
  return make_op("file read", path_bytes{"read", path}, &io_uring_prep_read, fd, buf, clamp_io_length(len), off);
}
inline auto file_write_op(int fd, const std::string* path, const void* buf, std::size_t len, std::uint64_t off) {
  return make_op("file write", path_bytes{"write", path}, &io_uring_prep_write, fd, buf, clamp_io_length(len), off);
}
using file_read_op_t = decltype(file_read_op(0, nullptr, nullptr, 0, 0));
using file_write_op_t = decltype(file_write_op(0, nullptr, nullptr, 0, 0));

inline auto fsync_op(int fd, const std::string* path, bool datasync) {
  return make_op(
      "fsync", [path](int res) { path_bytes{"fsync", path}(res); }, &io_uring_prep_fsync, fd,
      datasync ? unsigned{IORING_FSYNC_DATASYNC} : 0u);
}
using fsync_op_t = decltype(fsync_op(0, nullptr, false));

inline auto statx_size_op(int fd, const std::string* path) {
  struct statx buffer {};  // stored in the op: the kernel writes it
  return make_op(
      "statx",
      [path](int res, int, struct statx& st) -> std::uint64_t {
        path_bytes{"statx", path}(res);
        return st.stx_size;
      },
      [](io_uring_sqe* sqe, int fd, struct statx& st) {
        io_uring_prep_statx(sqe, fd, "", AT_EMPTY_PATH, STATX_SIZE, &st);
      },
      fd, buffer);
}
using statx_size_op_t = decltype(statx_size_op(0, nullptr));

}  // namespace detail

// An open file. Move-only; the destructor closes it with close(2) if close() was not
// awaited. Offsets are explicit (pread/pwrite style): no shared file position.
class file {
 public:
  // An empty file (is_open() is false).
  file() noexcept = default;
  // Adopts an open descriptor; `path` only names it in error messages. The file closes it.
  file(int fd, std::string path) noexcept : fd_(fd), path_(std::move(path)) {}
  // Moves the descriptor; the source becomes empty.
  file(file&& o) noexcept : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)) {}
  // Closes this file's descriptor (close(2)) and takes the other's.
  file& operator=(file&& o) noexcept;
  // Closes the descriptor with close(2) if close() was not awaited.
  ~file() { detail::close_fd_now(fd_); }

  // Opens `path` (relative to the working directory) with open(2) flags; O_CLOEXEC is
  // always added. `mode` applies when O_CREAT/O_TMPFILE creates the file.
  // Cancellation: a cancellation point. Errors: std::system_error "open /nope: No such
  // file or directory". Example: at the top of this header.
  static auto open(std::string path, int flags = O_RDONLY, mode_t mode = 0644);

  // Reads up to buf.size() bytes at `offset`; returns how many (0 at end of file). One
  // operation; a short read is possible. `buf` must stay alive until the read returns.
  // Cancellation: a cancellation point, cancelled in the kernel (a read that already
  // completed returns its bytes). Errors: std::system_error "read <path>: ...". Example:
  // at the top of this header.
  detail::file_read_op_t read_at(std::uint64_t offset, std::span<char> buf) const {
    return detail::file_read_op(fd_, &path_, buf.data(), buf.size(), offset);
  }
  detail::file_read_op_t read_at(std::uint64_t offset, std::span<std::byte> buf) const {
    return detail::file_read_op(fd_, &path_, buf.data(), buf.size(), offset);
  }
  // Writes up to data.size() bytes at `offset`; returns how many (regular files write all
  // of it unless the disk is full). `data` must stay alive until the write returns.
  // Cancellation: as read_at. Errors: std::system_error "write <path>: ...".
  detail::file_write_op_t write_at(std::uint64_t offset, std::string_view data) const {
    return detail::file_write_op(fd_, &path_, data.data(), data.size(), offset);
  }
  detail::file_write_op_t write_at(std::uint64_t offset, std::span<const std::byte> data) const {
    return detail::file_write_op(fd_, &path_, data.data(), data.size(), offset);
  }
  // Writes all of `data` at `offset`, looping over short writes.
  // Cancellation: a cancellation point, NOT cancel-safe (a prefix may have been written).
  // Errors: std::system_error "write <path>: ...".
  task<void> write_all_at(std::uint64_t offset, std::string_view data) const;

  // Flushes data (and metadata unless `datasync`) to the device (fsync(2)/fdatasync(2)).
  // Cancellation: a cancellation point. Errors: std::system_error "fsync <path>: ...".
  detail::fsync_op_t fsync(bool datasync = false) const { return detail::fsync_op(fd_, &path_, datasync); }
  // The current size in bytes (statx). Cancellation: a cancellation point. Errors:
  // std::system_error "statx <path>: ...".
  detail::statx_size_op_t size() const { return detail::statx_size_op(fd_, &path_); }

  // Closes with IORING_OP_CLOSE. Not a cancellation point: the file is always closed, also
  // in a cancelled task. Errors: std::system_error "close fd 5: ..." (the descriptor is
  // released anyway). Closing a closed file does nothing.
  [[nodiscard]] detail::close_op close() noexcept { return detail::close_op(std::exchange(fd_, -1)); }

  // Whether the file holds a descriptor (not moved from, not closed).
  bool is_open() const noexcept { return fd_ >= 0; }
  // The descriptor (-1 when closed); the file still owns it.
  int native_handle() const noexcept { return fd_; }
  // The path given to open(), as the error messages name it.
  const std::string& path() const noexcept { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

namespace detail {
// IORING_OP_OPENAT; the result is a coring::file owning the new descriptor.
file open_result(int res, int dirfd, std::string& path, int flags, mode_t mode);
inline auto open_op(std::string path, int flags, mode_t mode) {
  return make_op("open", &open_result, &io_uring_prep_openat, int{AT_FDCWD}, std::move(path), flags | O_CLOEXEC, mode);
}
using open_op_t = decltype(open_op(std::string(), 0, 0));

}  // namespace detail

inline auto file::open(std::string path, int flags, mode_t mode) {
  return detail::open_op(std::move(path), flags, mode);
}

// Reads a whole file into a string (works for /proc files whose size is 0 too).
// Cancellation: a cancellation point; the file is closed either way.
// Errors: std::system_error "open <path>: ..." / "read <path>: ...".
//
// Example (examples/file_roundtrip.cpp):
//   co_await coring::write_file(path, "key = value\n");
//   std::string cfg = co_await coring::read_file(path);  // also /proc files, whose size is 0
task<std::string> read_file(std::string path);

// Creates or truncates `path` (mode 0644) and writes `data` to it.
// Cancellation: a cancellation point; a cancelled call may leave a partial file.
// Errors: std::system_error "open <path>: ..." / "write <path>: ...". Example: under
// read_file.
task<void> write_file(std::string path, std::string data);

}  // namespace coring
