#include "coring/exception_group.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <typeinfo>

#include "coring/errors.hpp"

namespace coring {

exception_group::exception_group(std::string message, std::vector<entry> entries)
    : message_(std::move(message)), entries_(std::move(entries)) {
  what_ = fmt::format("{} ({} sub-exception{})", message_, entries_.size(),
                      entries_.size() == 1 ? "" : "s");
}

std::vector<std::exception_ptr> exception_group::exceptions() const {
  std::vector<std::exception_ptr> out;
  out.reserve(entries_.size());
  for (const entry& e : entries_) out.push_back(e.error);
  return out;
}

const exception_group* exception_group::as_group(const std::exception_ptr& p) {
  try {
    std::rethrow_exception(p);
  } catch (const exception_group& g) {
    // The exception object lives as long as `p` does, so the address stays valid.
    return &g;
  } catch (...) {
    return nullptr;
  }
}

namespace {

std::string demangled_current() {
  const std::type_info* t = abi::__cxa_current_exception_type();
  if (!t) return "unknown";
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(abi::__cxa_demangle(t->name(), nullptr, nullptr, &status),
                                              std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(t->name());
}

void format_into(const exception_group& g, std::string& out, const std::string& indent) {
  out += fmt::format("{}| coring::exception_group: {}\n", indent, g.what());
  const auto& es = g.entries();
  for (std::size_t i = 0; i < es.size(); ++i) {
    const std::string label =
        es[i].task_name.empty() ? fmt::format(" {} ", i + 1) : fmt::format(" {} (task '{}') ", i + 1, es[i].task_name);
    out += fmt::format("{}{}{:-^36}\n", indent, i == 0 ? "+-+" : "  +", label);
    const std::string inner = indent + "  ";
    if (const exception_group* sub = exception_group::as_group(es[i].error))
      format_into(*sub, out, inner);
    else
      out += fmt::format("{}| {}\n", inner, describe_exception(es[i].error));
  }
  out += fmt::format("{}  +{:-^36}\n", indent, "");
}

}  // namespace

std::string describe_exception(const std::exception_ptr& p) {
  if (!p) return "no exception";
  try {
    std::rethrow_exception(p);
  } catch (const exception_group& g) {
    return fmt::format("coring::exception_group: {}", g.what());
  } catch (const std::exception& e) {
    return fmt::format("{}: {}", demangled_current(), e.what());
  } catch (const cancelled&) {
    return "coring::cancelled";
  } catch (...) {
    return demangled_current();
  }
}

std::string exception_group::format_tree() const {
  std::string out;
  format_into(*this, out, "");
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace coring
