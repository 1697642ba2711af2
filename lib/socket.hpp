// Socket helpers shared by lib/endpoint.cpp, tcp.cpp and udp.cpp (private to the library).
#pragma once

#include <string>

#include "coring/endpoint.hpp"

namespace coring::detail {

// This end's address (getsockname). Errors: std::system_error.
endpoint local_of(int fd);
// "127.0.0.1:80" for the peer of a connected socket, else this end's address, else "fd N".
std::string describe_socket(int fd);
void set_nodelay(int fd) noexcept;
// A new socket of `type` for `ep`'s family (close-on-exec). Errors: std::invalid_argument
// for an empty endpoint ("coring::<what>: ..."), std::system_error from socket(2).
int open_socket(const endpoint& ep, int type, const char* what);

}  // namespace coring::detail
