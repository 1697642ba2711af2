// Socket addresses and name resolution (layer 7): coring::endpoint (an IPv4 or IPv6 address
// with a port) and coring::resolve (getaddrinfo on the blocking pool).
//
// Errors: a host that is not a numeric address is std::invalid_argument from
// endpoint::parse (the message says to resolve it); resolve's failures are
// std::system_error in resolver_category() ("resolve nowhere.invalid: Name or service not
// known").
//
// Example (examples/endpoint_parse.cpp):
//   const auto a = coring::endpoint::parse("127.0.0.1", 8080);
//   const auto b = coring::endpoint::parse("[::1]:8080");
//   const bool text_ok = a.to_string() == "127.0.0.1:8080" && b.to_string() == "[::1]:8080";
//   coring::endpoint c;
//   const bool is_name = !coring::endpoint::try_parse("example.org", 80, c);  // a name: resolve it
//   const std::vector<coring::endpoint> eps = co_await coring::resolve("127.0.0.1", 80);
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "coring/task.hpp"

namespace coring {

// An IPv4 or IPv6 address with a port: a value type (copyable, comparable with ==) that
// holds a sockaddr_storage, so it can be handed to any socket call. Printable as
// "127.0.0.1:80" or "[::1]:80". A default-constructed endpoint is empty (family() == 0);
// binding or connecting to it throws std::invalid_argument.
// (Example: the header's.)
class endpoint {
 public:
  // An empty endpoint (no family, port 0). Never throws.
  endpoint() noexcept;
  // Parses a numeric address ("127.0.0.1", "::1", "[::1]"); "" and "*" mean 0.0.0.0 (all
  // IPv4 interfaces), "localhost" means 127.0.0.1. Errors: std::invalid_argument for
  // anything else, saying to use coring::resolve for host names.
  static endpoint parse(std::string_view host, std::uint16_t port);
  // Parses "host:port" ("127.0.0.1:8080", "[::1]:8080", "localhost:80", ":8080").
  // Errors: std::invalid_argument for a missing or out-of-range port or a non-numeric host.
  static endpoint parse(std::string_view host_port);
  // As parse(host, port), but returns false (and leaves `out` empty) instead of throwing
  // when `host` is not numeric. Never throws.
  static bool try_parse(std::string_view host, std::uint16_t port, endpoint& out) noexcept;
  // Copies a socket address the kernel returned (accept, getsockname, recvfrom).
  // Errors: std::invalid_argument when `len` exceeds capacity().
  static endpoint from_sockaddr(const sockaddr* sa, socklen_t len);

  // AF_INET, AF_INET6, or 0 for an empty endpoint.
  int family() const noexcept { return addr_.ss_family; }
  // The port in host byte order (0 for an empty endpoint).
  std::uint16_t port() const noexcept;
  // Replaces the port (no effect on an empty endpoint).
  void set_port(std::uint16_t p) noexcept;
  // The address alone: "127.0.0.1", "::1" ("?" for an empty endpoint). Throws only
  // std::bad_alloc.
  std::string address() const;
  // Address and port: "127.0.0.1:80", "[::1]:80" ("?:0" for an empty endpoint).
  std::string to_string() const;
  // The socket address for system calls, and its length (size()).
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&addr_); }
  // Writable, for calls that fill an address in (pass capacity(), then set_size()).
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&addr_); }
  socklen_t size() const noexcept { return len_; }
  void set_size(socklen_t n) noexcept { len_ = n; }
  // The largest address an endpoint holds (sizeof(sockaddr_storage)).
  static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }

  // The same socket address: family, address and port (for IPv6 also flow info and scope).
  friend bool operator==(const endpoint& a, const endpoint& b) noexcept;

 private:
  sockaddr_storage addr_;
  socklen_t len_ = 0;
};

// Resolves `host` (a name or a numeric address) with getaddrinfo on the blocking pool
// (coring::run_blocking), so the loop keeps running. Numeric addresses (and "localhost")
// are parsed at once without the pool. Returns the IPv4/IPv6 addresses in the resolver's
// preferred order, each with `port` (never empty).
// Cancellation: a cancellation point; a cancelled lookup still finishes on its worker
// thread (getaddrinfo cannot be interrupted) and then throws coring::cancelled.
// Errors: std::system_error in resolver_category() (the EAI_* code; the text is
// gai_strerror's): "resolve nowhere.invalid: Name or service not known"; EAI_SYSTEM is
// reported as the errno it carries.
// (Example: the header's.)
task<std::vector<endpoint>> resolve(std::string host, std::uint16_t port);

// The error category of resolve's failures (values are getaddrinfo's EAI_* codes, message
// gai_strerror's). Never throws.
const std::error_category& resolver_category() noexcept;

namespace detail {
// Throws std::system_error for a failed socket call: "<op> <peer address>: <strerror>".
[[noreturn]] void throw_socket_error(int res, const char* op, int fd);
}  // namespace detail

}  // namespace coring
