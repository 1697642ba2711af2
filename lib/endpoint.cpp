// Addresses and name resolution.
#include "coring/endpoint.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "coring/blocking.hpp"
#include "coring/detail/faults.hpp"
#include "socket.hpp"

namespace coring {

// ---- endpoint ----

endpoint::endpoint() noexcept { std::memset(&addr_, 0, sizeof addr_); }

bool endpoint::try_parse(std::string_view host, std::uint16_t port, endpoint& out) noexcept {
  out = endpoint();
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  char buf[INET6_ADDRSTRLEN + 1];
  if (host.size() >= sizeof buf) return false;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr_);
  if (::inet_pton(AF_INET, buf, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.len_ = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr_);
  if (::inet_pton(AF_INET6, buf, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.len_ = sizeof(sockaddr_in6);
    return true;
  }
  out = endpoint();
  return false;
}

endpoint endpoint::parse(std::string_view host, std::uint16_t port) {
  endpoint ep;
  if (!try_parse(host, port, ep))
    throw std::invalid_argument(fmt::format(
        "coring::endpoint: '{}' is not a numeric IPv4/IPv6 address; pass one like 127.0.0.1 or "
        "::1, or resolve the name with co_await coring::resolve(host, port)",
        host));
  return ep;
}

endpoint endpoint::parse(std::string_view host_port) {
  const auto bad = [&](const char* why) {
    return std::invalid_argument(fmt::format(
        "coring::endpoint: '{}' {}; expected host:port like 127.0.0.1:8080 or [::1]:8080",
        host_port, why));
  };
  std::size_t colon;
  if (!host_port.empty() && host_port.front() == '[') {
    const std::size_t close = host_port.find(']');
    if (close == std::string_view::npos) throw bad("has no closing ']'");
    colon = close + 1;
    if (colon >= host_port.size() || host_port[colon] != ':') throw bad("has no port");
  } else {
    colon = host_port.rfind(':');
    if (colon == std::string_view::npos) throw bad("has no port");
    if (host_port.find(':') != colon) throw bad("is an IPv6 address without brackets");
  }
  const std::string_view p = host_port.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || ptr != p.data() + p.size() || p.empty() || port > 65535)
    throw bad("has an invalid port");
  return parse(host_port.substr(0, colon), static_cast<std::uint16_t>(port));
}

endpoint endpoint::from_sockaddr(const sockaddr* sa, socklen_t len) {
  endpoint ep;
  if (len > sizeof ep.addr_) throw std::invalid_argument("coring::endpoint: address too long");
  std::memcpy(&ep.addr_, sa, len);
  ep.len_ = len;
  return ep;
}

std::uint16_t endpoint::port() const noexcept {
  if (addr_.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&addr_)->sin_port);
  if (addr_.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr_)->sin6_port);
  return 0;
}

void endpoint::set_port(std::uint16_t p) noexcept {
  if (addr_.ss_family == AF_INET) reinterpret_cast<sockaddr_in*>(&addr_)->sin_port = htons(p);
  if (addr_.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&addr_)->sin6_port = htons(p);
}

std::string endpoint::address() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (addr_.ss_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&addr_)->sin_addr, buf, sizeof buf);
  else if (addr_.ss_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr_)->sin6_addr, buf, sizeof buf);
  else
    return "?";
  return buf;
}

std::string endpoint::to_string() const {
  if (addr_.ss_family == AF_INET6) return fmt::format("[{}]:{}", address(), port());
  return fmt::format("{}:{}", address(), port());
}

bool operator==(const endpoint& a, const endpoint& b) noexcept {
  return a.len_ == b.len_ && std::memcmp(&a.addr_, &b.addr_, a.len_) == 0;
}

// ---- resolve ----

namespace {

class resolver_category_impl : public std::error_category {
 public:
  const char* name() const noexcept override { return "coring.resolver"; }
  std::string message(int ev) const override { return ::gai_strerror(ev); }
};

}  // namespace

const std::error_category& resolver_category() noexcept {
  static const resolver_category_impl cat;
  return cat;
}

task<std::vector<endpoint>> resolve(std::string host, std::uint16_t port) {
  endpoint ep;
  if (endpoint::try_parse(host, port, ep)) co_return std::vector<endpoint>{ep};
  struct answer {
    int rc = 0;
    int err = 0;
    std::vector<endpoint> eps;
  };
  answer a = co_await run_blocking([&host, port]() {
    answer r;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    r.rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
    r.err = errno;
    if (r.rc != 0) return r;
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
      endpoint e = endpoint::from_sockaddr(ai->ai_addr, ai->ai_addrlen);
      e.set_port(port);
      r.eps.push_back(e);
    }
    ::freeaddrinfo(res);
    return r;
  });
  if (a.rc == EAI_SYSTEM) throw_errno(-a.err, "resolve " + host);
  if (a.rc != 0) throw std::system_error(a.rc, resolver_category(), "resolve " + host);
  if (a.eps.empty())
    throw std::system_error(EAI_NONAME, resolver_category(), "resolve " + host + " (no IPv4/IPv6 address)");
  co_return std::move(a.eps);
}

namespace detail {

endpoint local_of(int fd) {
  endpoint ep;
  socklen_t len = endpoint::capacity();
  if (::getsockname(fd, ep.data(), &len) < 0) throw_errno(-errno, fmt::format("getsockname fd {}", fd));
  ep.set_size(len);
  return ep;
}

std::string describe_socket(int fd) {
  endpoint ep;
  socklen_t len = endpoint::capacity();
  if (fd >= 0 && ::getpeername(fd, ep.data(), &len) == 0) {
    ep.set_size(len);
    return ep.to_string();
  }
  len = endpoint::capacity();
  if (fd >= 0 && ::getsockname(fd, ep.data(), &len) == 0 && ep.port() != 0) {
    ep.set_size(len);
    return "local " + ep.to_string();
  }
  return fmt::format("fd {}", fd);
}

void set_nodelay(int fd) noexcept {
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int open_socket(const endpoint& ep, int type, const char* what) {
  if (ep.family() != AF_INET && ep.family() != AF_INET6)
    throw std::invalid_argument(fmt::format("coring::{}: the endpoint is empty; make one with coring::endpoint::parse", what));
  const int injected = faults::socket_error();
  const int fd = injected ? (errno = injected, -1) : ::socket(ep.family(), type | SOCK_CLOEXEC, 0);
  if (fd < 0) throw_errno(-errno, fmt::format("socket for {}", ep.to_string()));
  return fd;
}

void throw_socket_error(int res, const char* op, int fd) {
  throw_errno(res, fmt::format("{} {}", op, describe_socket(fd)));
}

}  // namespace detail
}  // namespace coring
