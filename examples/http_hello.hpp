// What the HTTP examples that only need "some server to talk to" share: a handler that
// says hello, and a listener on a free loopback port with the URL that reaches it.
#pragma once

#include <string>

#include <fmt/format.h>

#include <coring/http.hpp>
#include <coring/tcp.hpp>

inline coring::task<coring::http::response> hello(const coring::http::request&) {
  co_return coring::http::response::text(200, "hello\n");
}

struct hello_site {
  coring::tcp_listener listener = coring::tcp_listener::bind("127.0.0.1", 0);
  std::string url = fmt::format("http://127.0.0.1:{}/", listener.local_port());
};
