// header_map: ordered, case-insensitive header fields, checked as they are added.
#include <string>

#include <fmt/format.h>

#include "coring/http.hpp"
#include "framing.hpp"

namespace coring::http {

namespace {

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

void check_field(std::string_view name, std::string_view value) {
  if (name.empty())
    throw std::invalid_argument("coring::http::header_map: empty header name; give every header a name");
  for (char c : name)
    if (!detail::is_tchar(c))
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

}  // namespace coring::http
