// Single-shot io_uring operations, declared as data: an operation is its io_uring_prep_*
// call, the arguments it keeps alive until the kernel is done, and a conversion of the
// result. Everything else — refusing to submit in a cancelled scope, IORING_OP_ASYNC_CANCEL
// when the task is cancelled, a linked IORING_OP_LINK_TIMEOUT for with_timeout, resuming the
// task only once every CQE naming the operation has arrived — is the kernel-request record's
// (detail/request.hpp) and this one template's, so no operation writes it again:
//
//   inline auto fsync_op(int fd) {
//     return make_op("fsync", [](int res, int fd, unsigned) {
//       if (res < 0) throw_errno(res, "fsync fd " + std::to_string(fd));
//     }, &io_uring_prep_fsync, fd, 0u);
//   }
//
// The arguments are stored by value inside the awaiting frame; a std::string or
// std::filesystem::path argument is handed to the prep call as its c_str(), so path
// operations keep their path alive. The
// result callable is called as result(res, args...) when it accepts that, else result(res).
// A result that completed before a cancel took hold is delivered (the task's next suspension
// point raises the cancellation), and a cancelled or timed-out operation throws
// coring::cancelled or coring::timeout_error instead of -ECANCELED.
#pragma once

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "coring/detail/request.hpp"
#include "coring/detail/waiter.hpp"

namespace coring::detail {

// The kernel's internal ERESTARTSYS, which no userspace header defines. A cancel that
// interrupts an operation blocked in an io-wq worker can hand it back as the CQE's result
// (IORING_OP_SPLICE into a full socket, kernel 6.18: "splice fd 8: Unknown error 512"), so
// it is read as -EINTR: "cut short", like -ECANCELED.
inline constexpr int kernel_erestartsys = 512;

// The most one read or write asks for: Linux's MAX_RW_COUNT (INT_MAX rounded down to a
// page), the largest length every read/write/send/recv path accepts in one call.
inline constexpr unsigned max_io_length = 0x7ffff000u;
inline unsigned clamp_io_length(std::size_t n) noexcept {
  return n > max_io_length ? max_io_length : static_cast<unsigned>(n);
}

// How a stored argument is handed to the prep call.
template <class T>
T& pass_arg(T& v) noexcept {
  return v;
}
inline const char* pass_arg(std::string& s) noexcept { return s.c_str(); }
inline const char* pass_arg(std::filesystem::path& p) noexcept { return p.c_str(); }

struct op_traits_default {
  static constexpr bool completes_inline = false;
  static constexpr bool link_timeout_reaches = true;
};
// For operations that usually finish during the submit itself (socket sends): the loop's
// batch mode then waits for their CQEs plus the next event in one enter.
struct op_traits_inline : op_traits_default {
  static constexpr bool completes_inline = true;
};
// For operations the kernel always hands to an io-wq worker, where they may block for good
// (a splice into a full socket). An IORING_OP_LINK_TIMEOUT linked to such a request never
// fires (Linux 6.18: neither CQE comes, measured with a plain liburing program), while
// IORING_OP_ASYNC_CANCEL does interrupt the worker. Such an op offers no set_link_timeout,
// so with_timeout gives it a cancel scope.
struct op_traits_worker : op_traits_default {
  static constexpr bool link_timeout_reaches = false;
};

template <class Result, class... Args>
struct op_result {
  using type = std::invoke_result_t<Result&, int>;
};
template <class Result, class... Args>
  requires std::is_invocable_v<Result&, int, Args&...>
struct op_result<Result, Args...> {
  using type = std::invoke_result_t<Result&, int, Args&...>;
};

template <class Traits, class Result, class Prep, class... Args>
class op : public request, protected parked {  // not final: tcp.hpp's stream_recv_op adds to await_resume
  using R = typename op_result<Result, Args...>::type;

 public:
  op(const char* name, Result result, Prep prep, Args... args)
      : request(&on_cqe, &on_settled), name_(name), result_(std::move(result)), prep_(prep),
        args_(std::move(args)...) {}
  // Operations are values until awaited (with_timeout moves them into its frame).
  op(op&& o) noexcept(std::is_nothrow_move_constructible_v<std::tuple<Args...>>)
      : request(&on_cqe, &on_settled), name_(o.name_), result_(std::move(o.result_)), prep_(o.prep_),
        args_(std::move(o.args_)), link_(o.link_), ts_(o.ts_) {}
  op& operator=(op&&) = delete;
  // Torn down while the kernel still owns our memory (a suspended task tree being
  // destroyed): cancel, then wait for every CQE before the frame may go.
  ~op() { (void)settle(); }

  // Used by with_timeout: attach an IORING_OP_LINK_TIMEOUT of `d` to this operation.
  void set_link_timeout(duration d) noexcept
    requires Traits::link_timeout_reaches
  {
    link_ = true;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    ts_.tv_sec = ns / 1'000'000'000;
    ts_.tv_nsec = ns % 1'000'000'000;
  }
  const char* name() const noexcept { return name_; }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    if (!park(h, &on_abort, name_)) return false;
    loop& l = current_loop();
    submit(
        l,
        [this](io_uring_sqe* sqe) {
          std::apply([&](Args&... a) { prep_(sqe, pass_arg(a)...); }, args_);
        },
        link_ ? &ts_ : nullptr);
    if constexpr (Traits::completes_inline) l.note_inline_completion();
    return true;
  }
  R await_resume() {
    done_waiting();
    if (refused) throw cancelled{};
    // Read as -EINTR: when no cancel of ours explains it, the error then says "Interrupted
    // system call" instead of "Unknown error 512".
    if (res_ == -kernel_erestartsys) res_ = -EINTR;
    if (res_ == -ECANCELED || res_ == -EINTR) {
      if (aborted) throw cancelled{};
      if (timed_out()) throw timeout_error(std::string("coring: ") + name_ + " timed out");
    }
    if constexpr (std::is_invocable_v<Result&, int, Args&...>)
      return std::apply([&](Args&... a) -> R { return result_(res_, a...); }, args_);
    else
      return result_(res_);
  }
  // The CQE flags of the completed operation (buffer ids, IORING_CQE_F_SOCK_NONEMPTY...).
  unsigned cqe_flags() const noexcept { return cqe_flags_; }

 private:
  static void on_abort(wait_hook* w) noexcept { static_cast<op*>(static_cast<parked*>(w))->cancel(); }
  static void on_cqe(request* r, const io_uring_cqe& cqe) noexcept {
    auto* self = static_cast<op*>(r);
    self->res_ = cqe.res;
    self->cqe_flags_ = cqe.flags;
    // The result is in: a later cancellation must not be sent for it (it is delivered).
    self->done_waiting();
  }
  static void on_settled(request* r) noexcept {
    auto* self = static_cast<op*>(r);
    self->resume_on(*self->owner_loop());
  }

  const char* name_;
  [[no_unique_address]] Result result_;
  Prep prep_;
  std::tuple<Args...> args_;
  bool link_ = false;
  __kernel_timespec ts_{};
  int res_ = 0;
  unsigned cqe_flags_ = 0;
};

// Declares a single-shot operation: `prep(sqe, args...)` fills the SQE, `result` turns the
// CQE's res into the awaited value (or throws through throw_errno).
template <class Traits = op_traits_default, class Result, class Prep, class... Args>
auto make_op(const char* name, Result result, Prep prep, Args... args) {
  return op<Traits, Result, Prep, Args...>(name, std::move(result), prep, std::move(args)...);
}

template <class Op>
concept io_operation = requires(Op& op, duration d) { op.set_link_timeout(d); };

// A result conversion for byte counts: returns res, or throws "<what> fd <fd>: <error>".
struct bytes_on_fd {
  const char* what;
  template <class... Rest>
  std::size_t operator()(int res, int fd, Rest&...) const {
    if (res < 0) throw_errno(res, std::string(what) + " fd " + std::to_string(fd));
    return static_cast<std::size_t>(res);
  }
};

// read(2) at an offset (-1: the file position, as for pipes and sockets). Returns bytes read.
inline auto read_op(int fd, void* buf, std::size_t len, std::uint64_t off = static_cast<std::uint64_t>(-1)) {
  return make_op("read", bytes_on_fd{"read"}, &io_uring_prep_read, fd, buf, clamp_io_length(len), off);
}

// write(2) at an offset (-1: the file position). Returns bytes written.
inline auto write_op(int fd, const void* buf, std::size_t len,
                     std::uint64_t off = static_cast<std::uint64_t>(-1)) {
  return make_op("write", bytes_on_fd{"write"}, &io_uring_prep_write, fd, buf, clamp_io_length(len), off);
}

using read_op_t = decltype(read_op(0, nullptr, 0));
using write_op_t = decltype(write_op(0, nullptr, 0));

}  // namespace coring::detail
