// Streaming bodies: body_reader over a body_source, body_writer framing what a producer
// writes (chunked or counted), and files spliced to the socket.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>
#include <type_traits>

#include <fmt/format.h>

#include "body.hpp"
#include "coring/cancel.hpp"
#include "coring/fd.hpp"

namespace coring::http {

namespace {

// Awaits `a` (a write to the peer) until `deadline`, or without a bound when the write
// timeout is off (`timeout` <= 0); a deadline passed throws timeout_error(what()).
template <class A, class What>
auto by_deadline(duration timeout, time_point deadline, A a, What what) -> task<coring::detail::await_result_t<A>> {
  if (timeout.count() <= 0) co_return co_await std::move(a);
  auto r = co_await move_on_at(deadline, std::move(a));
  if (!r) throw timeout_error(what());
  if constexpr (!std::is_void_v<coring::detail::await_result_t<A>>) co_return std::move(*r);
}

}  // namespace

// ---- body_reader ----

task<std::string_view> body_reader::read() {
  if (done_) co_return std::string_view();
  if (broken_)
    throw std::logic_error(
        "coring::http::body_reader: an earlier read failed or was cancelled; the rest of this body cannot be read");
  broken_ = true;  // until the read below returns normally
  const std::string_view piece = co_await src_->next();
  broken_ = false;
  if (piece.empty()) done_ = true;
  received_ += piece.size();
  co_return piece;
}

task<std::string> body_reader::read_all() {
  const auto too_large = [&] {
    return body_too_large(fmt::format(
        "coring::http: the body is larger than the limit of {} bytes for a whole-body read; raise max_body_size "
        "or read it piece by piece (body_reader::read, client::stream, a streaming_handler)",
        limit_));
  };
  if (const auto n = content_length(); n && *n - received_ > limit_) throw too_large();
  std::string out;
  for (;;) {
    const std::string_view piece = co_await read();
    if (piece.empty()) break;
    if (out.size() + piece.size() > limit_) throw too_large();
    out.append(piece);
  }
  co_return out;
}

// ---- body_writer ----

namespace {

// Big enough to amortise a send, small enough to keep a write's memory constant.
constexpr std::size_t splice_piece = 64 * 1024;
constexpr std::size_t coalesce_limit = 16 * 1024;  // a first write this small goes out with the head

struct pipe_fds {
  int r = -1, w = -1;
  pipe_fds() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::system_error(errno, std::system_category(), "coring::http: pipe2");
    r = p[0];
    w = p[1];
  }
  ~pipe_fds() {
    ::close(r);
    ::close(w);
  }
  pipe_fds(const pipe_fds&) = delete;
  pipe_fds& operator=(const pipe_fds&) = delete;
};

}  // namespace

task<void> body_writer::send(std::string_view data) {
  if (failed_)
    throw std::logic_error("coring::http::body_writer: an earlier write failed or was cancelled; the connection is closed");
  failed_ = true;  // until this send completes
  std::string_view first = data;
  if (!head_.empty() && data.size() <= coalesce_limit) {
    head_.append(data);
    first = head_;
    data = {};
  } else if (!head_.empty()) {
    first = head_;
  }
  const std::uint64_t bytes = first.size() + (first.data() == data.data() ? 0 : data.size());
  const time_point deadline = detail::after(clock::now(), timeout_ + detail::rate_allowance(bytes, min_rate_));
  const auto put = [&](std::string_view part) -> task<> {
    if (part.empty()) co_return;
    co_await by_deadline(timeout_, deadline, s_->write_all(part), [&] {
      return fmt::format("coring::http: the peer did not take {} bytes of the body within the write timeout",
                         part.size());
    });
  };
  co_await put(first);
  if (first.data() != data.data()) co_await put(data);
  head_.clear();
  head_.shrink_to_fit();
  failed_ = false;
}

task<void> body_writer::write(std::string_view data) {
  if (data.empty()) co_return;
  if (framing_ == framing::length && written_ + data.size() > *length_)
    throw std::logic_error(fmt::format(
        "coring::http::body_writer: writing {} more bytes exceeds the announced length of {} ({} written); "
        "announce the right length or none (chunked)",
        data.size(), *length_, written_));
  if (framing_ == framing::chunked) {
    std::string frame = fmt::format("{:x}\r\n", data.size());
    frame.append(data);
    frame += "\r\n";
    co_await send(frame);
  } else {
    co_await send(data);
  }
  written_ += data.size();
}

task<void> body_writer::write_file(const coring::file& f, std::uint64_t offset, std::uint64_t length) {
  if (length == 0) co_return;
  if (framing_ == framing::length && written_ + length > *length_)
    throw std::logic_error(fmt::format(
        "coring::http::body_writer: writing {} more bytes exceeds the announced length of {} ({} written)", length,
        *length_, written_));
  const std::string chunk_head = framing_ == framing::chunked ? fmt::format("{:x}\r\n", length) : std::string();
  co_await send(chunk_head);
  failed_ = true;  // until the whole file part is out
  // The head may still be written behind (tcp_stream's write-behind): the splice below
  // writes to the socket directly and must not overtake it.
  co_await by_deadline(timeout_, detail::after(clock::now(), timeout_), s_->flush(), [] {
    return "coring::http: the peer did not take the response head within the write timeout";
  });
  pipe_fds p;
  std::uint64_t left = length;
  bool fallback = false;
  const auto short_file = [&] {
    return protocol_error(fmt::format("coring::http::body_writer::write_file: {} ends before offset {} + {} bytes",
                                      f.path(), offset, length));
  };
  while (left > 0 && !fallback) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, splice_piece));
    std::size_t n = 0;
    try {
      n = co_await coring::splice(f.native_handle(), static_cast<std::int64_t>(offset + (length - left)), p.w, -1, want,
                                  SPLICE_F_MOVE);
    } catch (const std::system_error& e) {
      if (e.code() != std::errc::invalid_argument || left != length) throw;
      fallback = true;  // this file system cannot splice: copy through a buffer instead
      break;
    }
    if (n == 0) throw short_file();
    const time_point deadline = detail::after(clock::now(), timeout_ + detail::rate_allowance(n, min_rate_));
    for (std::size_t moved = 0; moved < n;) {
      auto to_socket = coring::splice(p.r, -1, s_->native_handle(), -1, n - moved, SPLICE_F_MOVE | SPLICE_F_MORE);
      const std::size_t m = co_await by_deadline(timeout_, deadline, std::move(to_socket), [] {
        return "coring::http: the peer did not take the file's bytes within the write timeout";
      });
      moved += m;
    }
    left -= n;
    written_ += n;
  }
  if (fallback) {
    std::string buf(splice_piece, '\0');
    while (left > 0) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      const std::size_t n = co_await f.read_at(offset + (length - left), std::span<char>(buf.data(), want));
      if (n == 0) throw short_file();
      failed_ = false;
      co_await send(std::string_view(buf.data(), n));
      failed_ = true;
      left -= n;
      written_ += n;
    }
  }
  failed_ = false;
  if (framing_ == framing::chunked) co_await send("\r\n");
}

task<void> body_writer::finish() {
  if (framing_ == framing::chunked) {
    co_await send("0\r\n\r\n");
    co_return;
  }
  if (framing_ == framing::length && written_ != *length_)
    throw std::logic_error(fmt::format(
        "coring::http::body_writer: the producer wrote {} of the {} bytes it announced; write exactly body_length "
        "bytes, or leave body_length empty (chunked)",
        written_, *length_));
  if (!head_.empty()) co_await send({});
}

task<response> response::file(std::string path, std::string content_type) {
  // Shared: the producer is a std::function (copyable), the file is not.
  auto f = std::make_shared<coring::file>(co_await coring::file::open(std::move(path)));
  const std::uint64_t size = co_await f->size();
  co_return stream(
      200,
      [f, size](body_writer& w) -> task<> { co_await w.write_file(*f, 0, size); },
      std::move(content_type), size);
}

namespace detail {

task<void> produce(body_writer& w, const body_producer& producer) {
  co_await producer(w);
  co_await writer_access::finish(w);
}

streaming_handler whole_body(handler h) {
  // The lambda lives in the std::function serve() or the router keeps for as long as it
  // serves, so its coroutine frames may refer to the captured handler.
  return [h = std::move(h)](request& req, body_reader& body) -> task<response> {
    req.body = co_await body.read_all();
    co_return co_await h(req);
  };
}

}  // namespace detail

}  // namespace coring::http
