// Private: an ordered map or set that holds no memory while empty (an idle
// session's in-flight map, QoS 2 set and subscriptions: 48 bytes each inline).
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace iotblocks::broker::detail {

/// The subset of std::map / std::set the session uses, allocated on the first
/// insertion and released when the last element leaves (erasing it invalidates
/// end() as well). Distinct objects: safe. Shared objects: unsafe.
template <class C>
class lazy_container {
 public:
  using key_type = typename C::key_type;
  using iterator = typename C::iterator;
  using const_iterator = typename C::const_iterator;

  bool empty() const noexcept { return !c_ || c_->empty(); }
  std::size_t size() const noexcept { return c_ ? c_->size() : 0; }
  iterator begin() noexcept { return c_ ? c_->begin() : none().begin(); }
  iterator end() noexcept { return c_ ? c_->end() : none().end(); }
  const_iterator begin() const noexcept { return c_ ? c_->cbegin() : none().cbegin(); }
  const_iterator end() const noexcept { return c_ ? c_->cend() : none().cend(); }
  iterator find(const key_type& k) { return c_ ? c_->find(k) : end(); }
  std::size_t count(const key_type& k) const { return c_ ? c_->count(k) : 0; }

  template <class... Args>
  auto emplace(Args&&... args) {
    return made().emplace(std::forward<Args>(args)...);
  }
  template <class V>
  auto insert(V&& v) {
    return made().insert(std::forward<V>(v));
  }
  template <class K>
  auto& operator[](K&& k) {
    return made()[std::forward<K>(k)];
  }
  std::size_t erase(const key_type& k) {
    if (!c_) return 0;
    const auto n = c_->erase(k);
    if (c_->empty()) c_.reset();
    return n;
  }
  void erase(iterator it) {
    c_->erase(it);
    if (c_->empty()) c_.reset();
  }
  void clear() noexcept { c_.reset(); }

 private:
  C& made() {
    if (!c_) c_ = std::make_unique<C>();
    return *c_;
  }
  // What an empty one iterates: never modified, never destroyed (sessions may
  // still be torn down while statics are).
  static C& none() {
    static C* const c = new C;
    return *c;
  }

  std::unique_ptr<C> c_;
};

}  // namespace iotblocks::broker::detail
