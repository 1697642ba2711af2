// URL pieces: a request's path and query, percent-decoding and query strings.
#include <string>

#include <fmt/format.h>

#include "coring/http.hpp"

namespace coring::http {

namespace {

// The target without "scheme://authority" when it is an absolute URL.
std::string_view origin_part(std::string_view t) noexcept {
  if (t.empty() || t.front() == '/') return t;
  const auto scheme_end = t.find("://");
  if (scheme_end == std::string_view::npos) return t;
  const auto slash = t.find_first_of("/?#", scheme_end + 3);
  return slash == std::string_view::npos ? std::string_view() : t.substr(slash);
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool unreserved(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
         c == '_' || c == '~';
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

std::string percent_decode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '+' && plus_as_space) {
      out += ' ';
    } else if (c != '%') {
      out += c;
    } else {
      const int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
      const int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        throw std::invalid_argument(fmt::format(
            "coring::http::percent_decode: '%' at offset {} of '{}' is not followed by two hex digits; "
            "write a literal '%' as %25",
            i, s));
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

std::string percent_encode(std::string_view s, std::string_view safe) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (unreserved(c) || safe.find(c) != std::string_view::npos) {
      out += c;
    } else {
      const auto b = static_cast<unsigned char>(c);
      out += '%';
      out += digits[b >> 4];
      out += digits[b & 15];
    }
  }
  return out;
}

std::optional<std::string_view> param_map::get(std::string_view name) const noexcept {
  for (const auto& p : params_)
    if (p.first == name) return std::string_view(p.second);
  return std::nullopt;
}

std::vector<std::string> param_map::get_all(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& p : params_)
    if (p.first == name) out.push_back(p.second);
  return out;
}

param_map parse_query(std::string_view query) {
  param_map out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    const auto eq = piece.find('=');
    const std::string_view name = piece.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    out.add(percent_decode(name, true), percent_decode(value, true));
  }
  return out;
}

}  // namespace coring::http
