// libFuzzer target: the client's response framing — the RFC 9112 head checker, the
// http_parser glue and response assembly (lib/http/framing.cpp, the code the client runs)
// — on arbitrary bytes: interim 1xx responses, chunked and Content-Length bodies, bodies
// that end at EOF, responses to HEAD. Each input is parsed whole and in small pieces and
// the two transcripts must match.
// Build and run: tests/fuzz/build.sh, then .ci/fuzz SECONDS (or ./run fuzz).
#include "fuzz_common.hpp"

namespace {

using namespace coring_fuzz;
namespace http = coring::http;

constexpr std::size_t max_body = 4096;

transcript run(const std::uint8_t* data, std::size_t n, bool pieces, bool head) {
  detail::message_parser mp(HTTP_RESPONSE, max_body, detail::head_limits{256, 1024, 32});
  mp.skip_body = head;
  return drive(mp, data, n, pieces, [head](detail::message_parser& p, std::string& out) {
    const bool keep = p.keep_alive();
    const http::response r = p.take_response();
    if (r.body.size() > max_body) finding("a body over the limit");
    if (head && !r.body.empty()) finding("a body in a response to HEAD");
    if (r.status < 200 && r.status != 101) finding("an interim response was returned as final");
    out = flatten_head(r) + r.body;
    return keep;
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool head = size % 5 == 0;  // some inputs are answers to HEAD
  const transcript whole = run(data, size, false, head);
  const transcript cut = run(data, size, true, head);
  if (!(whole == cut)) finding("the framing depends on how the bytes arrive");
  return 0;
}
