// HTTP/1.x framing without sockets: the RFC 9112 head checker, the http_parser glue, and
// the response serializer (see framing.hpp for why there are two layers of checks).
#include "framing.hpp"

#include <cstring>
#include <string>

#include <fmt/format.h>

namespace coring::http::detail {

bool is_tchar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

bool is_token(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

namespace {

// Field values and start lines may hold HTAB, SP, visible characters and obs-text; any
// other control character (NUL, a lone CR, DEL...) is refused.
bool is_ctl(unsigned char c) noexcept { return (c < 0x20 && c != '\t') || c == 0x7f; }

bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

// ---- head_scanner ----

bool head_scanner::status_code_ok() const noexcept {
  if (word_len_ != 3 || word_[0] < '1' || word_[0] > '9') return false;
  return word_[1] >= '0' && word_[1] <= '9' && word_[2] >= '0' && word_[2] <= '9';
}

std::size_t head_scanner::fail(int status, const char* why, std::size_t at) noexcept {
  status_ = status;
  why_ = why;
  return at;
}

// The version is the last word of a request line and the first of a status line.
bool head_scanner::end_first_line() noexcept {
  // A request target holds no space (RFC 9112 3.2): exactly two separate the three parts.
  if (request_ && spaces_ != 2) {
    fail(400, "a malformed request line (expected: method SP target SP version)", 0);
    return false;
  }
  // A status line is version SP 3DIGIT [SP reason] (RFC 9112 4).
  if (!request_ && (spaces_ == 0 || (spaces_ == 1 && !status_code_ok()))) {
    fail(400, "a status line without a 3-digit status code", 0);
    return false;
  }
  if (spaces_ == 0) {
    first_word_len_ = word_len_;
  }
  const std::string_view v = request_ ? std::string_view(word_, std::min(word_len_, sizeof word_))
                                      : std::string_view(first_word_, std::min(first_word_len_, sizeof first_word_));
  const std::size_t len = request_ ? word_len_ : first_word_len_;
  if (len > sizeof word_ || !v.starts_with("HTTP/")) return true;  // not a version: http_parser refuses it
  std::size_t i = 5, major_digits = 0;
  while (i < v.size() && v[i] >= '0' && v[i] <= '9') ++i, ++major_digits;
  if (major_digits == 0) return true;
  if (major_digits != 1 || v[5] != '1') {
    fail(505, "HTTP version not supported (send HTTP/1.1 or HTTP/1.0)", 0);
    return false;
  }
  version_ok_ = i + 1 < v.size() && v[i] == '.' && v[i + 1] >= '0' && v[i + 1] <= '9';
  return true;
}

std::size_t head_scanner::scan(const char* data, std::size_t n) noexcept {
  if (failed() || done()) return 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    if (state_ >= state::line_begin && ++header_bytes_ > lim_.max_header_bytes)
      return fail(request_ ? 431 : 400, "header section larger than the limit", i);
    switch (state_) {
      case state::start:
        // RFC 9112 2.2: empty lines before the start line are ignored (a few).
        if (c == '\r' || c == '\n') {
          if (++skipped_ > 8) return fail(400, "empty lines instead of a start line", i);
          if (c == '\r') state_ = state::start_cr;
          continue;
        }
        state_ = state::first_line;
        [[fallthrough]];
      case state::first_line:
        if (c == '\r') {
          state_ = state::first_cr;
          continue;
        }
        if (c == '\n') {
          if (!end_first_line()) return i;
          state_ = state::line_begin;
          continue;
        }
        if (++line_len_ > lim_.max_start_line)
          return fail(request_ ? 414 : 400, request_ ? "request line longer than the limit" : "status line longer than the limit", i);
        if (is_ctl(c)) return fail(400, "a control character in the start line", i);
        if (c == ' ') {
          if (!request_ && spaces_ == 1 && !status_code_ok()) return fail(400, "a status code that is not 3 digits", i);
          if (spaces_++ == 0) {
            std::memcpy(first_word_, word_, sizeof word_);
            first_word_len_ = word_len_;
          }
          word_len_ = 0;
          continue;
        }
        if (spaces_ == 0 && !is_tchar(static_cast<char>(c))) method_ok_ = false;
        if (word_len_ < sizeof word_) word_[word_len_] = static_cast<char>(c);
        ++word_len_;
        continue;
      case state::start_cr:
      case state::first_cr:
        if (c != '\n') return fail(400, "a CR not followed by LF in the start line", i);
        if (state_ == state::start_cr) {
          state_ = state::start;
          continue;
        }
        if (!end_first_line()) return i;
        state_ = state::line_begin;
        continue;
      case state::line_begin:
        if (c == '\r') {
          state_ = state::end_cr;
          continue;
        }
        if (c == '\n') {
          state_ = state::done;
          return i + 1;
        }
        if (is_ows(static_cast<char>(c)))
          return fail(400, "obsolete line folding (a field line that starts with whitespace)", i);
        if (++fields_ > lim_.max_header_count) return fail(request_ ? 431 : 400, "more header fields than the limit", i);
        if (!is_tchar(static_cast<char>(c)))
          return fail(400, c == ':' ? "a header field with an empty name" : "an invalid character in a header field name", i);
        state_ = state::name;
        continue;
      case state::name:
        if (c == ':') {
          state_ = state::value;
          continue;
        }
        if (is_ows(static_cast<char>(c)))
          return fail(400, "whitespace between a header field name and its colon", i);
        if (!is_tchar(static_cast<char>(c))) return fail(400, "an invalid character in a header field name", i);
        continue;
      case state::value:
        if (c == '\r') {
          state_ = state::value_cr;
          continue;
        }
        if (c == '\n') {
          state_ = state::line_begin;
          continue;
        }
        if (is_ctl(c)) return fail(400, "a CR, NUL or other control character inside a header field value", i);
        continue;
      case state::value_cr:
        if (c != '\n') return fail(400, "a CR, NUL or other control character inside a header field value", i);
        state_ = state::line_begin;
        continue;
      case state::end_cr:
        if (c != '\n') return fail(400, "a CR not followed by LF at the end of the header section", i);
        state_ = state::done;
        return i + 1;
      case state::done:
        return i;
    }
  }
  return n;
}

// ---- message_parser ----

const http_parser_settings message_parser::settings_ = [] {
  http_parser_settings s;
  http_parser_settings_init(&s);
  s.on_url = &message_parser::on_url;
  s.on_status = &message_parser::on_status;
  s.on_header_field = &message_parser::on_header_field;
  s.on_header_value = &message_parser::on_header_value;
  s.on_headers_complete = &message_parser::on_headers_complete;
  s.on_body = &message_parser::on_body;
  s.on_message_complete = &message_parser::on_message_complete;
  return s;
}();

message_parser::message_parser(http_parser_type type, std::size_t max_body, head_limits lim)
    : max_body_(max_body), scanner_(type == HTTP_REQUEST, lim) {
  http_parser_init(&p_, type);
  p_.data = this;
}

int message_parser::reject(int status, std::string why) {
  if (error_status_ == 0) {
    error_status_ = status;
    error_ = std::move(why);
  }
  return -1;
}

void message_parser::flush_field() {
  if (!in_value_) return;
  // http_parser drops the OWS before a value; the OWS after it is not part of it either.
  std::string_view v = value_;
  while (!v.empty() && is_ows(v.back())) v.remove_suffix(1);
  value_.resize(v.size());
  headers_.add_unchecked(std::move(field_), std::move(value_));
  field_.clear();
  value_.clear();
  in_value_ = false;
}

int message_parser::on_url(http_parser* p, const char* at, std::size_t n) {
  self(p).url_.append(at, n);
  return 0;
}

int message_parser::on_status(http_parser* p, const char* at, std::size_t n) {
  self(p).reason_.append(at, n);
  return 0;
}

// Fields after the head are chunked trailers: they are dropped (RFC 9110 6.5.1 lets a
// recipient ignore them), so none can change a header the handler already trusts.
int message_parser::on_header_field(http_parser* p, const char* at, std::size_t n) {
  message_parser& m = self(p);
  if (m.head_done_) return 0;
  m.flush_field();
  m.field_.append(at, n);
  return 0;
}

int message_parser::on_header_value(http_parser* p, const char* at, std::size_t n) {
  message_parser& m = self(p);
  if (m.head_done_) return 0;
  m.in_value_ = true;
  m.value_.append(at, n);
  return 0;
}

int message_parser::check_head() {
  const bool req = p_.type == HTTP_REQUEST;
  if (p_.http_major != 1) return reject(505, "HTTP version not supported (send HTTP/1.1 or HTTP/1.0)");
  std::size_t hosts = 0, lengths = 0;
  std::string_view length;
  std::string codings;
  bool has_te = false;
  for (const auto& [name, value] : headers_) {
    if (iequals(name, "Host")) {
      ++hosts;
    } else if (iequals(name, "Content-Length")) {
      ++lengths;
      length = value;
    } else if (iequals(name, "Transfer-Encoding")) {
      has_te = true;
      codings += value;
      codings += ',';
    }
  }
  if (req && hosts > 1) return reject(400, "more than one Host field");
  if (req && hosts == 0 && p_.http_minor >= 1) return reject(400, "an HTTP/1.1 request without a Host field");
  if (lengths > 1) return reject(400, "more than one Content-Length field");
  std::uint64_t len = 0;
  if (lengths == 1) {
    length = trim(length);
    if (length.empty() || length.size() > 18) return reject(400, "an invalid Content-Length");
    for (char c : length) {
      if (c < '0' || c > '9') return reject(400, "an invalid Content-Length");
      len = len * 10 + static_cast<std::uint64_t>(c - '0');
    }
  }
  if (has_te) {
    if (lengths > 0) return reject(400, "both Content-Length and Transfer-Encoding (a request smuggling vector)");
    if (p_.http_minor == 0) return reject(400, "Transfer-Encoding in an HTTP/1.0 message");
    std::string_view rest = codings, last, other;
    int chunked = 0;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      std::string_view e = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      e = trim(e.substr(0, e.find(';')));
      if (e.empty()) continue;
      if (iequals(e, "chunked"))
        ++chunked;
      else if (other.empty())
        other = e;
      last = e;
    }
    if (!iequals(last, "chunked") || chunked != 1)
      return reject(400, "a Transfer-Encoding that does not end in one chunked");
    if (!other.empty()) return reject(501, fmt::format("transfer coding '{}' is not implemented", other));
  }
  // Defence in depth: http_parser must frame the body exactly as checked above.
  // (It also matches field names by prefix in places: "Transfer-Encoding+" counts for it.)
  const bool parser_te = p_.uses_transfer_encoding != 0, parser_cl = (p_.flags & F_CONTENTLENGTH) != 0;
  if (has_te != parser_te || has_te != ((p_.flags & F_CHUNKED) != 0) || (lengths == 1) != parser_cl ||
      (lengths == 1 && p_.content_length != len))
    return reject(400, "ambiguous message framing");
  if (lengths == 1) head_length_ = len;
  if (req && lengths == 1 && len > max_body_ && !streaming_)
    return reject(413, fmt::format("body larger than the limit of {} bytes", max_body_));
  return 0;
}

int message_parser::on_headers_complete(http_parser* p) {
  message_parser& m = self(p);
  m.flush_field();
  m.head_done_ = true;
  if (m.check_head() != 0) return -1;
  if (p->type == HTTP_REQUEST) {
    // CONNECT asks for a tunnel, which this server does not open. It must be refused here:
    // http_parser ends a CONNECT message at its head whatever Content-Length says, so the
    // body it announces would be parsed as the next request (found by fuzz_stream).
    if (p->method == HTTP_CONNECT) return m.reject(501, "the CONNECT method (a tunnel) is not supported");
    if (auto e = m.headers_.get("Expect"); e && iequals(*e, "100-continue") && p->http_minor >= 1) m.want_continue_ = true;
    return 0;
  }
  // RFC 9112 6.3: a response to HEAD, a 1xx, a 204 and a 304 end with their head, whatever
  // Content-Length or Transfer-Encoding say (a 304 may announce the 200's length). http_parser
  // would read a body after them (found by fuzz_stream: an interim response's chunks).
  const unsigned st = p->status_code;
  return m.skip_body || (st >= 100 && st < 200) || st == 204 || st == 304 ? 1 : 0;
}

int message_parser::on_body(http_parser* p, const char* at, std::size_t n) {
  message_parser& m = self(p);
  if (!m.streaming_ && m.body_.size() + n > m.max_body_) return m.reject(413, fmt::format("body larger than the limit of {} bytes", m.max_body_));
  m.body_.append(at, n);
  return 0;
}

int message_parser::on_message_complete(http_parser* p) {
  message_parser& m = self(p);
  m.complete_ = true;
  http_parser_pause(p, 1);  // one message per feed(): the caller answers it first
  return 0;
}

message_parser::event message_parser::execute(const char* data, std::size_t n, std::size_t& parsed) {
  parsed = http_parser_execute(&p_, &settings_, data, n);
  const auto err = static_cast<http_errno>(p_.http_errno);
  if (err == HPE_PAUSED) {
    http_parser_pause(&p_, 0);
    return event::message;
  }
  if (err != HPE_OK || error_status_ != 0) {
    if (error_status_ == 0) {
      int status = 400;
      if (err == HPE_INVALID_METHOD && scanner_.well_formed_request_line()) status = 501;
      if (err == HPE_HEADER_OVERFLOW) status = 431;
      reject(status, fmt::format("{} ({})", http_errno_description(err), http_errno_name(err)));
    }
    return event::error;
  }
  if (complete_) return event::message;
  // Anything http_parser stops at without an error (an upgrade) is not spoken here.
  if (parsed != n) {
    reject(400, p_.upgrade ? "a protocol upgrade (not supported)" : "unparsed bytes");
    return event::error;
  }
  return event::more;
}

message_parser::event message_parser::feed(const char* data, std::size_t n, std::size_t& used) {
  used = 0;
  if (error_status_ != 0) return event::error;
  if (complete_) return event::message;
  while (used < n) {
    std::size_t parsed = 0;
    event e;
    if (!head_done_) {
      const std::size_t k = scanner_.scan(data + used, n - used);
      if (scanner_.failed()) {
        used += k;
        reject(scanner_.error_status(), scanner_.error_text());
        return event::error;
      }
      if (!scanner_.done() || !head_buf_.empty()) head_buf_.append(data + used, k);
      used += k;
      if (!scanner_.done()) return event::more;
      // The whole head is checked: now http_parser may read it, in one piece.
      const char* head = head_buf_.empty() ? data + used - k : head_buf_.data();
      const std::size_t head_n = head_buf_.empty() ? k : head_buf_.size();
      e = execute(head, head_n, parsed);
      head_buf_.clear();
      if (e == event::error) return e;
      if (!head_done_ || (e == event::more && parsed != head_n)) {
        reject(400, "ambiguous message framing");
        return event::error;
      }
      if (streaming_ && !interim()) return event::head;
    } else {
      e = execute(data + used, n - used, parsed);
      used += parsed;
      if (e == event::error) return e;
    }
    if (e == event::message) {
      // An interim response (100 Continue, 103 Early Hints) is dropped: the real one follows.
      if (interim()) {
        reset_message();
        continue;
      }
      return e;
    }
    if (streaming_) continue;
    if (want_continue_) {
      want_continue_ = false;
      return event::expect_continue;
    }
  }
  return event::more;
}

message_parser::event message_parser::feed_eof() {
  if (error_status_ != 0) return event::error;
  if (complete_) return event::message;
  if (!head_done_) {
    if (!started()) return event::more;
    reject(400, "the connection closed in the middle of a message head");
    return event::error;
  }
  std::size_t parsed = 0;
  static const char none = '\0';
  const event e = execute(&none, 0, parsed);
  if (e == event::message && interim()) {
    reject(400, "the connection closed after an interim (1xx) response");
    return event::error;
  }
  if (e == event::more) {
    reject(400, "the connection closed before the message was complete");
    return event::error;
  }
  return e;
}

bool message_parser::interim() const noexcept {
  const int st = static_cast<int>(p_.status_code);
  return p_.type == HTTP_RESPONSE && st >= 100 && st < 200 && st != 101;
}

void message_parser::reset_message() {
  scanner_.reset();
  head_buf_.clear();
  url_.clear();
  reason_.clear();
  body_.clear();
  headers_ = header_map();
  field_.clear();
  value_.clear();
  in_value_ = false;
  head_done_ = false;
  complete_ = false;
  want_continue_ = false;
  head_length_.reset();
}

void message_parser::next_message() { reset_message(); }

request message_parser::take_request() {
  request r;
  r.method = http_method_str(static_cast<http_method>(p_.method));
  r.target = std::move(url_);
  r.version_major = p_.http_major;
  r.version_minor = p_.http_minor;
  r.headers = std::move(headers_);
  r.body = std::move(body_);
  return r;
}

response message_parser::take_response() {
  response r;
  r.status = static_cast<int>(p_.status_code);
  r.reason = std::move(reason_);
  r.headers = std::move(headers_);
  r.body = std::move(body_);
  return r;
}

std::string message_parser::error_text() const {
  if (error_status_ != 0) return error_;
  return "incomplete message";
}

// ---- responses ----

namespace {

bool has_body(int status) noexcept { return status >= 200 && status != 204 && status != 304; }

bool framing_field(std::string_view name) noexcept {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") || iequals(name, "Connection");
}

}  // namespace

const char* invalid_response(const response& r) noexcept {
  if (r.status < 200 || r.status > 999) return "a status outside 200-999";
  for (const auto& [name, value] : r.headers) {
    if (!is_token(name)) return "a header field name that is not a token";
    for (char c : value)
      if (c == '\r' || c == '\n' || c == '\0') return "a CR, LF or NUL in a header field value";
  }
  return nullptr;
}

std::string serialize_head(const response& r, bool keep, bool http10, std::string_view server_name,
                           std::string_view date, body_framing f) {
  std::string_view reason = r.reason;
  for (char c : reason)
    if (is_ctl(static_cast<unsigned char>(c))) reason = {};
  if (reason.empty()) reason = reason_phrase(r.status);
  std::string out;
  out.reserve(128);
  out += fmt::format("HTTP/1.1 {} {}\r\n", r.status, reason);
  const auto add = [&](std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  };
  for (const auto& [name, value] : r.headers)
    if (!framing_field(name)) add(name, value);
  if (!server_name.empty() && !r.headers.contains("Server")) add("Server", server_name);
  if (!date.empty() && !r.headers.contains("Date")) add("Date", date);
  if (has_body(r.status)) {
    if (f.how == body_framing::length && f.size) add("Content-Length", std::to_string(*f.size));
    if (f.how == body_framing::chunked) add("Transfer-Encoding", "chunked");
  }
  if (!keep)
    add("Connection", "close");
  else if (http10)
    add("Connection", "keep-alive");
  out += "\r\n";
  return out;
}

body_framing response_framing(const response& r, bool head, bool http10) noexcept {
  if (!has_body(r.status)) return {body_framing::none, std::nullopt};
  if (!r.body_stream) return {head ? body_framing::none : body_framing::length, r.body.size()};
  if (r.body_length) return {head ? body_framing::none : body_framing::length, r.body_length};
  if (head) return {body_framing::none, std::nullopt};
  return {http10 ? body_framing::until_close : body_framing::chunked, std::nullopt};
}

std::string serialize_response(const response& r, bool head, bool keep, bool http10, std::string_view server_name,
                               std::string_view date) {
  body_framing f = response_framing(r, head, http10);
  // HEAD announces the length the GET would have had.
  if (head && has_body(r.status)) f = {body_framing::length, r.body_stream ? r.body_length : std::optional<std::uint64_t>(r.body.size())};
  std::string out = serialize_head(r, keep, http10, server_name, date, f);
  if (!head && has_body(r.status)) out += r.body;
  return out;
}

}  // namespace coring::http::detail
