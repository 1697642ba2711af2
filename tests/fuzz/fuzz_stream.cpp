// libFuzzer target: the framing's streaming mode (message_parser::set_streaming, what
// serve() and client::stream run): feed() stops at event::head once a head is complete,
// and body bytes come out of body_data() one feed at a time. The fuzzer chooses where the
// bytes are cut: each 0xFF byte of the input is a cut point and is dropped (stream.dict
// makes it a frequent mutation; the seeds are plain messages, cut nowhere). So 0xFF itself
// never reaches the parser here; fuzz_request and fuzz_response cover it.
//
// Each input is read three ways — as requests (the server), as responses (the client), as
// responses to HEAD — once streaming over the fuzzer's pieces, once whole-body in one piece
// with no body limit. The two transcripts must be equal: the same messages with the same
// bodies, and the same final error. The streaming run must also keep its own contract:
// body_data() never holds more than the last feed gave it, a head is reported once per
// message and before its body, no event::expect_continue (expects_continue() says it, and
// only for "Expect: 100-continue" in HTTP/1.1), a request body as long as its
// Content-Length, no interim response delivered, and no body in a response to HEAD or in
// a 1xx, 204 or 304 response (this found http_parser reading one when they announce it).
// Build and run: tests/fuzz/build.sh, then .ci/fuzz SECONDS (or ./run fuzz).
#include <limits>
#include <memory>
#include <string_view>
#include <vector>

#include "fuzz_common.hpp"

namespace {

using namespace coring_fuzz;
namespace http = coring::http;

constexpr unsigned char cut_marker = 0xFF;
constexpr detail::head_limits limits{256, 1024, 32};
// No body limit: the whole-body run must not refuse what the streaming run delivers.
constexpr std::size_t no_limit = std::numeric_limits<std::size_t>::max();

enum class mode { request, response, response_to_head };

std::unique_ptr<detail::message_parser> make_parser(mode m) {
  auto mp = std::make_unique<detail::message_parser>(m == mode::request ? HTTP_REQUEST : HTTP_RESPONSE, no_limit, limits);
  mp->skip_body = m == mode::response_to_head;
  return mp;
}

// One streaming run, fed piece by piece as the server's and the client's read loops do.
class streamer {
 public:
  explicit streamer(mode m) : m_(m), mp_(make_parser(m)) { mp_->set_streaming(true); }

  void feed(std::string_view piece) {
    std::size_t begin = 0;
    while (!ended_ && begin < piece.size()) {
      mp_->clear_body();  // as the body readers do before each feed
      std::size_t used = 0;
      const event ev = mp_->feed(piece.data() + begin, piece.size() - begin, used);
      if (used > piece.size() - begin) finding("feed consumed more than it was given");
      if (mp_->body_size() > used) finding("body_data holds more than the last feed gave it");
      if (!in_body_ && ev != event::head && mp_->body_size() != 0) finding("body bytes before the head");
      begin += used;
      switch (ev) {
        case event::more:
          if (begin != piece.size()) finding("event::more without consuming everything");
          body_ += mp_->body_data();
          return;
        case event::error:
          t_.error = mp_->error_status();
          ended_ = true;
          return;
        case event::expect_continue:
          finding("event::expect_continue in streaming mode");
        case event::head:
          on_head();
          break;
        case event::message:
          if (!in_body_) finding("a message without its head event");
          body_ += mp_->body_data();
          on_complete();
          break;
      }
    }
  }

  transcript finish() {
    if (!ended_) {
      mp_->clear_body();
      const event ev = mp_->feed_eof();
      if (ev == event::error) t_.error = mp_->error_status();
      if (ev == event::message) {
        if (!in_body_) finding("a message at EOF without its head event");
        body_ += mp_->body_data();
        on_complete();
      }
      if (ev == event::more && in_body_) finding("EOF in a body reported as a clean end");
    }
    return std::move(t_);
  }

 private:
  void on_head() {
    if (in_body_) finding("a second head before the body ended");
    if (!mp_->head_done()) finding("event::head before the head was done");
    if (m_ == mode::request) {
      const http::request r = mp_->take_request();
      const auto expect = r.headers.get("Expect");
      if (mp_->expects_continue() != (expect && http::iequals(*expect, "100-continue") && r.version_minor >= 1))
        finding("expects_continue() disagrees with the Expect field");
      if (!r.body.empty()) finding("a request body delivered with its head");
      head_ = flatten_head(r);
    } else {
      const http::response r = mp_->take_response();
      if (r.status < 200 && r.status != 101) finding("an interim response was delivered as final");
      if (!r.body.empty()) finding("a response body delivered with its head");
      bodyless_ = m_ == mode::response_to_head || r.status < 200 || r.status == 204 || r.status == 304;
      head_ = flatten_head(r);
    }
    body_.clear();
    in_body_ = true;
    if (mp_->complete()) on_complete();  // no body: the head ended the message
  }

  void on_complete() {
    if (m_ == mode::request && mp_->content_length() && body_.size() != *mp_->content_length())
      finding("a request body differs from its Content-Length");
    if (bodyless_ && !body_.empty()) finding("a body in a response to HEAD, or a 1xx, 204 or 304 response");
    t_.messages.push_back(head_ + body_);
    in_body_ = false;
    if (!mp_->keep_alive()) {
      ended_ = true;  // the connection ends after this message
      return;
    }
    mp_->next_message();
  }

  mode m_;
  std::unique_ptr<detail::message_parser> mp_;
  transcript t_;
  std::string head_, body_;  // the current message: its flattened head, its body so far
  bool in_body_ = false;
  bool bodyless_ = false;  // RFC 9112 6.3: a response to HEAD, a 1xx, 204 or 304 ends with its head
  bool ended_ = false;
};

transcript whole(mode m, std::string_view bytes) {
  auto mp = make_parser(m);
  return drive(*mp, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), false,
               [m](detail::message_parser& p, std::string& out) {
                 const bool keep = p.keep_alive();
                 if (m == mode::request) {
                   const http::request r = p.take_request();
                   out = flatten_head(r) + r.body;
                 } else {
                   const http::response r = p.take_response();
                   out = flatten_head(r) + r.body;
                 }
                 return keep;
               });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes;
  std::vector<std::size_t> cuts;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == cut_marker)
      cuts.push_back(bytes.size());
    else
      bytes += static_cast<char>(data[i]);
  }
  if (bytes.empty()) return 0;
  cuts.push_back(bytes.size());
  for (mode m : {mode::request, mode::response, mode::response_to_head}) {
    streamer s(m);
    std::size_t from = 0;
    for (std::size_t to : cuts) {
      if (to > from) s.feed(std::string_view(bytes).substr(from, to - from));
      from = to;
    }
    if (!(s.finish() == whole(m, bytes))) finding("streaming and whole-body parsing disagree");
  }
  return 0;
}
