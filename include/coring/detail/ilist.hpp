// Intrusive doubly linked lists. A type can sit in several lists at once by deriving from
// hook<Tag> once per list; nothing is allocated to link or unlink.
#pragma once

#include <cstddef>

namespace coring::detail {

template <class Tag>
struct hook {
  hook* prev = this;
  hook* next = this;
  hook() = default;
  hook(const hook&) = delete;
  hook& operator=(const hook&) = delete;
  ~hook() {
    if (linked()) unlink();  // most die unlinked (a finished task): a load, not four stores
  }
  bool linked() const noexcept { return next != this; }
  void unlink() noexcept {
    unlink_dangling();
    mark_unlinked();
  }
  // Takes the item out of its list but leaves its own links as they were: for an item
  // whose memory is freed next without its destructor (which would see it linked). Call
  // mark_unlinked() before anything else reads the hook.
  void unlink_dangling() noexcept {
    prev->next = next;
    next->prev = prev;
  }
  void mark_unlinked() noexcept { prev = next = this; }
};

template <class T, class Tag>
class ilist {
 public:
  ilist() = default;
  ilist(const ilist&) = delete;
  ilist& operator=(const ilist&) = delete;

  bool empty() const noexcept { return !head_.linked(); }
  void push_back(T& item) noexcept {
    hook<Tag>& h = item;
    h.unlink();
    h.prev = head_.prev;
    h.next = &head_;
    head_.prev->next = &h;
    head_.prev = &h;
  }
  // push_back for an item not in any list of this kind (a hook never linked, or unlinked):
  // skips the unlink, which spawning pays for twice per task otherwise.
  void push_back_unlinked(T& item) noexcept {
    hook<Tag>& h = item;
    h.prev = head_.prev;
    h.next = &head_;
    head_.prev->next = &h;
    head_.prev = &h;
  }
  static void erase(T& item) noexcept { static_cast<hook<Tag>&>(item).unlink(); }
  T& front() noexcept { return static_cast<T&>(*head_.next); }
  T* pop_front() noexcept {
    if (empty()) return nullptr;
    T& t = front();
    erase(t);
    return &t;
  }
  // Calls fn on each item; fn may unlink the item it is given (but no other).
  template <class F>
  void for_each(F&& fn) {
    for (hook<Tag>* h = head_.next; h != &head_;) {
      hook<Tag>* next = h->next;
      fn(static_cast<T&>(*h));
      h = next;
    }
  }
  template <class F>
  void for_each(F&& fn) const {
    for (const hook<Tag>* h = head_.next; h != &head_; h = h->next) fn(static_cast<const T&>(*h));
  }
  // The first item for which pred is true, or null.
  template <class F>
  const T* find_if(F&& pred) const {
    for (const hook<Tag>* h = head_.next; h != &head_; h = h->next)
      if (pred(static_cast<const T&>(*h))) return &static_cast<const T&>(*h);
    return nullptr;
  }
  std::size_t size() const noexcept {
    std::size_t n = 0;
    for (const hook<Tag>* h = head_.next; h != &head_; h = h->next) ++n;
    return n;
  }

 private:
  hook<Tag> head_;
};

}  // namespace coring::detail
