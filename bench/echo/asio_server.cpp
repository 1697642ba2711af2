// asio_server: the Boost.Asio 1.81 echo server of the echo benchmark, written the way the
// Asio documentation writes one with C++20 coroutines (co_spawn + awaitable), on Asio's
// io_uring backend (BOOST_ASIO_HAS_IO_URING with BOOST_ASIO_DISABLE_EPOLL, both set by
// meson.build) and a single-threaded io_context, so it is compared on equal terms with the
// single-threaded coring and floor servers.
//
// Usage: asio_server PORT        (listens on 127.0.0.1:PORT; SIGINT/SIGTERM stop it)
#include <boost/asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <exception>

#if !defined(BOOST_ASIO_HAS_IO_URING) || !defined(BOOST_ASIO_DISABLE_EPOLL)
#error "build with -DBOOST_ASIO_HAS_IO_URING -DBOOST_ASIO_DISABLE_EPOLL (see meson.build)"
#endif

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

asio::awaitable<void> echo(tcp::socket sock) {
  char data[4096];
  try {
    for (;;) {
      std::size_t n = co_await sock.async_read_some(asio::buffer(data), asio::use_awaitable);
      co_await asio::async_write(sock, asio::buffer(data, n), asio::use_awaitable);
    }
  } catch (const std::exception&) {
    // EOF or reset: the peer is gone, the socket closes with this frame
  }
}

// Ends (with operation_aborted) when the acceptor is closed.
asio::awaitable<void> listen(tcp::acceptor& acceptor) {
  for (;;) {
    tcp::socket sock = co_await acceptor.async_accept(asio::use_awaitable);
    sock.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), echo(std::move(sock)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: asio_server PORT\n");
    return 2;
  }
  int port = std::atoi(argv[1]);
  if (port <= 0 || port > 65535) {
    std::fprintf(stderr, "asio_server: PORT must be 1..65535, got '%s'\n", argv[1]);
    return 2;
  }
  try {
    asio::io_context ctx(1);  // one thread: lets Asio skip its cross-thread locking
    tcp::acceptor acceptor(
        ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
    // Stop order matters: close the acceptor, let the accept loop finish, and only then
    // stop the context. Stopping with the accept still pending leaves its coroutine frame
    // (which refers to the acceptor) to be destroyed after the acceptor (use after free).
    asio::signal_set signals(ctx, SIGINT, SIGTERM);
    signals.async_wait([&](auto, auto) { acceptor.close(); });
    asio::co_spawn(ctx, listen(acceptor), [&](std::exception_ptr) { ctx.stop(); });
    ctx.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "asio_server: %s\n", e.what());
    return 1;
  }
  return 0;
}
