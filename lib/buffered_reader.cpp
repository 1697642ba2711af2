#include "coring/buffered_reader.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "coring/errors.hpp"
#include "coring/fd.hpp"

namespace coring {

namespace {

// "\r\n" -> "\\r\\n": delimiters are often control characters, shown escaped in messages.
std::string escaped(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f)
          out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
        else
          out += c;
    }
  }
  return out;
}

// Every read starts here: a cancelled scope throws before anything is consumed, so a read
// is a cancellation point even when its answer is already buffered.
void cancellation_point() {
  if (detail::this_task()->cancelled()) throw cancelled{};
}

}  // namespace

// Marks the reader busy for one read: two reads at once would interleave their bytes.
class buffered_reader::read_guard {
 public:
  read_guard(buffered_reader& r, const char* who) : r_(r) {
    if (r_.busy_)
      throw std::logic_error(std::string("buffered_reader::") + who +
                             ": another read is in progress on this reader; await it first (one task reads a reader)");
    cancellation_point();
    r_.busy_ = true;
  }
  ~read_guard() { r_.busy_ = false; }
  read_guard(const read_guard&) = delete;
  read_guard& operator=(const read_guard&) = delete;

 private:
  buffered_reader& r_;
};

buffered_reader::buffered_reader(buffered_reader&& o) noexcept
    : kind_(o.kind_), src_(o.src_), fd_(o.fd_), offset_(o.offset_), buf_(std::move(o.buf_)),
      cap_(std::exchange(o.cap_, 0)), begin_(std::exchange(o.begin_, 0)), end_(std::exchange(o.end_, 0)),
      eof_(o.eof_) {}

int buffered_reader::native_handle() const noexcept {
  switch (kind_) {
    case kind::stream: return static_cast<tcp_stream*>(src_)->native_handle();
    case kind::file: return static_cast<coring::file*>(src_)->native_handle();
    case kind::fd: break;
  }
  return fd_;
}

void buffered_reader::wrong_source() {
  throw std::logic_error("buffered_reader::source<S>: this reader reads another kind of source");
}

void buffered_reader::consume(std::size_t n) {
  if (n > buffered())
    throw std::out_of_range(fmt::format("buffered_reader::consume({}): only {} bytes are buffered", n, buffered()));
  begin_ += n;
}

std::string buffered_reader::take(std::size_t n) {
  if (n == 0) return {};
  std::string out(buf_.get() + begin_, n);
  begin_ += n;
  return out;
}

void buffered_reader::make_room(std::size_t limit) {
  const std::size_t size = buffered();
  // Moving the bytes to the front is cheap when no more move than were consumed before them.
  if (begin_ > 0 && begin_ >= size) {
    std::memmove(buf_.get(), buf_.get() + begin_, size);
    begin_ = 0;
    end_ = size;
  }
  if (end_ < cap_) return;
  // Full: grow (doubling) as far as the call's limit allows, else make room at the front.
  const std::size_t allowed = std::max({limit, size + 1, initial_capacity});
  if (cap_ < allowed) {
    const std::size_t cap = std::min(std::max(cap_ * 2, initial_capacity), allowed);
    auto grown = std::make_unique_for_overwrite<char[]>(cap);
    if (size) std::memcpy(grown.get(), buf_.get() + begin_, size);
    buf_ = std::move(grown);
    cap_ = cap;
  } else {
    // cap_ >= size + 1 with a full tail means begin_ > 0.
    std::memmove(buf_.get(), buf_.get() + begin_, size);
  }
  begin_ = 0;
  end_ = size;
}

task<std::size_t> buffered_reader::read_source(char* p, std::size_t n) {
  switch (kind_) {
    case kind::stream:
      co_return co_await static_cast<tcp_stream*>(src_)->read_some(p, n);
    case kind::file: {
      const std::size_t got = co_await static_cast<coring::file*>(src_)->read_at(offset_, std::span<char>(p, n));
      offset_ += got;
      co_return got;
    }
    case kind::fd:
      break;
  }
  co_return co_await coring::read_some(fd_, std::span<char>(p, n));
}

task<bool> buffered_reader::fill(std::size_t limit) {
  make_room(limit);
  // The kernel writes into the buffer's free end; the bytes count as buffered as soon as
  // the read returns, so a cancellation raised later never loses them.
  const std::size_t n = co_await read_source(buf_.get() + end_, cap_ - end_);
  end_ += n;
  if (n == 0) eof_ = true;
  co_return n != 0;
}

// Not a coroutine: the lazy task gets its own copy of the delimiter before this returns.
task<std::string> buffered_reader::read_until(std::string_view delimiter, std::size_t max) {
  return until(std::string(delimiter), max, false);
}

task<std::string> buffered_reader::read_until(char delimiter, std::size_t max) {
  return until(std::string(1, delimiter), max, false);
}

task<std::string> buffered_reader::read_line(std::size_t max) { return until("\n", max, true); }

task<std::string> buffered_reader::until(std::string delim, std::size_t max, bool rest_at_eof) {
  const char* who = rest_at_eof ? "read_line" : "read_until";
  if (delim.empty()) throw std::invalid_argument("buffered_reader::read_until: the delimiter is empty");
  if (max < delim.size())
    throw std::invalid_argument(fmt::format("buffered_reader::{}: max ({}) is smaller than the delimiter \"{}\" ({} bytes)",
                                            who, max, escaped(delim), delim.size()));
  read_guard guard(*this, who);
  // Bytes already searched (less the delimiter's length - 1, which may start a match).
  std::size_t scanned = 0;
  for (;;) {
    const std::string_view window = peek().substr(0, max);
    const std::size_t from = scanned >= delim.size() ? scanned - (delim.size() - 1) : 0;
    const std::size_t at = window.find(delim, from);
    if (at != std::string_view::npos) co_return take(at + delim.size());
    scanned = window.size();
    if (buffered() >= max)
      throw limit_overrun(fmt::format("{}: no \"{}\" within the first {} bytes (max); the bytes stay buffered: "
                                      "raise max, or take them with read_some or consume",
                                      who, escaped(delim), max),
                          buffered());
    if (eof_) {
      if (rest_at_eof) co_return take(buffered());
      throw incomplete_read(fmt::format("read_until: end of stream after {} bytes without \"{}\" (they stay buffered)",
                                        buffered(), escaped(delim)),
                            buffered(), 0);
    }
    co_await fill(max);
  }
}

task<std::string> buffered_reader::read_exact(std::size_t n) {
  read_guard guard(*this, "read_exact");
  while (buffered() < n) {
    if (eof_)
      throw incomplete_read(
          fmt::format("read_exact: end of stream after {} of {} bytes (they stay buffered)", buffered(), n), buffered(), n);
    co_await fill(n);
  }
  co_return take(n);
}

task<std::size_t> buffered_reader::read_some(std::span<char> buf) {
  read_guard guard(*this, "read_some");
  if (buf.empty()) co_return 0;
  if (buffered() == 0 && !eof_) {
    if (buf.size() >= initial_capacity) {
      // A large read gains nothing from the buffer: read straight into the caller's.
      const std::size_t n = co_await read_source(buf.data(), buf.size());
      if (n == 0) eof_ = true;
      co_return n;
    }
    co_await fill(initial_capacity);
  }
  const std::size_t n = std::min(buf.size(), buffered());
  if (n) std::memcpy(buf.data(), buf_.get() + begin_, n);
  begin_ += n;
  co_return n;
}

}  // namespace coring
