// Multishot receive over a provided buffer ring.
#include "coring/multishot.hpp"

#include <cerrno>
#include <cstdlib>
#include <deque>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace coring {

namespace detail {

struct multishot_state : request, hook<starved_tag> {
  struct chunk {
    unsigned bid;
    unsigned len;
    unsigned off;
  };
  int fd = -1;
  recv_buffer_pool* pool = nullptr;
  std::deque<chunk> ready;
  std::size_t bytes = 0;
  multishot_reader::read_op* reader = nullptr;
  int error = 0;
  bool eof = false;
  bool closing = false;

  multishot_state() noexcept : request(&on_cqe, nullptr) {}

  static constexpr unsigned no_buffer = ~0u;
  unsigned own_bid = no_buffer;  // plain-receive fallback: the buffer the recv fills

  void arm() {
    if (pool->ring_registered()) {
      submit(current_loop(), [this](io_uring_sqe* sqe) {
        io_uring_prep_recv_multishot(sqe, fd, nullptr, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = pool->group();
      });
      return;
    }
    // The kernel refused the buffer ring: one plain receive at a time into a buffer taken
    // from the pool's free list.
    if (!pool->take_free(own_bid)) {
      pool->wait_for_buffer(*this);
      return;
    }
    submit(current_loop(), [this](io_uring_sqe* sqe) {
      io_uring_prep_recv(sqe, fd, pool->buffer(own_bid), pool->buffer_size(), 0);
    });
  }
  bool can_arm() const noexcept { return !live() && !closing && !eof && !error; }

  static void on_cqe(request* r, const io_uring_cqe& cqe) noexcept {
    auto* self = static_cast<multishot_state*>(r);
    const int res = cqe.res;
    const bool selected = cqe.flags & IORING_CQE_F_BUFFER;
    if (selected || self->own_bid != no_buffer) {
      const unsigned bid = selected ? cqe.flags >> IORING_CQE_BUFFER_SHIFT : std::exchange(self->own_bid, no_buffer);
      if (res > 0 && !self->closing) {
        self->ready.push_back({bid, static_cast<unsigned>(res), 0});
        self->bytes += static_cast<unsigned>(res);
      } else {
        self->pool->recycle(bid);
      }
    }
    if (res == 0) {
      self->eof = true;
    } else if (res == -ENOBUFS) {
      // The pool is dry: start again when a buffer comes back.
      if (!self->closing) self->pool->wait_for_buffer(*self);
    } else if (res < 0 && res != -ECANCELED && !self->closing) {
      self->error = res;
    }
    if (self->reader && (!self->ready.empty() || self->eof || self->error)) {
      std::exchange(self->reader, nullptr)->wake_reader();
    } else if (self->reader && self->can_arm() && !self->linked() && res != -ENOBUFS) {
      self->arm();  // the kernel ended the multishot (e.g. CQ overflow): keep receiving
    }
  }
};

}  // namespace detail

namespace {
thread_local std::uint16_t tl_next_bgid = 0x6300;
}

recv_buffer_pool::recv_buffer_pool(unsigned count, unsigned size)
    : lp_(&detail::current_loop()), count_(count), size_(size) {
  if (count == 0 || count > 32768 || (count & (count - 1)) != 0)
    throw std::invalid_argument(fmt::format("coring::recv_buffer_pool: count {} must be a power of two in 1..32768", count));
  if (size == 0 || size > (1u << 30))
    throw std::invalid_argument(fmt::format("coring::recv_buffer_pool: buffer size {} must be in 1..2^30", size));
  const std::size_t ring_bytes = std::max<std::size_t>(count * sizeof(io_uring_buf), 4096);
  if (::posix_memalign(&ring_mem_, 4096, ring_bytes) != 0) throw std::bad_alloc();
  const std::size_t data_bytes = (static_cast<std::size_t>(count) * size + 63) / 64 * 64;
  data_ = static_cast<char*>(std::aligned_alloc(64, data_bytes));
  if (!data_) {
    std::free(ring_mem_);
    throw std::bad_alloc();
  }
  auto* br = static_cast<io_uring_buf_ring*>(ring_mem_);
  io_uring_buf_ring_init(br);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(ring_mem_);
  reg.ring_entries = count;
  int r = -EEXIST;
  for (int tries = 0; tries < 256 && r == -EEXIST; ++tries) {
    bgid_ = tl_next_bgid++;
    reg.bgid = bgid_;
    r = io_uring_register_buf_ring(lp_->uring().raw(), &reg, 0);
  }
  if (r < 0) {
    // Refused (a seccomp filter on io_uring_register, a kernel before 5.19): readers fall
    // back to one plain receive at a time, with the buffers handed out from a free list.
    registered_ = false;
    free_.reserve(count);
    for (unsigned i = count; i-- > 0;) free_.push_back(i);
    return;
  }
  registered_ = true;
  const int mask = io_uring_buf_ring_mask(count);
  for (unsigned i = 0; i < count; ++i)
    io_uring_buf_ring_add(br, buffer(i), size, static_cast<unsigned short>(i), mask, static_cast<int>(i));
  io_uring_buf_ring_advance(br, static_cast<int>(count));
}

recv_buffer_pool::~recv_buffer_pool() {
  if (registered_ && detail::this_thread().lp == lp_) io_uring_unregister_buf_ring(lp_->uring().raw(), bgid_);
  std::free(ring_mem_);
  std::free(data_);
}

bool recv_buffer_pool::take_free(unsigned& bid) noexcept {
  if (free_.empty()) return false;
  bid = free_.back();
  free_.pop_back();
  return true;
}

void recv_buffer_pool::recycle(unsigned bid) noexcept {
  if (registered_) {
    auto* br = static_cast<io_uring_buf_ring*>(ring_mem_);
    io_uring_buf_ring_add(br, buffer(bid), size_, static_cast<unsigned short>(bid), io_uring_buf_ring_mask(count_), 0);
    io_uring_buf_ring_advance(br, 1);
  } else {
    free_.push_back(bid);  // reserved to `count`: never allocates
  }
  if (detail::multishot_state* st = starved_.pop_front())
    if (st->can_arm()) st->arm();
}

void recv_buffer_pool::wait_for_buffer(detail::multishot_state& st) noexcept { starved_.push_back(st); }

multishot_reader::multishot_reader(tcp_stream& stream, recv_buffer_pool& pool)
    : st_(std::make_unique<detail::multishot_state>()) {
  st_->fd = stream.native_handle();
  st_->pool = &pool;
}

multishot_reader::multishot_reader(multishot_reader&&) noexcept = default;

multishot_reader::~multishot_reader() {
  if (!st_) return;
  detail::multishot_state& st = *st_;
  st.closing = true;
  st.unlink();
  const bool settled = st.settle();
  for (const auto& c : st.ready) st.pool->recycle(c.bid);
  st.ready.clear();
  if (!settled) (void)st_.release();  // the kernel may still name it: never free it
}

multishot_reader::read_op multishot_reader::read_some(std::span<char> buf) noexcept {
  return read_op(st_.get(), buf.data(), buf.size());
}
multishot_reader::read_op multishot_reader::read_some(void* data, std::size_t n) noexcept {
  return read_op(st_.get(), static_cast<char*>(data), n);
}
std::size_t multishot_reader::buffered() const noexcept { return st_ ? st_->bytes : 0; }

multishot_reader::read_op::~read_op() {
  if (st_ && st_->reader == this) st_->reader = nullptr;
}

bool multishot_reader::read_op::await_ready() {
  if (!st_) throw std::logic_error("coring::multishot_reader::read_some: the reader is empty (moved from)");
  if (detail::running_task()->cancelled()) {
    refused = true;
    return true;
  }
  if (!st_->ready.empty() || st_->eof || st_->error) return true;
  if (st_->can_arm() && !st_->linked()) st_->arm();
  return false;
}

bool multishot_reader::read_op::await_suspend(std::coroutine_handle<> h) {
  if (st_->reader)
    throw std::logic_error("coring::multishot_reader::read_some: another task is already reading; one reader at a time");
  if (!park(h, &on_abort, "multishot recv")) return false;
  st_->reader = this;
  return true;
}

void multishot_reader::read_op::on_abort(detail::wait_hook* w) noexcept {
  auto* self = static_cast<read_op*>(static_cast<detail::waiter*>(w));
  if (self->st_->reader == self) self->st_->reader = nullptr;
  self->wake(false);
}

std::size_t multishot_reader::read_op::await_resume() {
  done_waiting();
  if (refused || aborted) throw cancelled{};  // anything received stays queued
  detail::multishot_state& st = *st_;
  std::size_t got = 0;
  while (got < n_ && !st.ready.empty()) {
    auto& c = st.ready.front();
    const std::size_t k = std::min<std::size_t>(c.len - c.off, n_ - got);
    std::memcpy(buf_ + got, st.pool->buffer(c.bid) + c.off, k);
    c.off += static_cast<unsigned>(k);
    got += k;
    st.bytes -= k;
    if (c.off == c.len) {
      const unsigned bid = c.bid;
      st.ready.pop_front();
      st.pool->recycle(bid);
    }
  }
  if (got > 0 || n_ == 0) return got;
  if (st.error) detail::throw_socket_error(st.error, "recv", st.fd);
  return 0;  // end of stream
}

}  // namespace coring
