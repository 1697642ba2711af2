// gzip decoding through zlib (optional: without zlib, gzip_supported() is false and the
// client refuses client_options::decompress).
#include "gzip.hpp"

#include <fmt/format.h>

#if CORING_HTTP_ZLIB
#include <zlib.h>
#endif

namespace coring::http {

#if CORING_HTTP_ZLIB
bool gzip_supported() noexcept { return true; }
#else
bool gzip_supported() noexcept { return false; }
#endif

namespace detail {

#if CORING_HTTP_ZLIB

namespace {

constexpr std::size_t inflate_chunk = 64 * 1024;

class gzip_source final : public body_source {
 public:
  gzip_source(body_source& inner, std::string what) : inner_(inner), what_(std::move(what)), out_(inflate_chunk, '\0') {
    // 16 + MAX_WBITS: a gzip wrapper (header and CRC checked), not raw deflate or zlib.
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK)
      throw std::runtime_error(fmt::format("{}: zlib inflateInit2 failed", what_));
  }
  ~gzip_source() override { inflateEnd(&z_); }
  gzip_source(const gzip_source&) = delete;
  gzip_source& operator=(const gzip_source&) = delete;

  task<std::string_view> next() override {
    for (;;) {
      if (z_.avail_in == 0) {
        if (input_done_) {
          if (!member_done_) throw protocol_error(fmt::format("{}: the gzip body is truncated", what_));
          co_return std::string_view();
        }
        const std::string_view in = co_await inner_.next();
        if (in.empty()) {
          input_done_ = true;
          continue;
        }
        z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        z_.avail_in = static_cast<uInt>(in.size());
      }
      if (member_done_) {  // another gzip member follows the one that ended
        inflateReset(&z_);
        member_done_ = false;
      }
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        member_done_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw protocol_error(fmt::format("{}: the gzip body is corrupt ({})", what_, z_.msg ? z_.msg : "zlib error"));
      }
      const std::size_t produced = out_.size() - z_.avail_out;
      if (produced > 0) co_return std::string_view(out_.data(), produced);
    }
  }
  std::optional<std::uint64_t> length() const noexcept override { return std::nullopt; }

 private:
  body_source& inner_;
  std::string what_;
  std::string out_;
  z_stream z_{};
  bool input_done_ = false;
  bool member_done_ = false;
};

}  // namespace

std::unique_ptr<body_source> make_gzip_source(body_source& inner, std::string what) {
  return std::make_unique<gzip_source>(inner, std::move(what));
}

#else

std::unique_ptr<body_source> make_gzip_source(body_source&, std::string what) {
  throw std::logic_error(fmt::format("{}: coring_http was built without zlib", what));
}

#endif

}  // namespace detail

}  // namespace coring::http
