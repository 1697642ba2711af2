#include "coring/task_group.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "coring/thread.hpp"

namespace coring::detail {

// ---- children ----

child_base::~child_base() {
  if (!finished()) detach();  // a finished child left the scope tree then
  if (unit_word & failed_bit) error_slot()->~exception_ptr();
  if (unit_word & value_bit) (*destructor_slot())(value_memory());
  // Empty: each awaiter holds a handle, so a reference. The extras go with the node.
  if (task_extras* x = info.extras()) pool_delete(x->done_waiters);
}

void child_base::cancel_alone() noexcept {
  // A group scope that is cancelled already cancels the child for good (a scope never
  // becomes uncancelled). This is also the case while a cancellation is being propagated
  // through the group's scope (an abort hook cancelling a child, as tg.start's does): its
  // lists are being walked then and must not change.
  if (finished() || group->scope.effective) return;
  scope_state*& own_scope = info.more().own_scope;
  if (!own_scope) {
    // Slide a scope of its own in below the group's: the child's outermost scope (or the
    // child itself, in no scope of its own yet) moves into it, so cancelling it reaches
    // the child's every scope and task, and no sibling.
    scope_state& gs = group->scope;
    own_scope = pool_new<scope_state>(&gs, false);
    if (scope == &gs) {
      enter(*own_scope);
    } else {
      scope_state* outer = scope;
      while (outer->parent != &gs) outer = outer->parent;
      own_scope->children.push_back(*outer);  // unlinks it from the group scope's children
      outer->parent = own_scope;
    }
  }
  own_scope->cancel();
}

wait_list& child_base::awaiters() {
  wait_list*& w = info.more().done_waiters;
  if (!w) w = pool_new<wait_list>();
  return *w;
}

void child_base::detach() noexcept {
  // Handles may keep this state long after the group is gone: leave the scope tree now.
  ilist<task_node, scope_tag>::erase(*this);
  // Empty now: the child's frames have left every scope they entered.
  if (task_extras* x = info.extras()) pool_delete(std::exchange(x->own_scope, nullptr));
  unit_word |= finished_bit;
}

void child_base::end_frame_with_error(promise_base& p) noexcept {
  std::exception_ptr e;
  try {
    std::rethrow_exception(p.error);
  } catch (const coring::cancelled&) {
    unit_word |= cancelled_bit;
  } catch (...) {
    e = std::move(p.error);
  }
  frame().destroy();
  if (e) {
    ::new (const_cast<unsigned char*>(outcome_memory())) std::exception_ptr(std::move(e));
    unit_word |= failed_bit;
  }
}

void child_base::end(promise_base& p, void (*keep)(child_base*, promise_base&) noexcept) noexcept {
  // Called from the frame's final suspend: the frame is suspended and may be destroyed. Its
  // memory stays (the state frees the block), and holds the outcome from here on.
  if (p.error) [[unlikely]]
    end_frame_with_error(p);
  else if (keep && refs() > 1)  // the value is kept only when a handle besides the group's can read it
    keep(this, p);
  else
    frame().destroy();
  // What detach() does, written out: this runs once per spawned task. The hook is reset
  // only if the state outlives this call or is destroyed (below): the usual child's block
  // is freed without its destructor.
  hook<scope_tag>& in_scope = *this;
  in_scope.unlink_dangling();
  unit_word |= finished_bit;
  if (task_extras* x = info.extras()) [[unlikely]] {
    pool_delete(std::exchange(x->own_scope, nullptr));  // empty: the frames left it
    // Awaiters of the handle learn the outcome before the group reacts to it (a failure
    // cancels them next, but their wait is already complete).
    if (x->done_waiters) x->done_waiters->notify_all();
  }
  // The group's side, here too rather than in a call of its own.
  group_state& g = *group;
  --g.live;
  if (unit_word & failed_bit) [[unlikely]] {
    g.record(*error_slot(), display_name());
    if (!g.supervisor) g.fail();
  }
  // drop_ref(), knowing the child finished.
  unit_word -= one_ref;
  if (unit_word < one_ref && nothing_to_destroy()) [[likely]] {
    release_block(this);
  } else {
    in_scope.mark_unlinked();
    if (unit_word < one_ref) destroy();
  }
  // This state may be gone: nothing below touches it.
  if (g.live == 0 && g.joiner) {
    waiter* j = g.joiner;
    g.joiner = nullptr;
    j->wake();
  }
}

// ---- groups ----

void free_group_ref(group_ref* r) noexcept { delete r; }

namespace {
thread_local ilist<group_state, open_group_tag> open_groups;
// GCC 12's UBSan mis-reports a thread-local's address inside coroutines as null (see
// this_thread()); it cannot be null.
[[gnu::no_sanitize_undefined]] ilist<group_state, open_group_tag>& groups_open_here() noexcept {
  return open_groups;
}
}  // namespace

group_state::group_state(task_node& o, bool sup)
    : scope(o.scope, false), owner(o), ref(new group_ref{this, 1}), supervisor(sup) {
  owner.enter(scope);
  groups_open_here().push_back(*this);
}

namespace {
// Every task below `s` (in it, or in the scopes nested in it) with ready entries, except
// `skip`.
void collect_queued(scope_state& s, const task_node* skip, std::vector<schedulable*>& out) {
  s.tasks.for_each([&](task_node& t) {
    if (&t != skip && t.queued) out.push_back(&t);
  });
  s.children.for_each([&](scope_state& inner) { collect_queued(inner, skip, out); });
}
}  // namespace

group_state::~group_state() {
  // Normally every child finished before finish(); children still here mean the frame
  // holding the group is being destroyed while suspended: tear them down first.
  loop& l = current_loop();
  child_base* c = first_child();
  if (c) {
    // The whole tree below the group goes: take its ready entries out in one pass, where
    // a pass per child (the forgets below) would make tearing down n queued children
    // cost n passes over a queue of n. The tree's nested groups then find nothing queued.
    try {
      std::vector<schedulable*> queued;
      collect_queued(scope, &owner, queued);
      l.forget_all(queued);
    } catch (const std::bad_alloc&) {
      // The forgets below still take every entry out, one child at a time.
    }
  }
  for (; c; c = first_child()) {
    l.forget(*c);
    if (c->frame_alive()) c->frame().destroy();
    // Destroying the frame may drain its I/O, whose CQEs can post this task again.
    l.forget(*c);
    c->detach();
    c->unit_word |= child_base::cancelled_bit;
    --live;
    c->drop_ref();
  }
  if (owner.scope == &scope) owner.enter(*scope.parent);
  if (ref) {
    ref->g = nullptr;
    if (--ref->refs == 0) delete ref;
  }
}

void group_state::refuse_spawn() const {
  throw std::logic_error(
        "coring::task_group::spawn: the task group is cancelling (a child failed or cancel() was "
        "called), so the task was not started; spawn before that or in a new group");
}

void group_state::name_child(child_base& c, name_arg&& name) {
  try {
    std::move(name).apply(c);
  } catch (...) {
    c.unit_word |= child_base::finished_bit;  // never entered the scope tree
    c.destroy();
    throw;
  }
}

void group_state::fail() noexcept {
  aborting = true;
  scope.cancel();  // idempotent
}

void group_state::record(std::exception_ptr e, std::string task_name) {
  for (const exception_group::entry& x : errors)
    if (x.error == e) return;
  errors.push_back({std::move(e), std::move(task_name)});
}

void group_state::finish(std::exception_ptr body_error, bool body_cancelled, bool value_lost) {
  owner.enter(*scope.parent);
  hook<open_group_tag>::unlink();
  ref->g = nullptr;
  if (--ref->refs == 0) delete ref;
  ref = nullptr;
  if (scope.parent->effective) throw coring::cancelled{};  // outside cancellation wins over errors
  if (body_error) record(body_error, owner.display_name() + " (body)");
  if (!errors.empty()) throw exception_group("unhandled errors in a task group", std::move(errors));
  if (body_cancelled) {
    if (!scope.cancel_called) throw coring::cancelled{};  // not ours: a nested scope's, rethrow
    if (value_lost)
      throw std::logic_error(
          "coring::with_task_group: the group was cancelled with tg.cancel() before its body "
          "returned a value; return std::optional from the body or use a void body");
  }
}

void join_awaiter::await_suspend(std::coroutine_handle<> h) noexcept {
  node = running_task();
  lp = &current_loop();
  handle = h;
  abort = nullptr;  // cancellation reaches the children through the scope tree instead
  what = "task group join";
  node->wait = this;
  g.joiner = this;
}

void join_awaiter::await_resume() noexcept { done_waiting(); }

// ---- tg.start ----

start_waiter::~start_waiter() {
  if (status) status->starter_ = nullptr;
}

bool start_waiter::suspend(std::coroutine_handle<> h) {
  if (park(h, &on_abort, "task_group.start")) return true;
  // Refused (cannot happen after start_impl's own check, as nothing ran in between):
  // the child must not go on as if someone were waiting for it.
  child.cancel();
  return false;
}

void start_waiter::on_abort(wait_hook* h) noexcept {
  // Stays parked: the child is cancelled and the caller resumes once it has ended (see
  // status_base::child_ended), so a cancelled start leaves no half-started child.
  static_cast<start_waiter&>(static_cast<waiter&>(*h)).child.cancel();
}

void start_waiter::finish() {
  done_waiting();
  if (refused || aborted) throw coring::cancelled{};
  if (started) return;
  if (error) std::rethrow_exception(error);
  throw std::logic_error("coring::task_group::start: task '" + child.name() +
                         "' ended without calling status.started(); call it once the task is ready "
                         "(a task with nothing to wait for calls it first thing)");
}

status_base::status_base(start_waiter* w) noexcept : starter_(w) { w->status = this; }

status_base::status_base(status_base&& o) noexcept
    : starter_(std::exchange(o.starter_, nullptr)), started_(o.started_) {
  if (starter_) starter_->status = this;
}

status_base::~status_base() {
  // Only when the child's frame is torn down unfinished (its whole tree destroyed): the
  // waiter is detached but not woken, as its own frame is going too.
  if (starter_) starter_->status = nullptr;
}

start_waiter* status_base::claim() {
  if (started_)
    throw std::logic_error(
        "coring::task_status::started: called a second time; call it exactly once, when the task is ready");
  started_ = true;
  start_waiter* w = starter_;
  // A caller that was cancelled keeps waiting for the child's end, not for its value.
  if (!w || w->aborted) return nullptr;
  starter_ = nullptr;
  w->status = nullptr;
  w->started = true;
  return w;
}

void status_base::resume(start_waiter* w) noexcept {
  w->resolved = true;
  if (w->handle) w->wake();
}

void status_base::child_ended(std::exception_ptr e) noexcept {
  start_waiter* w = std::exchange(starter_, nullptr);
  if (!w) return;
  w->status = nullptr;
  if (!started_) w->error = std::move(e);
  resume(w);
}

}  // namespace coring::detail

namespace coring {
namespace {

using groups_by_owner = std::unordered_map<const detail::task_node*, std::vector<const detail::group_state*>>;

void dump_node(const detail::task_node& n, const groups_by_owner& groups, std::string& out, int depth) {
  std::string state;
  if (&n == detail::this_task())
    state = "running";
  else if (n.queued)
    state = "ready";
  else if (n.wait)
    state = fmt::format("waiting on {}", n.wait->what);
  else
    state = "waiting";
  if (n.cancelled()) state += " (cancelled)";
  out += fmt::format("{:{}}{} #{}: {}\n", "", depth * 2, n.display_name(), n.id(), state);
  const auto it = groups.find(&n);
  if (it == groups.end()) return;
  for (const detail::group_state* g : it->second) {
    out += fmt::format("{:{}}task group: {} running{}{}\n", "", depth * 2 + 2, g->live,
                       g->supervisor ? ", supervisor" : "", g->aborting ? ", cancelling" : "");
    std::vector<const detail::child_base*> children;
    g->for_each_child([&](const detail::child_base& c) { children.push_back(&c); });
    // In the order spawned, as ids are given.
    std::sort(children.begin(), children.end(), [](auto* a, auto* b) { return a->id() < b->id(); });
    for (const detail::child_base* c : children) dump_node(*c, groups, out, depth + 2);
  }
}

}  // namespace

std::string dump_tasks() {
  const detail::task_node* root = detail::this_thread().lp ? detail::this_task() : nullptr;
  if (!root) return "no runtime\n";
  // A child was started by its group's owner.
  while (detail::child_base::is_child(*root)) root = &static_cast<const detail::child_base*>(root)->group->owner;
  groups_by_owner groups;
  detail::groups_open_here().for_each([&](const detail::group_state& g) { groups[&g.owner].push_back(&g); });
  std::string out;
  // With several loop threads, each thread's dump covers its own tasks; a child running
  // elsewhere shows here as "waiting on a task on thread k".
  if (const detail::hub* h = detail::this_hub()) out = fmt::format("thread {} of {}:\n", h->index(), thread_count());
  dump_node(*root, groups, out, 0);
  return out;
}

}  // namespace coring
