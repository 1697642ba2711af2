// task<T>: the coroutine type of coring (layer 3).
//
// A task is lazy (nothing runs until it is awaited or spawned), move-only and
// [[nodiscard]]. Awaiting a task runs it in the awaiting task's context (same cancel
// scopes) and hands control over by symmetric transfer, so deep await chains use no stack.
// Its result or exception is kept in the frame until the awaiter takes it. Frames come from
// a per-thread recycling allocator.
//
// Example (examples/task_answer.cpp):
//   coring::task<int> answer() { co_return 42; }
//
//   coring::task<int> twice() {
//     coring::task<int> t = answer();  // lazy: nothing has run yet
//     int x = co_await std::move(t);   // runs answer() now, in this task's cancel scopes
//     co_return 2 * x;
//   }
//
//   coring::task<> fails() {
//     throw std::runtime_error("boom");  // rethrown by whoever awaits the task
//     co_return;
//   }
//
// Cancellation: awaiting a task is not itself a suspension point; the awaited task's own
// suspension points are. Errors: whatever the task throws is rethrown by co_await.
// Destroying a task that never ran frees its frame; destroying a suspended task destroys
// its whole chain of frames (operations in flight are cancelled and waited for first).
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "coring/detail/frame_allocator.hpp"

namespace coring {

template <class T = void>
class task;

namespace detail {

// Throws std::logic_error(what): misuse of a task (kept out of line).
[[noreturn]] void misused_task(const char* what);

struct promise_base;

// Who learns that a task nobody awaits (a spawned child, run()'s main task, a call on
// another thread) has ended: told from the frame's final suspend, instead of resuming a
// continuation. It may destroy the frame. One pointer in the promise (a spawned child's
// state is its own finisher), where a function and a context pointer took two: every frame
// carries it.
struct finisher {
  virtual void task_ended(promise_base& p) noexcept = 0;

 protected:
  finisher() = default;
  ~finisher() = default;
};

// Every frame's block starts with room for the state of a spawned task (task_group.hpp's
// child_base), so a spawn makes one block where it made two and a task's state shares
// cache lines with its frame (bench_core: 208 -> 192 bytes per live task, 315 -> 281
// instructions per spawn and join; the state's shrinking from 104 to 72 bytes then made
// it 160 bytes and 253 instructions, and to 56 bytes 144 and 250). A frame that is only
// awaited leaves the room unused (64 bytes of its block). The word after the room says
// who frees the block:
//   0           a plain frame: freeing the frame frees the block;
//   1           a spawned task's state lives in the room and the frame runs;
//   2c+1 (c>0)  the frame has ended but the state lives on (handles hold it): it keeps
//               the task's outcome in the dead frame's memory and frees the block, of
//               size class c (frame_pools::class_of), when its last reference goes.
// 56 bytes is what the state takes (checked where it is made); the prefix is a multiple
// of 16 so the frame keeps malloc's alignment. The word is the allocator's spawn word,
// which it keeps zero in free blocks, so a frame is made without writing it.
inline constexpr std::size_t frame_child_room = spawn_word_offset;
inline constexpr std::size_t frame_prefix = frame_child_room + 8;
static_assert(frame_prefix % 16 == 0, "the frame after the prefix must stay 16-byte aligned");
// The block of the frame at `frame`: a coroutine handle's address is what operator new
// returned (GCC and Clang put the frame there).
inline void* frame_block_of(void* frame) noexcept { return static_cast<unsigned char*>(frame) - frame_prefix; }

struct promise_base {
  std::coroutine_handle<> continuation;
  finisher* owner = nullptr;
  std::exception_ptr error;

  // The frame's address is made by integer arithmetic on purpose: from `block + prefix`,
  // g++ 12 loses track of what the coroutine's first resume will find in the frame (its
  // resume index), no longer makes the specialised copy of an awaited child's resume
  // function that it inlines into the caller, and an await costs 135 instructions instead
  // of 112 (113 this way: bench/count_instructions build-release await_child_ns).
  static void* operator new(std::size_t n) {
    auto* block = static_cast<unsigned char*>(frame_alloc(n + frame_prefix));
    auto* frame = reinterpret_cast<void*>(reinterpret_cast<std::uintptr_t>(block) + frame_prefix);
    if (!frame) __builtin_unreachable();  // lost with the integer: frame_alloc never returns null
    return frame;
  }
  static void operator delete(void* p, std::size_t n) noexcept {
    void* block = frame_block_of(p);
    std::uint64_t& word = spawn_word(block);
    if (word != 0) {  // a spawned task's state outlives its frame and frees the block
      // Its size class, which `n` (a constant in each frame's destroy) makes a constant.
      word = (std::uint64_t(frame_pools::class_of(n + frame_prefix)) << 1) | 1;
      return;
    }
    frame_free_clean(block, n + frame_prefix);
  }

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      promise_base& p = h.promise();
      if (p.continuation) return p.continuation;
      if (p.owner) p.owner->task_ended(p);
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  final_awaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
  void rethrow_if_failed() const {
    if (error) std::rethrow_exception(error);
  }
};

template <class T>
struct promise final : promise_base {
  std::optional<T> value;
  task<T> get_return_object() noexcept;
  template <class U = T>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    rethrow_if_failed();
    return std::move(*value);
  }
};

template <>
struct promise<void> final : promise_base {
  task<void> get_return_object() noexcept;
  void return_void() noexcept {}
  void take() { rethrow_if_failed(); }
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::promise<T>;
  using value_type = T;
  using handle_type = std::coroutine_handle<promise_type>;

  // An empty task (valid() is false).
  task() noexcept = default;
  // Takes ownership of a coroutine frame (promise types and runtimes use this).
  explicit task(handle_type h) noexcept : h_(h) {}
  // Moves the frame; the source becomes empty. Tasks are move-only.
  task(task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  task& operator=(task&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  // Destroys the frame if the task still owns it: a task never started is dropped without
  // running; one suspended inside coring operations cancels them in the kernel first.
  ~task() { reset(); }

  // False for a default-constructed or moved-from task (awaiting one is undefined; run()
  // refuses it with std::invalid_argument). Never throws.
  bool valid() const noexcept { return static_cast<bool>(h_); }
  // The coroutine handle, still owned by the task (for runtimes and task groups).
  handle_type handle() const noexcept { return h_; }
  // Gives up ownership of the frame: the caller must destroy the handle. Never throws.
  handle_type release() noexcept { return std::exchange(h_, {}); }

  struct awaiter {
    handle_type h;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) {
      // A task that ran has a continuation: it was awaited (a spawned or run() task's frame
      // is no longer the task's to await), so a null one also means "not done".
      if (h.promise().continuation) [[unlikely]]
        detail::misused_task("coring: a task was awaited twice; a task runs once: keep its result, or make a new "
                             "task by calling the coroutine again");
      h.promise().continuation = caller;
      return h;
    }
    T await_resume() { return h.promise().take(); }
  };
  // Runs the task to its end in the awaiting task and returns its result (rethrows its
  // exception). Await a task once. Cancellation and errors: see the top of this header;
  // std::logic_error for an empty (moved-from, default-constructed) task and for a task
  // awaited a second time (its frame already ran; a task is a one-shot value).
  awaiter operator co_await() && { return awaiter{checked()}; }
  awaiter operator co_await() & { return awaiter{checked()}; }

 private:
  handle_type checked() const {
    if (!h_) [[unlikely]]
      detail::misused_task("coring: co_await of an empty task (moved from or default-constructed); await the task "
                           "returned by the coroutine call, once");
    return h_;
  }
  void reset() noexcept {
    if (h_) h_.destroy();
    h_ = {};
  }
  handle_type h_;
};

namespace detail {
template <class T>
task<T> promise<T>::get_return_object() noexcept {
  return task<T>{std::coroutine_handle<promise<T>>::from_promise(*this)};
}
inline task<void> promise<void>::get_return_object() noexcept {
  return task<void>{std::coroutine_handle<promise<void>>::from_promise(*this)};
}

template <class A>
concept has_member_co_await = requires(A&& a) { std::forward<A>(a).operator co_await(); };

template <class A>
decltype(auto) get_awaiter(A&& a) {
  if constexpr (has_member_co_await<A>)
    return std::forward<A>(a).operator co_await();
  else
    return std::forward<A>(a);
}

template <class A>
using await_result_t = decltype(std::declval<decltype(get_awaiter(std::declval<A>()))&>().await_resume());

template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<task<T>> : std::true_type {};

// Wraps any awaitable (an operation, a sleep) into a task so it can be spawned or stored.
template <class A>
auto as_task(A a) -> task<await_result_t<A>> {
  co_return co_await std::move(a);
}
}  // namespace detail

// Anything co_await-able: a task, an I/O operation, sleep(), a queue get.
template <class A>
concept awaitable = requires(A&& a) { detail::get_awaiter(std::forward<A>(a)).await_ready(); };

}  // namespace coring
