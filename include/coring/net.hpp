// Networking on the ring (layer 7), one header per concept, all included here:
//   coring/endpoint.hpp   addresses (endpoint) and name resolution (resolve)
//   coring/tcp.hpp        tcp_stream, tcp_listener, listen_options (SO_REUSEPORT)
//   coring/udp.hpp        udp_socket, datagram
//   coring/multishot.hpp  multishot_reader over a recv_buffer_pool (provided buffers)
//
// Usage — an echo server and a client (every call below is an io_uring operation):
//
//   coring::task<> serve(coring::tcp_listener& l) {
//     for (;;) {
//       coring::tcp_stream s = co_await l.accept();       // multishot accept underneath
//       tg.spawn(echo(std::move(s)), "conn");              // (with a task group)
//     }
//   }
//   coring::task<> echo(coring::tcp_stream s) {
//     char buf[4096];
//     for (;;) {
//       std::size_t n = co_await s.read_some(buf);         // 0: the peer closed
//       if (n == 0) break;
//       co_await s.write_all(std::string_view(buf, n));
//     }
//     co_await s.close();
//   }
//   auto l = coring::tcp_listener::bind("127.0.0.1", 0); // port 0: the kernel picks one
//   auto c = co_await coring::tcp_stream::connect("localhost", l.local_port());
//   co_await c.write_all("ping");
//   auto n = co_await coring::with_timeout(1s, c.read_some(buf));  // linked timeout: 1 SQE more
//
// Receiving with fewer SQEs: a multishot_reader keeps ONE multishot recv per connection in
// the kernel, filling buffers from a shared recv_buffer_pool (a provided buffer ring):
//
//   coring::recv_buffer_pool pool(256, 4096);        // once, inside the runtime
//   coring::multishot_reader in(s, pool);            // per connection; s outlives it
//   std::size_t n = co_await in.read_some(buf);      // copies from what already arrived
//
// Ownership: tcp_listener, tcp_stream and udp_socket own their descriptor (move-only) and
// close it in their destructor if it is still open, so a cancelled task never leaks one.
// They must be used and destroyed on the thread of the runtime that awaited them.
//
// Errors: std::system_error(errno, std::system_category()) whose what() names the call and
// the address: "connect 127.0.0.1:9: Connection refused", "recv 127.0.0.1:41234:
// Connection reset by peer". Bad arguments (an address that does not parse) are
// std::invalid_argument saying what is expected.
//
// Cancellation: every awaitable here is a cancellation point unless its comment says
// otherwise. read_some / write_some / connect's connect are single io_uring operations:
// with_timeout links an IORING_OP_LINK_TIMEOUT to them (one extra SQE, no extra system
// call), and a cancel that races a completed receive delivers the data (no lost results).
//
// Example (examples/net_echo.cpp):
//   auto listener = coring::tcp_listener::bind("127.0.0.1", 0);  // port 0: any free port
//   std::string echoed;
//   co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//     tg.spawn([&]() -> coring::task<> {  // the server: echo one message
//       coring::tcp_stream conn = co_await listener.accept();
//       char buf[64];
//       const std::size_t n = co_await conn.read_some(std::span(buf));
//       co_await conn.write_all(std::string_view(buf, n));
//     });
//     auto client = co_await coring::tcp_stream::connect("127.0.0.1", listener.local_port());
//     co_await client.write_all("ping");
//     char buf[64];
//     const std::size_t n = co_await coring::with_timeout(2s, client.read_some(std::span(buf)));
//     echoed.assign(buf, n);  // "ping"
//   });
//
#pragma once

#include "coring/endpoint.hpp"
#include "coring/multishot.hpp"
#include "coring/tcp.hpp"
#include "coring/udp.hpp"
