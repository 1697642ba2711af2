// Internal: one HTTP/1.x message stream parsed by http_parser (libhttp-parser), shared by
// the client (responses) and the server (requests). Not installed.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "coring/http.hpp"

namespace coring::http::detail {

// True for a non-empty RFC 9110 token (a method, a header name).
bool is_token(std::string_view s) noexcept;

class message_parser {
 public:
  // What feed() stopped at.
  enum class event {
    more,             // every byte was consumed; the message is not complete yet
    message,          // a whole message is ready (the parser is paused after it)
    expect_continue,  // request headers asked for "Expect: 100-continue" (paused)
    error,            // malformed input; see error_text()
  };

  message_parser(http_parser_type type, std::size_t max_body);
  message_parser(const message_parser&) = delete;
  message_parser& operator=(const message_parser&) = delete;

  // Parses data[0, n); `used` is how many bytes were consumed (the rest belongs to the
  // next message, or must be fed again after resume() for expect_continue).
  event feed(const char* data, std::size_t n, std::size_t& used);
  // Tells the parser the peer closed its side: completes a body that runs to EOF.
  event feed_eof();
  // Continues after expect_continue.
  void resume() noexcept;
  // Forgets the finished message and continues with the next one on the same stream.
  void next_message();

  // The message so far (complete after event::message).
  std::string url;         // requests: the target
  std::string reason;      // responses: the reason phrase
  header_map headers;
  std::string body;
  bool skip_body = false;  // responses to HEAD: the headers end the message

  int status() const noexcept { return static_cast<int>(p_.status_code); }
  const char* method() const noexcept { return http_method_str(static_cast<http_method>(p_.method)); }
  int version_major() const noexcept { return p_.http_major; }
  int version_minor() const noexcept { return p_.http_minor; }
  // Both sides may keep the connection after this message (HTTP/1.1 without
  // "Connection: close", or 1.0 with "keep-alive"; never for an EOF-terminated body or an
  // upgrade).
  bool keep_alive() const noexcept { return http_should_keep_alive(&p_) != 0 && !p_.upgrade; }
  // Some bytes of the current message were seen.
  bool started() const noexcept { return started_; }
  bool body_too_large() const noexcept { return body_too_large_; }
  std::string error_text() const;

 private:
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, std::size_t n);
  static int on_status(http_parser* p, const char* at, std::size_t n);
  static int on_header_field(http_parser* p, const char* at, std::size_t n);
  static int on_header_value(http_parser* p, const char* at, std::size_t n);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, std::size_t n);
  static int on_message_complete(http_parser* p);
  static const http_parser_settings settings_;
  static message_parser& self(http_parser* p) noexcept { return *static_cast<message_parser*>(p->data); }
  void flush_field();
  event classify(std::size_t parsed, std::size_t n, std::size_t& used);

  http_parser p_;
  std::size_t max_body_;
  std::string field_, value_;
  bool in_value_ = false;
  bool started_ = false;
  bool complete_ = false;
  bool want_continue_ = false;
  bool body_too_large_ = false;
};

}  // namespace coring::http::detail
