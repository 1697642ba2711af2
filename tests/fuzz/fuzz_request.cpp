// libFuzzer target: the server's request framing — the RFC 9112 head checker, the
// http_parser glue and request assembly (lib/http/framing.cpp, the code serve() runs) —
// on arbitrary bytes: pipelined requests, chunked bodies, interim 100-continue. Each input
// is parsed whole and in small pieces and the two transcripts must match; every request is
// answered with serialize_response, and that answer must parse back with the same body
// and never carry both Content-Length and Transfer-Encoding.
// Build and run: tests/fuzz/build.sh, then .ci/fuzz SECONDS (or ./run fuzz).
#include <cstring>

#include "fuzz_common.hpp"

namespace {

using namespace coring_fuzz;
namespace http = coring::http;

constexpr std::size_t max_body = 4096;
constexpr detail::head_limits limits{256, 1024, 32};

bool allowed_status(int s) {
  return s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505;
}

// The server's answer to `req` must be framed exactly as the client side reads it.
void check_answer(const http::request& req, bool keep) {
  const bool head = req.method == "HEAD";
  http::response r = http::response::text(200 + static_cast<int>(req.body.size() % 3) * 52, req.body);  // 200, 252, 304
  r.headers.set("Transfer-Encoding", "chunked");  // the server must replace the handler's framing
  const std::string wire = detail::serialize_response(r, head, keep, req.version_minor == 0, "fuzz", "");
  const std::string_view head_part = std::string_view(wire).substr(0, wire.find("\r\n\r\n"));
  if (head_part.find("Transfer-Encoding") != std::string_view::npos) finding("a response with Transfer-Encoding");
  detail::message_parser back(HTTP_RESPONSE, max_body + 16);
  back.skip_body = head;
  std::size_t used = 0;
  auto ev = back.feed(wire.data(), wire.size(), used);
  if (ev == event::more && !keep) ev = back.feed_eof();
  if (ev != event::message || used != wire.size()) finding("the serialized response does not parse back");
  const http::response got = back.take_response();
  const bool body_expected = !head && r.status != 304;
  if (got.body != (body_expected ? req.body : std::string())) finding("the response body changed on the wire");
}

transcript run(const std::uint8_t* data, std::size_t n, bool pieces) {
  detail::message_parser mp(HTTP_REQUEST, max_body, limits);
  return drive(mp, data, n, pieces, [](detail::message_parser& p, std::string& out) {
    const bool keep = p.keep_alive();
    http::request req = p.take_request();
    if (req.body.size() > max_body) finding("a body over the limit");
    if (req.version_major != 1) finding("a version other than 1.x");
    out = flatten_head(req) + req.body;
    check_answer(req, keep);
    return keep;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const transcript whole = run(data, size, false);
  const transcript cut = run(data, size, true);
  if (whole.error != 0 && !allowed_status(whole.error)) finding("an unexpected error status");
  if (!(whole == cut)) finding("the framing depends on how the bytes arrive");
  return 0;
}
