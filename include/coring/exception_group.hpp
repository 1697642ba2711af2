// coring::exception_group: every error of a task group, like Python's ExceptionGroup.
//
// A group holds the non-cancellation exceptions of its children in completion order (the
// body's last), each with the name of the task that raised it. Groups nest: a child that
// ran its own task group contributes that group as one entry, never flattened.
// `split<E>()` and `handle(...)` are the `except*` analogue: they match leaf exceptions of
// type E at any depth and keep the tree shape of both halves. Nothing here is an awaitable.
//
// Example (examples/exception_group_handle.cpp):
//   try {
//     co_await coring::with_task_group([&](coring::task_group& tg) -> coring::task<> {
//       tg.spawn(parse(1), "parse-1");
//       tg.spawn(parse(3), "parse-3");  // every error is kept, with its task's name
//       tg.spawn(open_config(), "config");
//       co_return;
//     });
//   } catch (const coring::exception_group& eg) {
//     fmt::print("{}\n", eg);  // the tree, each error under the name of its task
//     auto [values, rest] = eg.split<std::invalid_argument>();  // Python's eg.split
//     fmt::print("{} value error(s), {} other(s)\n", values ? values->size() : 0, rest ? rest->size() : 0);
//     eg.handle(coring::except<std::invalid_argument>([&](const std::invalid_argument& e) {
//                 fmt::print("skipping: {}\n", e.what());  // once per matching error
//                 ++bad_records;
//               }),
//               coring::except<std::system_error>([&](const coring::exception_group& g) {
//                 fmt::print("{} I/O error(s)\n", g.size());  // once, with the matching part
//                 io_failed = true;
//               }));  // whatever no clause matched would be rethrown as a group
//   }
#pragma once

#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace coring {

class exception_group : public std::exception {
 public:
  struct entry {
    std::exception_ptr error;
    std::string task_name;  // empty when unknown
  };

  // A group of `entries` (task groups build them; tests and libraries may too). what() is
  // `message` followed by the count. Errors: only std::bad_alloc.
  exception_group(std::string message, std::vector<entry> entries);

  // "unhandled errors in a task group (2 sub-exceptions)"
  const char* what() const noexcept override { return what_.c_str(); }
  // The message without the count: "unhandled errors in a task group".
  const std::string& message() const noexcept { return message_; }
  // The direct entries in completion order (a nested group is one entry). Never throws.
  const std::vector<entry>& entries() const noexcept { return entries_; }
  // The direct entries' exceptions, in the same order (a copy).
  std::vector<std::exception_ptr> exceptions() const;
  // The number of direct entries (not leaves). Never throws.
  std::size_t size() const noexcept { return entries_.size(); }

  // Splits into (matching, rest): leaves that are an E go left, the others right, at any
  // depth, keeping nested groups (with their messages and task names). Either side is
  // empty (std::nullopt) when nothing belongs to it. Python's eg.split(E) on leaves.
  // Errors: only std::bad_alloc. Example: at the top of this header.
  template <class E>
  std::pair<std::optional<exception_group>, std::optional<exception_group>> split() const {
    return split_by([](const std::exception_ptr& p) { return matches<E>(p); });
  }

  // The `except*` analogue. Each clause, made with coring::except<E>(fn), takes the part
  // of the group matching E (what earlier clauses left); fn is called once per matching
  // leaf when it takes `const E&`, otherwise once with the whole matching part as a
  // `const exception_group&`.
  // Whatever no clause matched is rethrown as an exception_group of the same shape.
  // Errors: rethrows the unmatched rest; an exception thrown by a clause propagates (the
  // later clauses do not run). Example: at the top of this header.
  template <class... Clauses>
  void handle(Clauses&&... clauses) const;

  // handle() with one clause: eg.handle<E>(fn).
  template <class E, class F>
  void handle(F&& fn) const;

  // Calls fn(leaf, task_name) for every leaf exception, depth first (`leaf` is a
  // std::exception_ptr, `task_name` the name of the task that raised it). An exception fn
  // throws propagates and ends the walk.
  template <class F>
  void for_each_leaf(F&& fn) const {
    for (const entry& e : entries_) {
      if (const exception_group* g = as_group(e.error))
        g->for_each_leaf(fn);
      else
        fn(e.error, e.task_name);
    }
  }

  // Multi-line tree like Python's traceback of an ExceptionGroup (also what fmt prints):
  // each leaf under its task's name. Example: `fmt::print("{}\n", eg)` at the top of this
  // header. Errors: only std::bad_alloc.
  std::string format_tree() const;

  // Whether `p` holds an E (or a type derived from it). Never throws.
  template <class E>
  static bool matches(const std::exception_ptr& p) {
    try {
      std::rethrow_exception(p);
    } catch (const E&) {
      return true;
    } catch (...) {
      return false;
    }
  }
  // The group inside `p`, or null when p holds something else (or is null). Never throws.
  static const exception_group* as_group(const std::exception_ptr& p);

 private:
  template <class Pred>
  std::pair<std::optional<exception_group>, std::optional<exception_group>> split_by(Pred pred) const {
    std::vector<entry> yes, no;
    for (const entry& e : entries_) {
      if (const exception_group* g = as_group(e.error)) {
        auto [m, r] = g->split_by(pred);
        if (m) yes.push_back({std::make_exception_ptr(std::move(*m)), e.task_name});
        if (r) no.push_back({std::make_exception_ptr(std::move(*r)), e.task_name});
      } else if (pred(e.error)) {
        yes.push_back(e);
      } else {
        no.push_back(e);
      }
    }
    std::optional<exception_group> a, b;
    if (!yes.empty()) a.emplace(message_, std::move(yes));
    if (!no.empty()) b.emplace(message_, std::move(no));
    return {std::move(a), std::move(b)};
  }

  std::string message_;
  std::string what_;
  std::vector<entry> entries_;
};

namespace detail {
template <class E, class F>
struct except_clause {
  F fn;
  // Handles the E-part of `g`; returns what is left.
  std::optional<exception_group> apply(const exception_group& g) {
    auto [match, rest] = g.split<E>();
    if (match) {
      if constexpr (!std::is_invocable_v<F&, const E&>) {
        fn(*match);
      } else {
        match->for_each_leaf([&](const std::exception_ptr& p, const std::string&) {
          try {
            std::rethrow_exception(p);
          } catch (const E& e) {
            fn(e);
          }
        });
      }
    }
    return std::move(rest);
  }
};
}  // namespace detail

// A clause for exception_group::handle: `coring::except<E>(fn)`.
template <class E, class F>
detail::except_clause<E, std::decay_t<F>> except(F&& fn) {
  return {std::forward<F>(fn)};
}

template <class... Clauses>
void exception_group::handle(Clauses&&... clauses) const {
  std::optional<exception_group> rest(*this);
  ((rest = rest ? clauses.apply(*rest) : std::nullopt), ...);
  if (rest) throw std::move(*rest);
}

template <class E, class F>
void exception_group::handle(F&& fn) const {
  handle(except<E>(std::forward<F>(fn)));
}

// A one-line description of any exception: "std::runtime_error: boom" (the dynamic type's
// name, then what()); "coring::exception_group: <what()>" for a group, "coring::cancelled",
// the type's name for a non-std type, "no exception" for a null pointer. Errors: only
// std::bad_alloc. Example: gather.hpp's gather_settled.
std::string describe_exception(const std::exception_ptr& p);

}  // namespace coring

template <>
struct fmt::formatter<coring::exception_group> : fmt::formatter<std::string_view> {
  template <class Ctx>
  auto format(const coring::exception_group& g, Ctx& ctx) const {
    return fmt::format_to(ctx.out(), "{}", g.format_tree());
  }
};
