#include "coring/detail/request.hpp"

#include "coring/detail/faults.hpp"

namespace coring::detail {

void request::dispatch(completion* c, const io_uring_cqe& raw) noexcept {
  auto* r = static_cast<request*>(c);
  const io_uring_cqe& cqe = faults::filter_cqe(r->opcode_, raw);
  bool final = true;
  switch (static_cast<cqe_tag>(cqe.user_data & tag_mask)) {
    case tag_op:
      final = !(cqe.flags & IORING_CQE_F_MORE);
      if (final) r->live_ = false;
      r->on_cqe_(r, cqe);
      break;
    case tag_link_timeout:
      if (cqe.res == -ETIME) r->timed_out_ = true;
      break;
    default:  // our ASYNC_CANCEL's own CQE: nothing to deliver
      break;
  }
  if (final) r->finish_one();
}

void request::cancel() noexcept {
  if (!live_ || cancel_sent_ || !cancellable_ || external_ || !lp_) return;
  if (this_thread().lp != lp_) return;  // only the owning loop may submit to its ring
  cancel_sent_ = true;
  io_uring_sqe* sqe = lp_->get_sqe();
  io_uring_prep_cancel64(sqe, user_data(this, tag_op), 0);
  sqe->user_data = user_data(this, tag_cancel);
  ++owed_;
}

bool request::settle() noexcept {
  if (owed_ == 0) return true;
  if (this_thread().lp != lp_) return false;
  dying_ = true;
  cancel();
  lp_->drain(owed_);
  dying_ = false;
  return true;
}

}  // namespace coring::detail
