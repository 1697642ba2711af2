// Shared by the libFuzzer targets: feeding one byte stream to coring_http's framing code
// (lib/http/framing.hpp) the way the server and the client do, once in one piece and once
// cut into small pieces, and recording every message and the final error. The two runs
// must agree: no framing decision may depend on how the bytes arrive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "framing.hpp"

namespace coring_fuzz {

namespace detail = coring::http::detail;
using event = detail::message_parser::event;

struct transcript {
  std::vector<std::string> messages;  // each message, flattened
  int error = 0;                      // the error status that ended the stream, if any
  bool operator==(const transcript&) const = default;
};

inline void append_headers(std::string& out, const coring::http::header_map& h) {
  for (const auto& [name, value] : h) {
    out += name;
    out += ':';
    out += value;
    out += '\n';
  }
}

// A message head flattened for a transcript (the caller appends the body).
inline std::string flatten_head(const coring::http::request& r) {
  std::string out = r.method + ' ' + r.target + ' ' + std::to_string(r.version_minor) + '\n';
  append_headers(out, r.headers);
  return out;
}
inline std::string flatten_head(const coring::http::response& r) {
  std::string out = std::to_string(r.status) + ' ' + r.reason + '\n';
  append_headers(out, r.headers);
  return out;
}

[[noreturn]] inline void finding(const char* what) {
  std::fprintf(stderr, "fuzz finding: %s\n", what);
  std::abort();
}

// Piece sizes come from the data itself (1 to 16 bytes), so a seed is a plain message.
inline std::size_t piece_size(const std::uint8_t* data, std::size_t n, std::size_t pos) {
  return 1 + data[(pos * 7 + 3) % n] % 16;
}

// Drives `mp` over data[0, n) in pieces (or whole), calling on_message(mp) for each
// message; on_message returns false when the connection would end after it.
template <class OnMessage>
transcript drive(detail::message_parser& mp, const std::uint8_t* data, std::size_t n, bool pieces, OnMessage on_message) {
  transcript t;
  std::size_t pos = 0;
  while (pos < n) {
    const std::size_t len = pieces ? std::min(piece_size(data, n, pos), n - pos) : n - pos;
    const char* chunk = reinterpret_cast<const char*>(data + pos);
    std::size_t begin = 0;
    while (begin < len) {
      std::size_t used = 0;
      const event ev = mp.feed(chunk + begin, len - begin, used);
      if (used > len - begin) finding("feed consumed more than it was given");
      begin += used;
      if (ev == event::more) {
        if (begin != len) finding("event::more without consuming everything");
        break;
      }
      if (ev == event::error) {
        t.error = mp.error_status();
        return t;
      }
      if (ev == event::expect_continue) continue;
      std::string m;
      if (!on_message(mp, m)) {
        t.messages.push_back(std::move(m));
        return t;
      }
      t.messages.push_back(std::move(m));
      mp.next_message();
    }
    pos += len;
  }
  const event ev = mp.feed_eof();
  if (ev == event::error) t.error = mp.error_status();
  if (ev == event::message) {
    std::string m;
    on_message(mp, m);
    t.messages.push_back(std::move(m));
  }
  return t;
}

}  // namespace coring_fuzz
