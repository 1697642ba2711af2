#include "coring/blocking.hpp"

#include "coring/detail/wake.hpp"

#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace coring::detail {
namespace {

// ---- the eventfd fallback: one inbox per loop thread ----

// Workers push finished jobs here and bump the eventfd; the loop keeps ONE read on the
// eventfd in flight while any of its jobs is outstanding, and completes the jobs it finds.
struct inbox : request {
  int efd = -1;
  std::uint64_t counter = 0;            // the read's buffer
  std::mutex mu;
  std::vector<blocking_job*> done;      // guarded by mu
  loop* lp = nullptr;
  unsigned outstanding = 0;             // jobs submitted from this thread, not yet completed

  inbox() noexcept : request(&on_read, &on_settled) {}
  ~inbox() {
    std::lock_guard lk(mu);  // a worker writes the eventfd while holding mu
    if (efd >= 0) ::close(efd);
  }

  void arm() {
    submit(*lp, [this](io_uring_sqe* sqe) { io_uring_prep_read(sqe, efd, &counter, sizeof counter, 0); });
  }

  static void on_read(request* r, const io_uring_cqe&) noexcept {
    auto* self = static_cast<inbox*>(r);
    std::vector<blocking_job*> got;
    {
      std::lock_guard lk(self->mu);
      got.swap(self->done);
    }
    for (blocking_job* j : got) {
      --self->outstanding;
      io_uring_cqe announced{};
      announced.user_data = user_data(j, tag_op);
      j->complete(j, announced);
    }
  }
  static void on_settled(request* r) noexcept {
    auto* self = static_cast<inbox*>(r);
    if (self->outstanding > 0) self->arm();
  }
  void job_gone() noexcept {
    // The last job left without a completion: the read has nothing to wait for.
    if (--outstanding == 0) cancel();
  }
};

inbox& thread_inbox(loop& lp) {
  thread_local inbox ib;
  if (ib.efd < 0) {
    ib.efd = ::eventfd(0, EFD_CLOEXEC);
    if (ib.efd < 0) throw_errno(-errno, "run_blocking: eventfd for the wake-up inbox");
  }
  if (ib.lp != &lp) {
    // A new runtime on this thread: nothing can be outstanding (every job's awaiter waits
    // for its completion before its runtime can end).
    ib.lp = &lp;
    ib.outstanding = 0;
  }
  return ib;
}

// ---- the pool ----

std::atomic<int> forced_mode{-1};

unsigned default_threads() noexcept {
  const unsigned hc = std::thread::hardware_concurrency();
  return std::clamp(hc, 2u, 4u);
}

class pool {
 public:
  pool() : msg_ring_(probed_wakeup() == wakeup::msg_ring), max_threads_(default_threads()) {}
  ~pool() {
    {
      std::lock_guard lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  bool msg_ring() const noexcept { return msg_ring_; }
  unsigned max_threads() {
    std::lock_guard lk(mu_);
    return max_threads_;
  }
  void set_max_threads(unsigned n) {
    {
      std::lock_guard lk(mu_);
      max_threads_ = n;
    }
    cv_.notify_all();
  }

  void push(blocking_job* j) {
    std::unique_lock lk(mu_);
    if (idle_ == 0 && threads_.size() < max_threads_) {
      try {
        start_worker();
      } catch (const std::system_error&) {
        // Without any worker the job could never run: the caller must hear it now.
        if (threads_.empty()) throw;
        // Otherwise the existing workers will get to it.
      }
    }
    q_.push_back(j);
    lk.unlock();
    cv_.notify_one();
  }

  bool withdraw(blocking_job* j) noexcept {
    std::lock_guard lk(mu_);
    auto it = std::find(q_.begin(), q_.end(), j);
    if (it == q_.end()) return false;
    q_.erase(it);
    return true;
  }

 private:
  // Called with mu_ held. Everything a worker needs to report back is created here,
  // before it can take a job.
  void start_worker() {
    io_uring ring{};
    bool have_ring = false;
    if (msg_ring_) {
      const int r = io_uring_queue_init(4, &ring, 0);
      if (r < 0)
        throw std::system_error(-r, std::system_category(),
                                "coring::run_blocking: cannot start a pool worker: io_uring_queue_init for "
                                "its wake-up ring failed (out of descriptors or locked memory?); free "
                                "some, or raise RLIMIT_NOFILE / RLIMIT_MEMLOCK");
      have_ring = true;
    }
    // Workers block every signal so that process-directed signals reach the loop threads
    // (wait_for_signal) instead of a worker that would die of them.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    try {
      threads_.emplace_back([this, ring, have_ring]() mutable { work(ring, have_ring); });
    } catch (const std::system_error& e) {
      pthread_sigmask(SIG_SETMASK, &old, nullptr);
      if (have_ring) io_uring_queue_exit(&ring);
      throw std::system_error(e.code(), std::string("coring::run_blocking: cannot start a pool worker thread: ") + e.what());
    }
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

  void work(io_uring ring, bool have_ring) {
    // Not the name of the thread that started it (a loop thread's, say).
    (void)pthread_setname_np(pthread_self(), "coring-blocking");
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
        eventfd_signal(ib->efd);
        continue;
      }
      // The CQE tells the loop that the result is in, but the kernel is no synchroniser
      // ThreadSanitizer can see: publish the result with a release the loop acquires.
      const int target = j->target_ring_fd;
      const std::uint64_t ud = user_data(j, tag_op);
      j->ran.store(true, std::memory_order_release);
      announce(ring, target, ud);
    }
    if (have_ring) io_uring_queue_exit(&ring);
  }

  static void announce(io_uring& ring, int target, std::uint64_t ud) {
    for (;;) {
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      io_uring_prep_msg_ring(sqe, target, 0, ud, 0);
      io_uring_cqe* cqe = nullptr;
      int r = io_uring_submit_and_wait(&ring, 1);
      if (r >= 0) r = io_uring_wait_cqe(&ring, &cqe);
      int res = r;
      if (r >= 0) {
        res = cqe->res;
        io_uring_cqe_seen(&ring, cqe);
      }
      if (res >= 0) return;
      // The target's CQ is momentarily full or the kernel is short of memory: try again;
      // the loop is waiting for exactly this CQE.
      if (res == -EINTR || res == -EAGAIN || res == -EBUSY || res == -ENOMEM || res == -EOVERFLOW) {
        std::this_thread::yield();
        continue;
      }
      fatal(res);
    }
  }

  [[noreturn]] static void fatal(int res) noexcept {
    // The target ring refused the message for good (it no longer exists): the awaiting task
    // can never be resumed, and its frame is still in use by this job.
    std::fprintf(stderr, "coring: fatal: run_blocking worker: IORING_OP_MSG_RING to the runtime's ring failed: %s\n",
                 std::strerror(-res));
    std::fflush(stderr);
    std::terminate();
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<blocking_job*> q_;
  std::vector<std::thread> threads_;
  bool msg_ring_;
  unsigned max_threads_;
  unsigned idle_ = 0;
  bool stop_ = false;
};

pool& the_pool() {
  static pool p;  // process-wide; joined at exit
  return p;
}

}  // namespace

blocking_wakeup probed_blocking_wakeup() noexcept { return probed_wakeup(); }

blocking_wakeup blocking_wakeup_mode() noexcept {
  const int f = forced_mode.load(std::memory_order_relaxed);
  if (f >= 0) return static_cast<blocking_wakeup>(f);
  return probed_blocking_wakeup();
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
    job.expect_external(lp, true);
  } else {
    inbox& ib = thread_inbox(lp);
    job.inbox = &ib;
    p.push(&job);
    job.expect_external(lp, false);
    ++ib.outstanding;
    if (!ib.live() && !ib.busy()) ib.arm();
  }
}

bool withdraw_blocking(blocking_job& job, bool notify) noexcept {
  if (!the_pool().withdraw(&job)) return false;
  if (job.inbox) static_cast<inbox*>(job.inbox)->job_gone();
  job.withdraw_external(notify);
  return true;
}

}  // namespace coring::detail

namespace coring {

unsigned blocking_threads() noexcept {
  try {
    return detail::the_pool().max_threads();
  } catch (...) {
    return 0;
  }
}

void set_blocking_threads(unsigned n) {
  if (n == 0 || n > 1024)
    throw std::invalid_argument("coring::set_blocking_threads: " + std::to_string(n) +
                                " is out of range; pass 1..1024 worker threads");
  detail::the_pool().set_max_threads(n);
}

}  // namespace coring
