// Helpers for the test programs that use TCP (include after support.hpp).
#pragma once

#include <coring/tcp.hpp>

namespace coring_test {

struct stream_pair {
  coring::tcp_stream client;
  coring::tcp_stream server;
};

// A connected loopback pair: connect completes on the kernel's handshake, before accept.
inline coring::task<stream_pair> connect_pair(coring::tcp_listener& l) {
  stream_pair p;
  p.client = co_await coring::tcp_stream::connect("127.0.0.1", l.local_port());
  p.server = co_await l.accept();
  co_return p;
}

}  // namespace coring_test
