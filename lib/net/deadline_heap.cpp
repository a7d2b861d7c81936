#include "net/deadline_heap.hpp"

namespace iotblocks::net::detail {

void deadline_heap::arm(entry& e, time_point due) {
  e.due_ = due;
  if (!e.armed()) {
    e.key_ = due;
    heap_.push_back(&e);
    e.index_ = heap_.size() - 1;
    sift_up(e.index_);
  } else if (due < e.key_) {
    e.key_ = due;
    sift_up(e.index_);
  }
}

void deadline_heap::cancel(entry& e) noexcept {
  if (!e.armed()) return;
  remove_at(e.index_);
  e.due_ = time_point::max();
}

std::size_t deadline_heap::expire(time_point now) {
  std::size_t n = 0;
  while (!heap_.empty() && heap_[0]->key_ <= now) {
    entry* e = heap_[0];
    if (e->due_ != e->key_) {  // moved later since it was placed: re-sort first
      e->key_ = e->due_;
      sift_down(0);
      continue;
    }
    remove_at(0);
    e->due_ = time_point::max();
    ++n;
    e->expired();
  }
  return n;
}

void deadline_heap::sift_up(std::size_t i) noexcept {
  entry* e = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(e->key_ < heap_[parent]->key_)) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, e);
}

void deadline_heap::sift_down(std::size_t i) noexcept {
  entry* e = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->key_ < heap_[child]->key_) ++child;
    if (!(heap_[child]->key_ < e->key_)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, e);
}

void deadline_heap::remove_at(std::size_t i) noexcept {
  entry* gone = heap_[i];
  entry* last = heap_.back();
  heap_.pop_back();
  gone->index_ = entry::npos;
  if (last == gone) return;
  place(i, last);
  if (i > 0 && last->key_ < heap_[(i - 1) / 2]->key_) {
    sift_up(i);
  } else {
    sift_down(i);
  }
}

}  // namespace iotblocks::net::detail
