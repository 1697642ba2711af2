// Internal: what the client and the server share about message bodies — building a
// body_writer, finishing it, deadlines for a transfer. Not installed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "coring/http.hpp"
#include "coring/time.hpp"
#include "framing.hpp"

namespace coring::http::detail {

// from + d, saturating: a timeout too large to represent means "in a century".
inline time_point after(time_point from, duration d) noexcept {
  constexpr duration far = std::chrono::hours(24 * 365 * 100);
  return from + std::min(d, far);
}

// The extra time a transfer of `bytes` earns at `bytes_per_second` (0: none).
inline duration rate_allowance(std::uint64_t bytes, std::size_t bytes_per_second) noexcept {
  if (bytes_per_second == 0) return duration::zero();
  return std::chrono::duration_cast<duration>(
      std::chrono::duration<double>(static_cast<double>(bytes) / static_cast<double>(bytes_per_second)));
}

struct writer_access {
  // A writer that sends `head` (the message head, already framed as `f` says) with its first
  // write; each write must finish within timeout (+ min_rate allowance), 0: no deadline.
  static body_writer make(tcp_stream& s, body_framing f, std::string head, std::chrono::milliseconds timeout,
                          std::size_t min_rate) {
    using fr = body_writer::framing;
    return body_writer(s, f.how == body_framing::chunked ? fr::chunked : f.how == body_framing::until_close ? fr::until_close : fr::length,
                       f.how == body_framing::none ? std::optional<std::uint64_t>(0) : f.size, std::move(head), timeout, min_rate);
  }
  // Sends what ends the body (the last chunk; the head if nothing was written). Errors:
  // std::logic_error when fewer bytes than the announced length were written.
  static task<void> finish(body_writer& w) { return w.finish(); }
  // The head went out: an error can no longer be answered with a status.
  static bool started(const body_writer& w) noexcept { return w.head_.empty(); }
  static bool failed(const body_writer& w) noexcept { return w.failed_; }
};

// Runs `producer` on a writer and finishes the body; the head goes out with the first write.
task<void> produce(body_writer& w, const body_producer& producer);

// A streaming handler that reads the whole body (body_reader::read_all) into req.body,
// then calls `h`.
streaming_handler whole_body(handler h);

// "HTTP 404 Not Found for GET http://..." as status_error, for status >= 400.
void raise_for_status(int status, std::string_view reason, std::string_view method, std::string_view url);

}  // namespace coring::http::detail
