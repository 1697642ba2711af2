// Messages, headers and the http_parser glue shared by the client and the server.
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "coring/http.hpp"
#include "parser.hpp"

namespace coring::http {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// RFC 9110 token characters (header names, methods).
bool is_tchar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != '\0';
}

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

bool detail::is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
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

// ---- http_parser glue ----

namespace detail {

const http_parser_settings message_parser::settings_ = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_message_begin = &message_parser::on_message_begin;
  s.on_url = &message_parser::on_url;
  s.on_status = &message_parser::on_status;
  s.on_header_field = &message_parser::on_header_field;
  s.on_header_value = &message_parser::on_header_value;
  s.on_headers_complete = &message_parser::on_headers_complete;
  s.on_body = &message_parser::on_body;
  s.on_message_complete = &message_parser::on_message_complete;
  return s;
}();

message_parser::message_parser(http_parser_type type, std::size_t max_body) : max_body_(max_body) {
  http_parser_init(&p_, type);
  p_.data = this;
}

void message_parser::flush_field() {
  if (in_value_) {
    headers.add_unchecked(std::move(field_), std::move(value_));
    field_.clear();
    value_.clear();
    in_value_ = false;
  }
}

int message_parser::on_message_begin(http_parser* p) {
  self(p).started_ = true;
  return 0;
}

int message_parser::on_url(http_parser* p, const char* at, std::size_t n) {
  self(p).url.append(at, n);
  return 0;
}

int message_parser::on_status(http_parser* p, const char* at, std::size_t n) {
  self(p).reason.append(at, n);
  return 0;
}

// A field name or value may arrive in several pieces when it straddles two reads.
int message_parser::on_header_field(http_parser* p, const char* at, std::size_t n) {
  message_parser& m = self(p);
  m.flush_field();
  m.field_.append(at, n);
  return 0;
}

int message_parser::on_header_value(http_parser* p, const char* at, std::size_t n) {
  message_parser& m = self(p);
  m.in_value_ = true;
  m.value_.append(at, n);
  return 0;
}

int message_parser::on_headers_complete(http_parser* p) {
  message_parser& m = self(p);
  m.flush_field();
  if (p->type == HTTP_REQUEST) {
    // Refuse an oversized body before the client sends it (and before 100 Continue).
    if (auto cl = m.headers.get("Content-Length")) {
      std::uint64_t len = 0;
      for (char c : *cl) {
        if (c < '0' || c > '9') break;
        len = len * 10 + static_cast<std::uint64_t>(c - '0');
        if (len > m.max_body_) break;
      }
      if (len > m.max_body_) {
        m.body_too_large_ = true;
        return -1;
      }
    }
    if (auto e = m.headers.get("Expect"); e && iequals(*e, "100-continue") && p->http_minor >= 1) {
      m.want_continue_ = true;
      http_parser_pause(p, 1);
    }
    return 0;
  }
  // A 1xx interim response has no body and is followed by the real one.
  return m.skip_body ? 1 : 0;
}

int message_parser::on_body(http_parser* p, const char* at, std::size_t n) {
  message_parser& m = self(p);
  if (m.body.size() + n > m.max_body_) {
    m.body_too_large_ = true;
    return -1;
  }
  m.body.append(at, n);
  return 0;
}

int message_parser::on_message_complete(http_parser* p) {
  message_parser& m = self(p);
  if (p->type == HTTP_RESPONSE && p->status_code >= 100 && p->status_code < 200 && p->status_code != 101) {
    // Interim response (100 Continue, 103 Early Hints): drop it and read on.
    m.reason.clear();
    m.headers = header_map();
    m.body.clear();
    return 0;
  }
  m.complete_ = true;
  http_parser_pause(p, 1);
  return 0;
}

message_parser::event message_parser::classify(std::size_t parsed, std::size_t n, std::size_t& used) {
  used = parsed;
  const auto err = static_cast<http_errno>(p_.http_errno);
  if (err == HPE_PAUSED) {
    if (complete_) return event::message;
    if (want_continue_) return event::expect_continue;
    return event::error;
  }
  if (err != HPE_OK) return event::error;
  if (complete_) return event::message;
  // An upgrade stops the parser after the headers; we do not speak other protocols.
  if (p_.upgrade) return event::error;
  used = n;
  return event::more;
}

message_parser::event message_parser::feed(const char* data, std::size_t n, std::size_t& used) {
  if (n == 0) {
    used = 0;
    return event::more;
  }
  const std::size_t parsed = http_parser_execute(&p_, &settings_, data, n);
  return classify(parsed, n, used);
}

message_parser::event message_parser::feed_eof() {
  static const char none = '\0';
  const std::size_t parsed = http_parser_execute(&p_, &settings_, &none, 0);
  std::size_t used = 0;
  const event e = classify(parsed, 0, used);
  return e == event::more && started_ ? event::error : e;
}

void message_parser::resume() noexcept {
  want_continue_ = false;
  http_parser_pause(&p_, 0);
}

void message_parser::next_message() {
  url.clear();
  reason.clear();
  headers = header_map();
  body.clear();
  field_.clear();
  value_.clear();
  in_value_ = false;
  started_ = false;
  complete_ = false;
  want_continue_ = false;
  http_parser_pause(&p_, 0);
}

std::string message_parser::error_text() const {
  if (body_too_large_) return fmt::format("body larger than the limit of {} bytes", max_body_);
  const auto err = static_cast<http_errno>(p_.http_errno);
  if (err == HPE_OK && p_.upgrade) return "protocol upgrade requested (not supported)";
  if (err == HPE_OK || err == HPE_PAUSED) return "incomplete message";
  return fmt::format("{} ({})", http_errno_description(err), http_errno_name(err));
}

}  // namespace detail

}  // namespace coring::http
