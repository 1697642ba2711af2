// UDP sockets and datagram results.
#include "coring/udp.hpp"

#include <fmt/format.h>

#include "socket.hpp"

namespace coring {
namespace detail {

datagram finish_recvfrom(int res, int fd, datagram_msg& m) {
  if (res < 0) throw_socket_error(res, "recvfrom", fd);
  datagram d;
  const auto n = static_cast<std::size_t>(res);
  d.truncated = n > m.iov.iov_len;
  d.size = d.truncated ? m.iov.iov_len : n;
  // The kernel writes the sender's address; its length follows from the family.
  if (m.addr.family() == AF_INET) m.addr.set_size(sizeof(sockaddr_in));
  else if (m.addr.family() == AF_INET6) m.addr.set_size(sizeof(sockaddr_in6));
  d.from = m.addr;
  return d;
}

}  // namespace detail

udp_socket& udp_socket::operator=(udp_socket&& o) noexcept {
  if (this != &o) {
    detail::close_fd_now(fd_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

udp_socket udp_socket::bind(const endpoint& ep) {
  udp_socket u;
  u.fd_ = detail::open_socket(ep, SOCK_DGRAM, "udp_socket::bind");
  if (::bind(u.fd_, ep.data(), ep.size()) < 0) throw_errno(-errno, "bind " + ep.to_string());
  return u;
}

udp_socket udp_socket::bind(std::string_view host, std::uint16_t port) { return bind(endpoint::parse(host, port)); }

std::uint16_t udp_socket::local_port() const { return detail::local_of(fd_).port(); }
endpoint udp_socket::local_endpoint() const { return detail::local_of(fd_); }

}  // namespace coring
