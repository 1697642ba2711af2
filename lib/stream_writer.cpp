#include "coring/detail/stream_writer.hpp"

#include <sys/socket.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <system_error>

#include "coring/endpoint.hpp"  // throw_socket_error

namespace coring::detail {

namespace {
// A buffer this small is kept between sends; a larger one (a big reply) goes back to the
// allocator once its send is done, so idle connections hold little.
constexpr std::size_t kept_buffer = 4096;
}  // namespace

stream_writer::stream_writer(loop& l) noexcept : request(&on_cqe, &on_settled), loop_(&l) {
  loop_resident::on_loop_end = &stream_writer::on_loop_end;
  linger_timer_.fire = &on_linger_end;
  linger_timer_.owner = this;
  l.add_resident(*this);
}

stream_writer::~stream_writer() {
  if (loop_) loop_->remove_timer(linger_timer_);
  std::free(buf_);
}

void stream_writer::release(stream_writer* w, bool submit) noexcept {
  if (!w) return;
  if (!w->busy() || !w->loop_) {
    delete w;
    return;
  }
  // From now on the writer frees itself when its send completes (or when the loop ends).
  w->orphan_ = true;
  // Only the loop's own thread may touch its ring and timers: a stream destroyed on another
  // thread with a send pending breaks the stream's threading rule, and gets no more.
  if (this_thread().lp != w->loop_) return;
  // The caller closes the descriptor next: a queued send must be in the kernel by then (it
  // holds the socket, so the bytes still leave).
  if (submit && w->queued()) w->loop_->submit_now();
  w->linger_timer_.when = clock::now() + linger;
  try {
    w->loop_->add_timer(w->linger_timer_);
  } catch (const std::bad_alloc&) {
    // no room in the timer heap: the send lingers until the peer takes it or the loop ends
  }
}

void stream_writer::on_linger_end(timer_entry* t) noexcept {
  // The peer took nothing for `linger` after its stream was closed: give up the bytes.
  static_cast<linger_timer*>(t)->owner->cancel();
}

bool stream_writer::queued() const noexcept {
  return busy() && loop_ && loop_->uring().counters().enters == queued_at_;
}

void stream_writer::reserve(std::size_t n) {
  if (n <= cap_) return;
  std::size_t ncap = cap_ ? cap_ : 256;
  while (ncap < n) ncap *= 2;
  auto* nb = static_cast<char*>(std::realloc(buf_, ncap));
  if (!nb) throw std::bad_alloc();
  buf_ = nb;
  cap_ = ncap;
}

void stream_writer::append(int fd, std::string_view data) {
  // A stream moved to another loop thread while idle: its writer moves with it.
  loop& l = current_loop();
  if (!busy() && loop_ != &l) {
    loop_resident::unlink();
    loop_ = &l;
    l.add_resident(*this);
  }
  reserve(data.size());
  std::memcpy(buf_, data.data(), data.size());
  len_ = data.size();
  sent_ = 0;
  fd_ = fd;
  submit_rest();
}

void stream_writer::submit_rest() {
  loop& l = *loop_;
  // get_sqe flushes a full SQ (an enter) before handing out the slot: read the enter count
  // after taking it, so the SQE counts as queued until the next enter.
  submit(l, [this](io_uring_sqe* sqe) {
    io_uring_prep_send(sqe, fd_, buf_ + sent_, len_ - sent_, MSG_NOSIGNAL | MSG_WAITALL);
  });
  queued_at_ = l.uring().counters().enters;
  quiet_ = was_inline_;
  if (quiet_) l.uring().note_quiet();
}

bool stream_writer::park(list_waiter& lw, std::coroutine_handle<> h) {
  if (loop_ && loop_ != this_thread().lp)
    throw std::logic_error(
        "coring::tcp_stream: used on another loop thread while its last write_all is still being sent on the "
        "thread that wrote it; await flush() on that thread before handing the stream over");
  // A task now waits for the send: it is not quiet any more, or the loop's wait would count
  // its CQE as one nobody needs and sleep past it.
  if (quiet_ && queued()) {
    loop_->uring().unnote_quiet();
    quiet_ = false;
  }
  return lw.wait_on(idle_, h, "tcp_stream write");
}

void stream_writer::on_cqe(request* r, const io_uring_cqe& cqe) noexcept {
  auto* self = static_cast<stream_writer*>(r);
  loop& l = *self->loop_;
  // Completed in the enter that submitted it (the next one after queuing): the next send of
  // this stream will likely do so too.
  self->was_inline_ = l.uring().counters().enters == self->queued_at_ + 1;
  if (self->quiet_) {
    l.quiet_send_done();
    self->quiet_ = false;
  }
  if (cqe.res < 0) {
    if (self->error_ == 0) self->error_ = cqe.res;
    return;
  }
  if (cqe.res == 0) {
    if (self->error_ == 0) self->error_ = -EPIPE;
    return;
  }
  self->sent_ += static_cast<std::size_t>(cqe.res);
  // MSG_WAITALL makes the kernel retry a short send itself; one cut short all the same (a
  // signal) is sent on from where it stopped, before anyone waiting hears of it.
  if (self->sent_ < self->len_ && !self->ending_) {
    try {
      self->submit_rest();
    } catch (const std::system_error& e) {
      self->error_ = -e.code().value();  // the SQ stays full: the rest cannot be sent
    }
  }
}

void stream_writer::on_settled(request* r) noexcept {
  auto* self = static_cast<stream_writer*>(r);
  if (self->orphan_) {
    delete self;
    return;
  }
  self->len_ = self->sent_ = 0;
  if (self->cap_ > kept_buffer) {
    std::free(self->buf_);
    self->buf_ = nullptr;
    self->cap_ = 0;
  }
  self->idle_.notify_all();
}

void stream_writer::on_loop_end(loop_resident* lr) noexcept {
  auto* self = static_cast<stream_writer*>(lr);
  // Cancel a send still waiting for socket room and wait for its CQE: the ring is about to
  // go, and the buffer must not die while the kernel may read it.
  self->ending_ = true;  // no re-submission from on_cqe while settling
  (void)self->settle();
  if (self->orphan_) {
    delete self;
    return;
  }
  // The stream still owns this writer; its next write finds no loop and moves it to the
  // running one (or its destructor frees it).
  self->ending_ = false;
  self->loop_ = nullptr;
  self->len_ = self->sent_ = 0;
}

void stream_writer::check(int fd) const {
  if (error_ < 0) throw_socket_error(error_, "send", fd);
}

}  // namespace coring::detail
