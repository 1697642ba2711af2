// router: method + path pattern -> handler, with 404 and 405 + Allow.
#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "body.hpp"
#include "coring/http.hpp"
#include "framing.hpp"

namespace coring::http {

namespace {

// The path's segments after the leading '/': "/a/b" -> {"a", "b"}, "/" -> {""}.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  for (;;) {
    const auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::invalid_argument bad_pattern(std::string_view pattern, std::string_view why) {
  return std::invalid_argument(fmt::format("coring::http::router: pattern '{}' {}", pattern, why));
}

}  // namespace

router& router::route(std::string_view method, std::string_view pattern, handler h) {
  if (!h) throw std::invalid_argument(fmt::format("coring::http::router: the handler for {} {} is empty", method, pattern));
  return add(method, pattern, detail::whole_body(std::move(h)));
}

router& router::route(std::string_view method, std::string_view pattern, streaming_handler h) {
  if (!h) throw std::invalid_argument(fmt::format("coring::http::router: the handler for {} {} is empty", method, pattern));
  return add(method, pattern, std::move(h));
}

router& router::add(std::string_view method, std::string_view pattern, streaming_handler h) {
  if (!detail::is_token(method))
    throw std::invalid_argument(fmt::format("coring::http::router: method '{}' is not an HTTP token; use GET, POST, ...", method));
  if (pattern.empty() || pattern.front() != '/') throw bad_pattern(pattern, "does not start with '/'");
  entry e{std::string(method), {}, std::move(h)};
  const auto parts = split_path(pattern);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string_view part = parts[i];
    segment seg;
    if (part.find_first_of("{}") == std::string_view::npos) {
      seg.text = std::string(part);
    } else {
      if (part.size() < 2 || part.front() != '{' || part.back() != '}' ||
          part.substr(1, part.size() - 2).find_first_of("{}") != std::string_view::npos)
        throw bad_pattern(pattern, fmt::format("has segment '{}': a parameter is a whole segment, '{{name}}'", part));
      std::string_view name = part.substr(1, part.size() - 2);
      seg.param = true;
      if (name.ends_with("...")) {
        if (i + 1 != parts.size()) throw bad_pattern(pattern, fmt::format("has '{}' before its end; '{{name...}}' must be last", part));
        seg.rest = true;
        name.remove_suffix(3);
      }
      if (name.empty()) throw bad_pattern(pattern, "has a parameter without a name");
      for (const segment& other : e.pattern)
        if (other.param && other.text == name) throw bad_pattern(pattern, fmt::format("names parameter '{}' twice", name));
      seg.text = std::string(name);
    }
    e.pattern.push_back(std::move(seg));
  }
  routes_.push_back(std::move(e));
  return *this;
}

task<response> router::operator()(request& req, body_reader& body) const {
  const std::string_view raw = req.path();
  const auto path = split_path(raw);
  std::vector<std::string> decoded;
  decoded.reserve(path.size());
  bool malformed = false;
  std::string why;
  try {
    for (std::string_view seg : path) decoded.push_back(percent_decode(seg));
  } catch (const std::invalid_argument& e) {
    malformed = true;
    why = e.what();
  }
  if (malformed) co_return response::text(400, fmt::format("Bad Request: {}\n", why));

  const auto matches = [&](const entry& e, param_map* params) {
    const auto& pat = e.pattern;
    const bool rest = !pat.empty() && pat.back().rest;
    const std::size_t fixed = rest ? pat.size() - 1 : pat.size();
    if (rest ? decoded.size() < fixed : decoded.size() != fixed) return false;
    for (std::size_t i = 0; i < fixed; ++i) {
      if (pat[i].param ? decoded[i].empty() : decoded[i] != pat[i].text) return false;
    }
    if (!params) return true;
    for (std::size_t i = 0; i < fixed; ++i)
      if (pat[i].param) params->add(pat[i].text, decoded[i]);
    if (rest) {
      std::string tail;
      for (std::size_t i = fixed; i < decoded.size(); ++i) {
        if (i > fixed) tail += '/';
        tail += decoded[i];
      }
      params->add(pat.back().text, std::move(tail));
    }
    return true;
  };

  std::vector<std::string_view> allowed;
  for (const entry& e : routes_) {
    if (!matches(e, nullptr)) continue;
    if (e.method == req.method || (req.method == "HEAD" && e.method == "GET")) {
      req.params = param_map();
      matches(e, &req.params);
      co_return co_await e.h(req, body);
    }
    allowed.push_back(e.method);
    if (e.method == "GET") allowed.push_back("HEAD");
  }
  if (allowed.empty()) co_return response::text(404, fmt::format("Not Found: no route for {}\n", raw));
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  std::string allow;
  for (std::string_view m : allowed) {
    if (!allow.empty()) allow += ", ";
    allow += m;
  }
  response r = response::text(405, fmt::format("Method Not Allowed: {} allows {}\n", raw, allow));
  r.headers.set("Allow", std::move(allow));
  co_return r;
}

}  // namespace coring::http
