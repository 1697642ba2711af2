// Buffered reading (layer 7): lines, delimited records and exact-size frames on top of any
// byte source — asyncio's StreamReader (readline, readuntil, readexactly) for coring.
//
// `coring::buffered_reader r(stream)` over a tcp_stream, a file or a raw descriptor; then
// r.read_line(), r.read_until("\r\n\r\n", max), r.read_exact(n) (examples at read_line and
// read_until below; demos/20_line_protocol.cpp is a whole server).
//
// Source and lifetime: the reader refers to its source, it does not own it. The source must
// stay where it is (not moved, not destroyed) while the reader is used; closing it makes
// the next read that needs the source fail with its error (EBADF). The reader owns its
// buffer. Do not read the source directly while the reader still holds buffered bytes:
// they would be skipped. A file source is read sequentially from the offset given to the
// constructor; a raw descriptor and a stream are read at their current position.
//
// Buffer: starts empty (allocated at the first read, initial_capacity bytes) and grows as
// far as a call's limit requires — read_until(d, max) may hold up to max bytes,
// read_exact(n) n bytes. There is no other cap. Bytes read ahead of what a call returns
// stay buffered for the next call.
//
// Cancellation: every read is a cancellation point. In a cancelled scope it throws
// coring::cancelled before looking at the buffer (nothing is consumed, even when the
// answer is already buffered). A read cancelled while it waits for the source keeps
// every byte received so far in the buffer: the next read sees them. Reads are tasks, so
// with_timeout / move_on_after use a cancel scope (no linked timeout) around them.
//
// Errors: the source's own std::system_error ("recv 127.0.0.1:80: Connection reset by
// peer", "read fd 5: ..."); coring::limit_overrun when a limit is reached without the
// delimiter; coring::incomplete_read at end of stream before a call could finish (the
// bytes that did come stay buffered in both cases); std::invalid_argument for bad
// arguments; std::logic_error for a second read started while one is in progress.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include "coring/file.hpp"
#include "coring/net.hpp"
#include "coring/task.hpp"

namespace coring {

// Thrown by read_until / read_line when `max` bytes are buffered without the delimiter
// among them. The bytes stay buffered: raise the limit and call again, take them with
// read_some / read_exact, or drop them with consume(buffered()).
class limit_overrun : public std::length_error {
 public:
  // `what` says which limit and how to go on; `buffered` is what the reader holds.
  limit_overrun(const std::string& what, std::size_t buffered) : std::length_error(what), buffered_(buffered) {}
  // Bytes buffered when the limit was reached.
  std::size_t buffered() const noexcept { return buffered_; }

 private:
  std::size_t buffered_;
};

// Thrown by read_exact / read_until when the source reaches end of stream first (asyncio's
// IncompleteReadError). The bytes received stay buffered (read them with read_some).
class incomplete_read : public std::runtime_error {
 public:
  incomplete_read(const std::string& what, std::size_t received, std::size_t expected)
      : std::runtime_error(what), received_(received), expected_(expected) {}
  // Bytes that came (and are buffered).
  std::size_t received() const noexcept { return received_; }
  // Bytes read_exact asked for; 0 for read_until (it wanted a delimiter).
  std::size_t expected() const noexcept { return expected_; }

 private:
  std::size_t received_;
  std::size_t expected_;
};

class buffered_reader {
 public:
  // The limit of read_until / read_line when none is given (asyncio's 64 KiB).
  static constexpr std::size_t default_limit = 64 * 1024;
  // Size of the buffer at the first read, and of each read from the source.
  static constexpr std::size_t initial_capacity = 8 * 1024;

  // Reads a connected stream (IORING_OP_RECV).
  explicit buffered_reader(tcp_stream& stream) noexcept : kind_(kind::stream), src_(&stream) {}
  // Reads a file sequentially from `offset` (IORING_OP_READ at explicit offsets).
  explicit buffered_reader(coring::file& f, std::uint64_t offset = 0) noexcept
      : kind_(kind::file), src_(&f), offset_(offset) {}
  // Reads a raw descriptor you keep open (a pipe, a socket, a tty) at its position.
  explicit buffered_reader(int fd) noexcept : kind_(kind::fd), fd_(fd) {}

  // Moving takes the buffered bytes along; the new reader refers to the same source. Do not
  // move a reader while one of its reads is in progress.
  buffered_reader(buffered_reader&& o) noexcept;
  buffered_reader& operator=(buffered_reader&&) = delete;
  buffered_reader(const buffered_reader&) = delete;

  // Returns the bytes up to and including the first `delimiter`, which must end within the
  // first `max` bytes (asyncio's readuntil).
  // Cancellation: a cancellation point; a cancelled call keeps what it received buffered.
  // Errors: coring::limit_overrun "read_until: no \"\r\n\r\n\" within the first 16384
  // bytes (max)" when max bytes are buffered without it; coring::incomplete_read at end of
  // stream without it; std::invalid_argument for an empty delimiter or a max smaller than
  // the delimiter; the source's errors. In every case the bytes stay buffered.
  //
  // Example (examples/buffered_reader_frames.cpp):
  //   coring::buffered_reader r(fds[0]);
  //   std::string head = co_await r.read_until("\r\n\r\n", 16 * 1024);  // "Length: 5\r\n\r\n"
  //   std::string body = co_await r.read_exact(5);                       // "hello"
  //   char rest[64];
  //   std::size_t n = co_await r.read_some(rest);                        // ", and more"
  // The delimiter is copied into the call: a temporary string is fine.
  task<std::string> read_until(std::string_view delimiter, std::size_t max = default_limit);
  task<std::string> read_until(char delimiter, std::size_t max = default_limit);

  // Returns the next line with its "\n" (asyncio's readline). At end of stream returns the
  // last bytes even without "\n", then "" on every later call (so "" means end of
  // stream). Cancellation and errors: as read_until; unlike asyncio, a line longer than
  // `max` is not thrown away: it stays buffered and limit_overrun is raised.
  //
  // Example (examples/buffered_reader_lines.cpp):
  //   coring::buffered_reader r(fds[0]);
  //   std::vector<std::string> lines;
  //   for (;;) {
  //     std::string line = co_await r.read_line(1024);
  //     if (line.empty()) break;  // end of stream
  //     lines.push_back(line);
  //   }
  task<std::string> read_line(std::size_t max = default_limit);

  // Returns exactly `n` bytes (asyncio's readexactly); the buffer grows to n if needed.
  // Cancellation: a cancellation point; a cancelled call keeps what it received buffered.
  // Errors: coring::incomplete_read "read_exact: end of stream after 3 of 8 bytes (they
  // stay buffered)"; the source's errors.
  // Example: examples/buffered_reader_frames.cpp, quoted at read_until.
  task<std::string> read_exact(std::size_t n);

  // Returns up to buf.size() bytes: buffered bytes first; when none are buffered, one read
  // of the source (straight into `buf` when it is at least initial_capacity bytes). 0 at
  // end of stream (or for an empty buf). Cancellation: a cancellation point, cancel-safe.
  // Errors: the source's. Example: examples/buffered_reader_frames.cpp, quoted at read_until.
  task<std::size_t> read_some(std::span<char> buf);

  // Bytes received and not yet returned.
  std::size_t buffered() const noexcept { return end_ - begin_; }
  // The buffered bytes, valid until the next read or consume.
  std::string_view peek() const noexcept { return {buf_.get() + begin_, end_ - begin_}; }
  // Drops the first `n` buffered bytes (after a peek, or a limit_overrun).
  // Errors: std::out_of_range when fewer than n bytes are buffered.
  void consume(std::size_t n);
  // True when the source reached end of stream and nothing is buffered. End of stream is
  // sticky: the reader does not ask the source again once it returned 0.
  bool at_eof() const noexcept { return eof_ && begin_ == end_; }

  // The source: r.source<coring::tcp_stream>() or r.source<coring::file>().
  // Errors: std::logic_error when the reader was built over another kind of source.
  template <class Source>
  Source& source() const {
    static_assert(std::is_same_v<Source, tcp_stream> || std::is_same_v<Source, coring::file>,
                  "buffered_reader::source<S>: S is tcp_stream or file (native_handle() for a raw fd)");
    if (kind_ != (std::is_same_v<Source, tcp_stream> ? kind::stream : kind::file)) wrong_source();
    return *static_cast<Source*>(src_);
  }
  // The descriptor read (the stream's or the file's, or the raw one).
  int native_handle() const noexcept;

 private:
  enum class kind : unsigned char { stream, file, fd };
  class read_guard;

  task<std::string> until(std::string delimiter, std::size_t max, bool rest_at_eof);
  // Ensures room at the end of the buffer, growing it no further than `limit` allows.
  void make_room(std::size_t limit);
  // One read of the source into the buffer's free end; false at end of stream.
  task<bool> fill(std::size_t limit);
  task<std::size_t> read_source(char* p, std::size_t n);
  std::string take(std::size_t n);
  [[noreturn]] static void wrong_source();

  kind kind_;
  void* src_ = nullptr;
  int fd_ = -1;
  std::uint64_t offset_ = 0;  // file source: the offset of the next read
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;  // [begin_, end_) are the buffered bytes
  std::size_t end_ = 0;
  bool eof_ = false;
  bool busy_ = false;
};

}  // namespace coring
