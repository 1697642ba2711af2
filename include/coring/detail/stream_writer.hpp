// tcp_stream's write-behind (issue 12: one io_uring_enter per request in the default mode).
//
// Why: a task that writes a reply and then waits for the next request makes the loop enter
// twice per request if it waits for its send: once to submit the send (which completes
// during the submit and ends the wait at once) and once to sleep for the next receive. A
// small write_all is therefore copied into a buffer the stream owns and queued as one send
// that no task waits for, so the writer goes straight on to its next receive, and the loop
// submits both and sleeps in the same enter: it waits for the send's own completion plus one
// more event ("quiet" sends, detail/ring.hpp). Nobody is delayed by that wait: the reply has
// left during the submit, and the only task the send's completion concerns is a later write
// on the same stream, which waits for it explicitly (and then the send is no longer quiet).
//
// Rules:
//  - At most one write-behind send per stream is queued or in the kernel; the next write
//    waits for it (so it learns the send's outcome, keeps the byte order, and the stream
//    buffers at most max_copy bytes beyond the kernel's socket buffer). Writes are not
//    joined into one send: a stream of small writes to a dead peer must fail at the second
//    write, as it would without write-behind, not after 16 KiB.
//  - The first failure of a write-behind send is sticky: every later write, flush or
//    shutdown of the stream throws it (bytes after a failed send can never arrive in order).
//  - A send is counted quiet only when the previous one completed in the enter that submitted
//    it; a stream whose sends wait for socket room is not counted (its completion comes late,
//    and a wait that counted it would sleep past the next event until the loop's bound).
//  - The writer outlives its stream while its send is in the kernel (it is then an orphan of
//    the loop, freed by its completion), and the loop settles every writer before its ring
//    goes, so no buffer dies while the kernel may still read it. An orphan's send is
//    cancelled after `linger` (a peer that reads nothing must not hold the socket open).
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

#include "coring/detail/loop.hpp"
#include "coring/detail/request.hpp"
#include "coring/detail/wait_list.hpp"

namespace coring::detail {

class stream_writer final : request, loop_resident {
 public:
  // Writes up to this size are copied and written behind; larger ones are sent from the
  // caller's buffer (copying them would cost more than the enter it saves).
  static constexpr std::size_t max_copy = 16 * 1024;
  // How long the send of a stream that was closed or destroyed may wait for its peer to take
  // the bytes: as long as Linux keeps an orphaned connection in FIN-WAIT-2 by default.
  static constexpr std::chrono::seconds linger{60};

  // The writer of a stream on `l` (the running loop).
  explicit stream_writer(loop& l) noexcept;
  stream_writer(const stream_writer&) = delete;
  stream_writer& operator=(const stream_writer&) = delete;

  // The stream lets go of its writer (destroyed, closed, or its descriptor released). An
  // idle writer is freed; a busy one frees itself when its send completes. With `submit`, a
  // send still queued in the SQ is submitted now, so it is in the kernel before the caller
  // closes the descriptor with close(2) (the send then holds the socket; the bytes leave);
  // without, the caller queues an IORING_OP_CLOSE behind it, which the kernel takes in order.
  static void release(stream_writer* w, bool submit) noexcept;

  // Copies `data` (at most max_copy bytes) and queues its send on `fd`. Precondition: not
  // busy(). Throws std::bad_alloc (nothing queued) when memory runs out.
  void append(int fd, std::string_view data);
  // Waits until no send of ours is queued or in the kernel. A cancellation point (throws
  // coring::cancelled; the send goes on). Does not throw the send's error: check() does.
  struct idle_awaiter {
    explicit idle_awaiter(stream_writer& of) noexcept : w(of) {}
    stream_writer& w;
    list_waiter lw;
    bool await_ready() const noexcept { return !w.busy(); }
    bool await_suspend(std::coroutine_handle<> h) { return w.park(lw, h); }
    void await_resume() { lw.finish(); }
  };
  idle_awaiter idle() noexcept { return idle_awaiter(*this); }
  bool busy() const noexcept { return request::busy(); }
  // Throws the sticky error of a failed send (std::system_error "send <peer>: <error>",
  // named by `fd`, the stream's descriptor), if there was one.
  void check(int fd) const;

 private:
  ~stream_writer();
  static void on_cqe(request* r, const io_uring_cqe& cqe) noexcept;
  static void on_settled(request* r) noexcept;
  static void on_loop_end(loop_resident* r) noexcept;
  static void on_linger_end(timer_entry* t) noexcept;
  // Starts a wait for the send (idle()). Throws std::logic_error when the running loop is
  // not the one whose ring holds the send: a stream handed to another loop thread before
  // its last send completed would park the task on that thread's lists and be resumed
  // there (best effort: the send may complete meanwhile, which the stream's threading rule
  // forbids in the first place).
  bool park(list_waiter& lw, std::coroutine_handle<> h);
  void submit_rest();
  bool queued() const noexcept;
  void reserve(std::size_t n);

  loop* loop_;  // null once that loop has ended
  struct linger_timer : timer_entry {
    stream_writer* owner;
  } linger_timer_;
  wait_list idle_;
  char* buf_ = nullptr;
  std::size_t cap_ = 0, len_ = 0, sent_ = 0;
  std::uint64_t queued_at_ = 0;      // the ring's enter count when it was queued
  int fd_ = -1;
  int error_ = 0;                    // -errno of the first failed send
  bool quiet_ = false;               // counted as a quiet send for the enter that submits it
  bool was_inline_ = true;           // the last send completed in the enter that submitted it
  bool orphan_ = false;              // the stream is gone: free on settling
  bool ending_ = false;              // the loop is ending: settle, send nothing more
};

}  // namespace coring::detail
