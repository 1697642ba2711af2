// Responses: the helpers a handler builds its answer with, and status errors (no I/O here:
// the fuzz targets link this file).
#include <string>

#include <http_parser.h>

#include <fmt/format.h>

#include "body.hpp"
#include "coring/http.hpp"

namespace coring::http {

namespace detail {

void raise_for_status(int status, std::string_view reason, std::string_view method, std::string_view url) {
  if (status < 400) return;
  const std::string_view why = reason.empty() ? reason_phrase(status) : reason;
  std::string msg = fmt::format("HTTP {} {}", status, why);
  if (!url.empty()) msg += fmt::format(" for {} {}", method.empty() ? "GET" : method, url);
  throw status_error(status, msg);
}

}  // namespace detail

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

std::string_view reason_phrase(int status) noexcept {
  if (status < 100 || status > 999) return "Unknown";
  const char* s = http_status_str(static_cast<http_status>(status));
  if (!s || s[0] == '<') return "Unknown";  // http_parser's "<unknown>"
  return s;
}

}  // namespace coring::http
