// Helpers for the test programs that use TCP (include after support.hpp).
#pragma once

#include <sys/socket.h>

#include <coring/tcp.hpp>

#include <cerrno>
#include <system_error>

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

// A client stream whose peer has closed with a reset (SO_LINGER 0): its reads and writes fail.
inline coring::task<coring::tcp_stream> reset_by_peer(coring::tcp_listener& l) {
  stream_pair p = co_await connect_pair(l);
  linger lg{1, 0};
  if (::setsockopt(p.server.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg) != 0)
    throw std::system_error(errno, std::system_category(), "setsockopt SO_LINGER");
  co_await p.server.close();
  co_return std::move(p.client);
}

}  // namespace coring_test
