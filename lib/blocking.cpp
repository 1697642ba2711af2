#include "coring/blocking.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace coring::detail {
namespace {

// ---- the eventfd fallback: one inbox per loop thread ----

// Workers push finished jobs here and bump the eventfd; the loop keeps ONE read on the
// eventfd in flight while any of its jobs is outstanding, and completes the jobs it finds.
struct inbox : completion {
  int efd = -1;
  std::uint64_t counter = 0;            // the read's buffer
  std::mutex mu;
  std::vector<blocking_job*> done;      // guarded by mu
  loop* lp = nullptr;
  unsigned outstanding = 0;             // jobs submitted from this thread, not yet completed
  bool reading = false;

  inbox() noexcept { complete = &on_read; }
  ~inbox() {
    std::lock_guard lk(mu);  // a worker writes the eventfd while holding mu
    if (efd >= 0) ::close(efd);
  }

  void arm() {
    io_uring_sqe* sqe = lp->get_sqe();
    io_uring_prep_read(sqe, efd, &counter, sizeof counter, 0);
    sqe->user_data = user_data(this, tag_op);
    reading = true;
  }

  static void on_read(completion* c, const io_uring_cqe&) noexcept {
    auto* self = static_cast<inbox*>(c);
    self->reading = false;
    std::vector<blocking_job*> got;
    {
      std::lock_guard lk(self->mu);
      got.swap(self->done);
    }
    for (blocking_job* j : got) {
      --self->outstanding;
      io_uring_cqe fake{};
      fake.user_data = reinterpret_cast<std::uintptr_t>(static_cast<completion*>(j));
      j->complete(j, fake);
    }
    if (self->outstanding > 0) self->arm();
  }
};

inbox& thread_inbox(loop& lp) {
  thread_local inbox ib;
  if (ib.efd < 0) {
    ib.efd = ::eventfd(0, EFD_CLOEXEC);
    if (ib.efd < 0) throw_errno(-errno, "eventfd for run_blocking");
  }
  if (ib.lp != &lp) {
    // A new runtime on this thread: nothing can be outstanding (every job's awaiter waits
    // for its completion before its runtime can end).
    ib.lp = &lp;
    ib.reading = false;
    ib.outstanding = 0;
  }
  return ib;
}

// ---- the pool ----

bool probe_msg_ring() noexcept {
  io_uring_probe* p = io_uring_get_probe();
  if (!p) return false;
  const bool ok = io_uring_opcode_supported(p, IORING_OP_MSG_RING);
  io_uring_free_probe(p);
  return ok;
}

std::atomic<int> forced_mode{-1};

class pool {
 public:
  pool() : msg_ring_(probe_msg_ring()) {
    const unsigned hc = std::thread::hardware_concurrency();
    max_threads_ = hc >= 4 ? 4 : (hc < 2 ? 2 : hc);
  }
  ~pool() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  bool msg_ring() const noexcept { return msg_ring_; }

  void push(blocking_job* j) {
    std::unique_lock lk(mu_);
    q_.push_back(j);
    if (idle_ == 0 && threads_.size() < max_threads_) {
      // Workers block every signal so that process-directed signals reach the loop
      // threads (wait_for_signal) instead of a worker that would die of them.
      sigset_t all, old;
      sigfillset(&all);
      pthread_sigmask(SIG_SETMASK, &all, &old);
      try {
        threads_.emplace_back([this] { work(); });
      } catch (...) {
        pthread_sigmask(SIG_SETMASK, &old, nullptr);
        if (threads_.empty()) {
          q_.pop_back();
          throw;
        }
        return;  // the existing workers will get to it
      }
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      return;
    }
    lk.unlock();
    cv_.notify_one();
  }

 private:
  void work() {
    io_uring ring{};
    bool have_ring = false;
    for (;;) {
      blocking_job* j;
      {
        std::unique_lock lk(mu_);
        ++idle_;
        cv_.wait(lk, [this] { return stop_ || !q_.empty(); });
        --idle_;
        if (q_.empty()) break;
        j = q_.front();
        q_.pop_front();
      }
      j->run(j);
      // From here on `j` may be freed by its loop as soon as it is announced.
      if (j->inbox) {
        auto* ib = static_cast<inbox*>(j->inbox);
        std::lock_guard lk(ib->mu);
        ib->done.push_back(j);
        const std::uint64_t one = 1;
        ssize_t w;
        do {
          w = ::write(ib->efd, &one, sizeof one);
        } while (w < 0 && errno == EINTR);
        continue;
      }
      if (!have_ring) {
        if (io_uring_queue_init(4, &ring, 0) != 0) fatal("cannot create a worker ring");
        have_ring = true;
      }
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      const std::uint64_t ud = reinterpret_cast<std::uintptr_t>(static_cast<completion*>(j));
      io_uring_prep_msg_ring(sqe, j->target_ring_fd, 0, ud, 0);
      io_uring_cqe* cqe = nullptr;
      int r = io_uring_submit_and_wait(&ring, 1);
      if (r >= 0) r = io_uring_wait_cqe(&ring, &cqe);
      if (r < 0) fatal("io_uring_submit for IORING_OP_MSG_RING failed");
      const int res = cqe->res;
      io_uring_cqe_seen(&ring, cqe);
      if (res < 0) fatal("IORING_OP_MSG_RING to the runtime's ring failed");
    }
    if (have_ring) io_uring_queue_exit(&ring);
  }

  [[noreturn]] static void fatal(const char* what) noexcept {
    // The loop is waiting for this CQE; without it the awaiting task would hang forever.
    std::fprintf(stderr, "coring: fatal: run_blocking worker: %s\n", what);
    std::fflush(stderr);
    std::terminate();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<blocking_job*> q_;
  std::vector<std::thread> threads_;
  std::size_t max_threads_ = 4;
  unsigned idle_ = 0;
  bool stop_ = false;
  bool msg_ring_;
};

pool& the_pool() {
  static pool p;  // process-wide; joined at exit
  return p;
}

}  // namespace

blocking_wakeup blocking_wakeup_mode() noexcept {
  const int f = forced_mode.load(std::memory_order_relaxed);
  if (f >= 0) return static_cast<blocking_wakeup>(f);
  return the_pool().msg_ring() ? blocking_wakeup::msg_ring : blocking_wakeup::eventfd;
}

void force_blocking_wakeup(blocking_wakeup mode) noexcept {
  forced_mode.store(static_cast<int>(mode), std::memory_order_relaxed);
}

void submit_blocking(blocking_job& job) {
  loop& lp = current_loop();
  pool& p = the_pool();
  if (blocking_wakeup_mode() == blocking_wakeup::msg_ring) {
    job.target_ring_fd = lp.uring().fd();
    job.inbox = nullptr;
    p.push(&job);
    lp.expect_cqe();
  } else {
    inbox& ib = thread_inbox(lp);
    job.inbox = &ib;
    p.push(&job);
    ++ib.outstanding;
    if (!ib.reading) ib.arm();
  }
}

}  // namespace coring::detail
