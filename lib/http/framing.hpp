// Internal: HTTP/1.x message framing without sockets — bytes in, requests / responses out.
// The server (requests) and the client (responses) use it for real, and the fuzz targets
// under tests/fuzz drive exactly this code. Not installed.
//
// Two layers check every message:
//   1. head_scanner reads the start line and the header section byte by byte and refuses
//      what RFC 9112 forbids before any other code sees it: whitespace before a colon,
//      obs-fold, CR / LF / NUL (and other control characters) in a value, bare CR, a start
//      line or header section over its limit, an unsupported version.
//   2. http_parser (libhttp-parser) parses the validated head and the body; the callback at
//      the end of the head checks what needs all fields: Host, Content-Length against
//      Transfer-Encoding, and that http_parser's own framing decision matches ours.
// So a message is either framed the same way by every reading or refused.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "coring/http.hpp"

namespace coring::http::detail {

// RFC 9110 token characters (methods, header names).
bool is_tchar(char c) noexcept;
// True for a non-empty RFC 9110 token.
bool is_token(std::string_view s) noexcept;

// Size limits of a message head.
struct head_limits {
  std::size_t max_start_line = 8 * 1024;     // request line / status line, without CRLF
  std::size_t max_header_bytes = 16 * 1024;  // the field lines and the empty line after them
  std::size_t max_header_count = 100;        // field lines
};

// The incremental RFC 9112 checker of one message head (start line + fields + empty line).
class head_scanner {
 public:
  explicit head_scanner(bool request, head_limits lim) noexcept : request_(request), lim_(lim) {}
  // Scans data[0, n) and returns how many bytes belong to the head: all n while it is not
  // complete, or up to and including the LF of the empty line that ends it. After an
  // error, failed() is true and error_status() / error_text() say why.
  std::size_t scan(const char* data, std::size_t n) noexcept;
  bool done() const noexcept { return state_ == state::done; }
  bool failed() const noexcept { return status_ != 0; }
  bool started() const noexcept { return state_ != state::start || skipped_ > 0; }
  int error_status() const noexcept { return status_; }
  const char* error_text() const noexcept { return why_; }
  // True when the start line had the shape "token SP target SP HTTP/d.d" (requests).
  bool well_formed_request_line() const noexcept { return spaces_ == 2 && method_ok_ && version_ok_; }
  void reset() noexcept { *this = head_scanner(request_, lim_); }

 private:
  enum class state : unsigned char { start, start_cr, first_line, first_cr, line_begin, name, value, value_cr, end_cr, done };
  std::size_t fail(int status, const char* why, std::size_t at) noexcept;
  bool end_first_line() noexcept;
  bool status_code_ok() const noexcept;  // the current word is a 3-digit status code

  bool request_;
  head_limits lim_;
  state state_ = state::start;
  std::size_t line_len_ = 0;      // bytes of the start line so far
  std::size_t header_bytes_ = 0;  // bytes after the start line so far
  std::size_t fields_ = 0;
  std::size_t skipped_ = 0;       // empty lines before the start line
  unsigned spaces_ = 0;           // SPs in the start line
  bool method_ok_ = true;
  bool version_ok_ = false;
  char word_[16] = {};            // the start line's current word (the version, for requests)
  std::size_t word_len_ = 0;
  char first_word_[16] = {};      // the start line's first word (the version, for responses)
  std::size_t first_word_len_ = 0;
  int status_ = 0;
  const char* why_ = "";
};

// One HTTP/1.x message stream: requests (server) or responses (client).
class message_parser {
 public:
  // What feed() stopped at.
  enum class event {
    more,             // every byte was consumed; the message is not complete yet
    message,          // a whole message is ready (take_request / take_response, then next_message)
    expect_continue,  // the request head asked for "Expect: 100-continue"; feed the rest after answering
    error,            // malformed input; see error_status() / error_text()
    head,             // streaming mode: the head is complete (take_request / take_response); the body follows
  };

  message_parser(http_parser_type type, std::size_t max_body, head_limits lim = {});
  message_parser(const message_parser&) = delete;
  message_parser& operator=(const message_parser&) = delete;

  // Parses data[0, n); `used` is how many bytes were consumed (the rest belongs to the
  // next message, or is the body after expect_continue: feed it again).
  event feed(const char* data, std::size_t n, std::size_t& used);
  // Tells the parser the peer closed its side: completes a body that runs to EOF.
  event feed_eof();
  // Forgets the finished message and continues with the next one on the same stream.
  void next_message();

  // The finished message (after event::message), moved out.
  request take_request();
  response take_response();

  bool skip_body = false;  // responses to HEAD: the headers end the message

  // Streaming mode (set before the first feed): feed() stops with event::head once a head
  // is complete, body bytes collect in body_data() (the caller empties it with
  // clear_body() between feeds, so it never holds more than one feed's worth), the body
  // size limit is the caller's business, and Expect: 100-continue is reported by
  // expects_continue() instead of event::expect_continue.
  void set_streaming(bool on) noexcept { streaming_ = on; }
  std::string_view body_data() const noexcept { return body_; }
  void clear_body() noexcept { body_.clear(); }
  // The current message is complete (its last body bytes may still be in body_data()).
  bool complete() const noexcept { return complete_; }
  // The request head asked for "Expect: 100-continue" (HTTP/1.1).
  bool expects_continue() const noexcept { return want_continue_; }
  // The framing the head announced: a Content-Length (nothing for chunked or EOF bodies).
  std::optional<std::uint64_t> content_length() const noexcept { return head_length_; }

  // Some byte of the current message was seen.
  bool started() const noexcept { return scanner_.started(); }
  // The head of the current message is complete (its body may follow).
  bool head_done() const noexcept { return head_done_; }
  std::size_t body_size() const noexcept { return body_.size(); }
  // Both sides may keep the connection after this message (HTTP/1.1 without
  // "Connection: close", or 1.0 with "keep-alive"; never for an EOF-terminated body).
  bool keep_alive() const noexcept { return http_should_keep_alive(&p_) != 0 && !p_.upgrade; }
  int version_major() const noexcept { return p_.http_major; }
  int version_minor() const noexcept { return p_.http_minor; }
  // After event::error: the status a server answers with (400, 413, 414, 431, 501, 505)
  // and a one-line reason.
  int error_status() const noexcept { return error_status_; }
  std::string error_text() const;

 private:
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
  int check_head();
  int reject(int status, std::string why);
  event execute(const char* data, std::size_t n, std::size_t& parsed);
  event after_execute(std::size_t parsed, std::size_t n);
  void reset_message();
  bool interim() const noexcept;  // a 1xx response other than 101

  http_parser p_;
  std::size_t max_body_;
  head_scanner scanner_;
  std::string head_buf_;  // a head that straddles reads, fed to http_parser once complete
  std::string url_, reason_, body_;
  header_map headers_;
  std::string field_, value_;
  bool in_value_ = false;
  bool streaming_ = false;
  std::optional<std::uint64_t> head_length_;
  bool head_done_ = false;
  bool complete_ = false;
  bool want_continue_ = false;
  int error_status_ = 0;
  std::string error_;
};

// How a body that follows a head is framed: nothing (HEAD, 204, 304, no body), a
// Content-Length of `size`, chunked, or until the connection closes (HTTP/1.0 streams).
struct body_framing {
  enum kind { none, length, chunked, until_close } how;
  std::optional<std::uint64_t> size;
};

// The framing the server gives `r` (to a HEAD request when `head`, to HTTP/1.0 when http10).
body_framing response_framing(const response& r, bool head, bool http10) noexcept;

// A response head (status line, the handler's fields but its framing ones, Server, Date,
// the framing `f` announces, Connection), ending with the empty line.
std::string serialize_head(const response& r, bool keep, bool http10, std::string_view server_name,
                           std::string_view date, body_framing f);

// Serializes a response the server sends. The server frames the body itself: the
// handler's Content-Length / Transfer-Encoding / Connection fields are replaced, so a
// response never carries both; HEAD, 1xx, 204 and 304 responses carry no body (and 204 /
// 304 no Content-Length). `date` and `server_name` may be empty (then omitted).
std::string serialize_response(const response& r, bool head, bool keep, bool http10, std::string_view server_name,
                               std::string_view date);
// Why a handler's response cannot be sent (a status outside 200-999, a field with a bad
// name or a CR / LF / NUL), or nullptr when it can.
const char* invalid_response(const response& r) noexcept;

}  // namespace coring::http::detail
