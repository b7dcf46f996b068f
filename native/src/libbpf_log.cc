#include "libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace netlens {

namespace {
// Captures nest per thread; libbpf calls from other threads (ring buffer polling) are not captured.
thread_local LibbpfLogCapture* current = nullptr;
constexpr size_t kMaxCapture = 256 * 1024;

int print(enum libbpf_print_level level, const char* format, va_list args) {
  if (current == nullptr) {
    if (level == LIBBPF_WARN) return std::vfprintf(stderr, format, args);
    return 0;
  }
  if (level == LIBBPF_DEBUG) return 0;
  char stack[1024];
  va_list copy;
  va_copy(copy, args);
  int length = std::vsnprintf(stack, sizeof(stack), format, copy);
  va_end(copy);
  if (length < 0) return length;
  if (static_cast<size_t>(length) < sizeof(stack)) {
    appendToCapture(stack, length);
  } else {
    std::string large(length + 1, '\0');
    std::vsnprintf(large.data(), large.size(), format, args);
    appendToCapture(large.data(), length);
  }
  return length;
}
}  // namespace

void appendToCapture(const char* text, size_t length) {
  std::string& log = current->text_;
  log.append(text, length);
  if (log.size() > kMaxCapture) log.erase(0, log.size() - kMaxCapture);
}

LibbpfLogCapture::LibbpfLogCapture() : previous_(current) { current = this; }

LibbpfLogCapture::~LibbpfLogCapture() { current = previous_; }

void installLibbpfPrint() {
  static std::once_flag once;
  std::call_once(once, [] { libbpf_set_print(print); });
}

}  // namespace netlens
