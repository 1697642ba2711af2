// Requests and responses: the response helpers a handler builds its answer with.
#include <memory>
#include <string>

#include <http_parser.h>

#include "body.hpp"
#include "coring/http.hpp"

namespace coring::http {

void response::raise_for_status() const { detail::raise_for_status(status, reason, method, url); }

response response::text(int status, std::string body) {
  return with_body(status, std::move(body), "text/plain; charset=utf-8");
}

response response::with_body(int status, std::string body, std::string content_type) {
  response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.set("Content-Type", std::move(content_type));
  return r;
}

response response::stream(int status, body_producer producer, std::string content_type,
                          std::optional<std::uint64_t> length) {
  if (!producer)
    throw std::invalid_argument("coring::http::response::stream: the producer is empty; pass a callable that writes the body");
  response r;
  r.status = status;
  r.headers.set("Content-Type", std::move(content_type));
  r.body_stream = std::move(producer);
  r.body_length = length;
  return r;
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

std::string_view reason_phrase(int status) noexcept {
  if (status < 100 || status > 999) return "Unknown";
  const char* s = http_status_str(static_cast<http_status>(status));
  if (!s || s[0] == '<') return "Unknown";  // http_parser's "<unknown>"
  return s;
}

}  // namespace coring::http
