// The fuzz targets link only the framing sources, not libcoring's socket layer. A request
// holds the peer's address (coring::endpoint), whose constructor lives there; the framing
// code never fills it in, so an empty address is all it needs.
#include <cstring>

#include "coring/net.hpp"

coring::endpoint::endpoint() noexcept { std::memset(&addr_, 0, sizeof addr_); }
