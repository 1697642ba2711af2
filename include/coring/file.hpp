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

// The messages name the path; the op keeps a pointer to the file's path string.
class file_read_op : public io_op<file_read_op> {
 public:
  static constexpr const char* op_name = "file read";
  file_read_op(int fd, const std::string* path, void* buf, std::size_t len, std::uint64_t off) noexcept
      : fd_(fd), path_(path), buf_(buf), len_(len > 0x7ffff000u ? 0x7ffff000u : static_cast<unsigned>(len)), off_(off) {}
  void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_read(sqe, fd_, buf_, len_, off_); }
  std::size_t result(int res, unsigned) {
    if (res < 0) throw_errno(res, "read " + *path_);
    return static_cast<std::size_t>(res);
  }

 private:
  int fd_;
  const std::string* path_;
  void* buf_;
  unsigned len_;
  std::uint64_t off_;
};

class file_write_op : public io_op<file_write_op> {
 public:
  static constexpr const char* op_name = "file write";
  file_write_op(int fd, const std::string* path, const void* buf, std::size_t len, std::uint64_t off) noexcept
      : fd_(fd), path_(path), buf_(buf), len_(len > 0x7ffff000u ? 0x7ffff000u : static_cast<unsigned>(len)), off_(off) {}
  void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_write(sqe, fd_, buf_, len_, off_); }
  std::size_t result(int res, unsigned) {
    if (res < 0) throw_errno(res, "write " + *path_);
    return static_cast<std::size_t>(res);
  }

 private:
  int fd_;
  const std::string* path_;
  const void* buf_;
  unsigned len_;
  std::uint64_t off_;
};

class fsync_op : public io_op<fsync_op> {
 public:
  static constexpr const char* op_name = "fsync";
  fsync_op(int fd, const std::string* path, bool datasync) noexcept : fd_(fd), path_(path), datasync_(datasync) {}
  void prepare(io_uring_sqe* sqe) noexcept {
    io_uring_prep_fsync(sqe, fd_, datasync_ ? IORING_FSYNC_DATASYNC : 0);
  }
  void result(int res, unsigned) {
    if (res < 0) throw_errno(res, "fsync " + *path_);
  }

 private:
  int fd_;
  const std::string* path_;
  bool datasync_;
};

class statx_size_op : public io_op<statx_size_op> {
 public:
  static constexpr const char* op_name = "statx";
  statx_size_op(int fd, const std::string* path) noexcept : fd_(fd), path_(path) {}
  void prepare(io_uring_sqe* sqe) noexcept {
    io_uring_prep_statx(sqe, fd_, "", AT_EMPTY_PATH, STATX_SIZE, &stx_);
  }
  std::uint64_t result(int res, unsigned) {
    if (res < 0) throw_errno(res, "statx " + *path_);
    return stx_.stx_size;
  }

 private:
  int fd_;
  const std::string* path_;
  struct statx stx_ {};
};

// IORING_OP_OPENAT; the result is a coring::file owning the new descriptor.
class open_op : public io_op<open_op> {
 public:
  static constexpr const char* op_name = "open";
  open_op(std::string path, int flags, mode_t mode) noexcept
      : path_(std::move(path)), flags_(flags | O_CLOEXEC), mode_(mode) {}
  void prepare(io_uring_sqe* sqe) noexcept { io_uring_prep_openat(sqe, AT_FDCWD, path_.c_str(), flags_, mode_); }
  file result(int res, unsigned);

 private:
  std::string path_;
  int flags_;
  mode_t mode_;
};

}  // namespace detail

// An open file. Move-only; the destructor closes it with close(2) if close() was not
// awaited. Offsets are explicit (pread/pwrite style): no shared file position.
class file {
 public:
  file() noexcept = default;
  file(int fd, std::string path) noexcept : fd_(fd), path_(std::move(path)) {}
  file(file&& o) noexcept : fd_(std::exchange(o.fd_, -1)), path_(std::move(o.path_)) {}
  file& operator=(file&& o) noexcept;
  ~file() { detail::close_fd_now(fd_); }

  // Opens `path` (relative to the working directory) with open(2) flags; O_CLOEXEC is
  // always added. `mode` applies when O_CREAT/O_TMPFILE creates the file.
  // Cancellation: a cancellation point. Errors: std::system_error "open /nope: No such
  // file or directory". Example: at the top of this header.
  static detail::open_op open(std::string path, int flags = O_RDONLY, mode_t mode = 0644) {
    return detail::open_op(std::move(path), flags, mode);
  }

  // Reads up to buf.size() bytes at `offset`; returns how many (0 at end of file). One
  // operation; a short read is possible. `buf` must stay alive until the read returns.
  // Cancellation: a cancellation point, cancelled in the kernel (a read that already
  // completed returns its bytes). Errors: std::system_error "read <path>: ...". Example:
  // at the top of this header.
  detail::file_read_op read_at(std::uint64_t offset, std::span<char> buf) const noexcept {
    return {fd_, &path_, buf.data(), buf.size(), offset};
  }
  detail::file_read_op read_at(std::uint64_t offset, std::span<std::byte> buf) const noexcept {
    return {fd_, &path_, buf.data(), buf.size(), offset};
  }
  // Writes up to data.size() bytes at `offset`; returns how many (regular files write all
  // of it unless the disk is full). `data` must stay alive until the write returns.
  // Cancellation: as read_at. Errors: std::system_error "write <path>: ...".
  detail::file_write_op write_at(std::uint64_t offset, std::string_view data) const noexcept {
    return {fd_, &path_, data.data(), data.size(), offset};
  }
  detail::file_write_op write_at(std::uint64_t offset, std::span<const std::byte> data) const noexcept {
    return {fd_, &path_, data.data(), data.size(), offset};
  }
  // Writes all of `data` at `offset`, looping over short writes.
  // Cancellation: a cancellation point, NOT cancel-safe (a prefix may have been written).
  // Errors: std::system_error "write <path>: ...".
  task<void> write_all_at(std::uint64_t offset, std::string_view data) const;

  // Flushes data (and metadata unless `datasync`) to the device (fsync(2)/fdatasync(2)).
  // Cancellation: a cancellation point. Errors: std::system_error "fsync <path>: ...".
  detail::fsync_op fsync(bool datasync = false) const noexcept { return {fd_, &path_, datasync}; }
  // The current size in bytes (statx). Cancellation: a cancellation point. Errors:
  // std::system_error "statx <path>: ...".
  detail::statx_size_op size() const noexcept { return {fd_, &path_}; }

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
