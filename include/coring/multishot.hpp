// Multishot receive (layer 7): a multishot_reader keeps ONE multishot IORING_OP_RECV per
// connection in the kernel, filling buffers the kernel picks from a shared
// recv_buffer_pool (a provided buffer ring), so a busy connection costs no SQE per read.
//
// Threads: a pool belongs to the runtime (ring) it was created in; create, use and destroy
// pool and readers on that runtime's thread.
// Errors: std::invalid_argument for a bad pool size; receive errors as tcp_stream's
// ("recv 127.0.0.1:80: Connection reset by peer").
// Cancellation: read_some is a cancellation point and cancel-safe: bytes received stay
// queued for the next call.
//
// Example (examples/multishot_reader.cpp):
//   coring::recv_buffer_pool pool(64, 4096);       // once per runtime, shared by readers
//   coring::multishot_reader in(conn, pool);       // per connection; conn outlives it
//   std::string got;
//   char buf[256];
//   for (std::size_t n; (n = co_await in.read_some(std::span(buf))) > 0;) got.append(buf, n);
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "coring/detail/ilist.hpp"
#include "coring/detail/waiter.hpp"
#include "coring/tcp.hpp"

namespace coring {

namespace detail {
struct multishot_state;
struct starved_tag {};
}  // namespace detail

// Receive buffers the kernel picks from (a provided buffer ring, IORING_REGISTER_PBUF_RING),
// for multishot receives. Memory: count * size bytes, allocated once. A buffer is lent to
// the kernel until the reader that received into it has copied it out, so `count` bounds
// the bytes in flight across every reader of the pool. Not movable.
// (Example: the header's.)
class recv_buffer_pool {
 public:
  // Allocates `count` buffers of `size` bytes and registers them with the running
  // runtime's ring. Call inside a running task; the pool must outlive every
  // multishot_reader using it. When the kernel refuses the buffer ring (Linux < 5.19, or a
  // seccomp filter on io_uring_register) the pool still works: its readers then make one
  // plain receive at a time (ring_registered() says which).
  // Errors: std::invalid_argument when `count` is not a power of two in 1..32768 or `size`
  // is outside 1..2^30; std::logic_error outside a runtime; std::bad_alloc.
  explicit recv_buffer_pool(unsigned count = 256, unsigned size = 4096);
  // Unregisters the buffer ring (on the runtime's thread) and frees the memory.
  ~recv_buffer_pool();
  recv_buffer_pool(const recv_buffer_pool&) = delete;
  recv_buffer_pool& operator=(const recv_buffer_pool&) = delete;

  // The number of buffers and the size of each, as constructed.
  unsigned count() const noexcept { return count_; }
  unsigned buffer_size() const noexcept { return size_; }
  // The buffer group id the kernel knows the ring by (IOSQE_BUFFER_SELECT's buf_group).
  std::uint16_t group() const noexcept { return bgid_; }
  // False when the kernel refused the buffer ring: readers then make one plain receive at
  // a time into buffers taken from this pool.
  bool ring_registered() const noexcept { return registered_; }

 private:
  friend struct detail::multishot_state;
  friend class multishot_reader;
  // The bytes of buffer `bid`, and giving it back (to the kernel's ring, or to the free
  // list of the fallback).
  char* buffer(unsigned bid) noexcept { return data_ + static_cast<std::size_t>(bid) * size_; }
  void recycle(unsigned bid) noexcept;
  // A reader whose multishot ended for lack of buffers: re-armed when one comes back.
  void wait_for_buffer(detail::multishot_state& st) noexcept;
  // Fallback: takes a buffer nobody holds; false when all are lent.
  bool take_free(unsigned& bid) noexcept;

  detail::ilist<detail::multishot_state, detail::starved_tag> starved_;
  detail::loop* lp_;
  void* ring_mem_ = nullptr;
  char* data_ = nullptr;
  unsigned count_;
  unsigned size_;
  std::uint16_t bgid_ = 0;
  bool registered_ = false;
  std::vector<unsigned> free_;  // fallback only: buffers not lent to a receive
};

// A multishot receive on a tcp_stream: ONE IORING_OP_RECV (multishot, buffer select) stays
// in the kernel and queues every arrival; read_some() copies out of the queue. When the
// pool runs dry the kernel ends the multishot; it is re-armed as buffers are given back.
// The stream must outlive the reader; do not mix with tcp_stream::read_some on the same
// stream. Move-only; the destructor cancels the receive and waits (in the kernel) for it
// to end, so destroy it on the runtime's thread.
// (Example: the header's.)
class multishot_reader {
 public:
  // Binds a reader to `stream`; the first read_some arms the multishot receive (one SQE).
  // Throws only std::bad_alloc; reading a closed stream fails with EBADF.
  multishot_reader(tcp_stream& stream, recv_buffer_pool& pool);
  // Moves the receive and what it has queued; the source must not be read any more.
  multishot_reader(multishot_reader&&) noexcept;
  multishot_reader& operator=(multishot_reader&&) = delete;
  // Cancels the multishot receive, waits for its last CQE and gives its buffers back.
  ~multishot_reader();

  // The awaitable read_some returns.
  class read_op;
  // Like tcp_stream::read_some: returns up to buf.size() bytes, 0 at end of stream.
  // Cancellation: cancel-safe (received data stays queued for the next call). Not a single
  // io_uring operation, so with_timeout uses a cancel scope (no linked timeout).
  // Errors: std::system_error "recv 127.0.0.1:80: Connection reset by peer".
  //
  //   std::size_t n = co_await in.read_some(std::span(buf));
  read_op read_some(std::span<char> buf) noexcept;
  read_op read_some(void* data, std::size_t n) noexcept;

  // Bytes received and not yet read (what the next read_some returns at once, up to its
  // buffer's size). Never throws.
  std::size_t buffered() const noexcept;

 private:
  std::unique_ptr<detail::multishot_state> st_;
};

// The awaitable of multishot_reader::read_some (the coroutine awaiter protocol; its
// behaviour is read_some's). Await it once, in the task that made it.
class multishot_reader::read_op : detail::waiter {
 public:
  read_op(detail::multishot_state* st, char* buf, std::size_t n) noexcept : st_(st), buf_(buf), n_(n) {}
  read_op(read_op&& o) noexcept : waiter(), st_(o.st_), buf_(o.buf_), n_(o.n_) {}
  read_op& operator=(read_op&&) = delete;
  ~read_op();
  bool await_ready();
  bool await_suspend(std::coroutine_handle<> h);
  std::size_t await_resume();
  void wake_reader() noexcept { wake(true); }

 private:
  static void on_abort(detail::wait_hook* w) noexcept;
  detail::multishot_state* st_;
  char* buf_;
  std::size_t n_;
};

}  // namespace coring
