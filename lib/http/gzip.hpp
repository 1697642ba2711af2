// Internal: gzip decoding of a response body (zlib), when coring_http was built with it.
#pragma once

#include <memory>
#include <string>

#include "coring/http.hpp"

namespace coring::http::detail {

// A body_source that inflates what `inner` delivers (gzip, also several members in a row).
// `what` names the request in errors. Only called when gzip_supported().
std::unique_ptr<body_source> make_gzip_source(body_source& inner, std::string what);

}  // namespace coring::http::detail
