// Messages, headers and the http_parser glue shared by the client and the server.
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "coring/http.hpp"
#include "framing.hpp"

namespace coring::http {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

using detail::is_tchar;

void check_field(std::string_view name, std::string_view value) {
  if (name.empty())
    throw std::invalid_argument("coring::http::header_map: empty header name; give every header a name");
  for (char c : name)
    if (!is_tchar(c))
      throw std::invalid_argument(fmt::format(
          "coring::http::header_map: header name '{}' holds a character HTTP does not allow in names "
          "(use letters, digits and -)", name));
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0')
      throw std::invalid_argument(fmt::format(
          "coring::http::header_map: the value of header '{}' holds a CR, LF or NUL; a header value is one "
          "line (encode the data, e.g. percent-encode it)", name));
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

header_map::header_map(std::initializer_list<field> fields) {
  for (const auto& f : fields) add(f.first, f.second);
}

void header_map::add(std::string name, std::string value) {
  check_field(name, value);
  fields_.emplace_back(std::move(name), std::move(value));
}

void header_map::set(std::string name, std::string value) {
  check_field(name, value);
  erase(name);
  fields_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> header_map::get(std::string_view name) const {
  for (const auto& f : fields_)
    if (iequals(f.first, name)) return std::string_view(f.second);
  return std::nullopt;
}

std::size_t header_map::erase(std::string_view name) {
  return std::erase_if(fields_, [&](const field& f) { return iequals(f.first, name); });
}

namespace {

// The target without "scheme://authority" when it is an absolute URL.
std::string_view origin_part(std::string_view t) noexcept {
  if (t.empty() || t.front() == '/') return t;
  const auto scheme_end = t.find("://");
  if (scheme_end == std::string_view::npos) return t;
  const auto slash = t.find_first_of("/?#", scheme_end + 3);
  return slash == std::string_view::npos ? std::string_view() : t.substr(slash);
}

}  // namespace

std::string_view request::path() const noexcept {
  std::string_view t = origin_part(target);
  t = t.substr(0, t.find_first_of("?#"));
  return t.empty() ? std::string_view("/") : t;
}

std::string_view request::query() const noexcept {
  std::string_view t = origin_part(target);
  const auto q = t.find('?');
  if (q == std::string_view::npos) return {};
  t = t.substr(q + 1);
  return t.substr(0, t.find('#'));
}

void response::raise_for_status() const {
  if (status < 400) return;
  const std::string_view why = reason.empty() ? reason_phrase(status) : std::string_view(reason);
  std::string msg = fmt::format("HTTP {} {}", status, why);
  if (!url.empty()) msg += fmt::format(" for {} {}", method.empty() ? "GET" : method, url);
  throw status_error(status, msg);
}

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

std::string_view reason_phrase(int status) noexcept {
  if (status < 100 || status > 999) return "Unknown";
  const char* s = http_status_str(static_cast<http_status>(status));
  if (!s || s[0] == '<') return "Unknown";  // http_parser's "<unknown>"
  return s;
}

}  // namespace coring::http
