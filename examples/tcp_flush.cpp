// Write-behind: write_all returns before its send completes; flush() waits for the bytes to
// be with the kernel before the socket is handed to other I/O (here a raw recv peek).
#include <sys/socket.h>

#include <coring/runtime.hpp>
#include <coring/tcp.hpp>

coring::task<int> example() {
  auto listener = coring::tcp_listener::bind("127.0.0.1", 0);
  auto s = co_await coring::tcp_stream::connect("127.0.0.1", listener.local_port());
  coring::tcp_stream peer = co_await listener.accept();
  // example-begin
  co_await s.write_all("header");  // copied and written behind: returns at once
  co_await s.flush();              // now with the kernel; a failed send would throw here
  // example-end
  char buf[8];
  const ssize_t n = ::recv(peer.native_handle(), buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
  co_return n == 6 ? 0 : 1;
}

int main() { return coring::run(example()); }
