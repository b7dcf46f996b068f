// libbpf reports through one process-wide print callback. While a LibbpfLogCapture is alive (on the JS thread, during
// open/load/attach) messages are collected so a failure can carry them (the verifier log); otherwise warnings go to
// stderr and debug output is dropped.
#pragma once
#include <string>

namespace netlens {

void appendToCapture(const char* text, size_t length);

class LibbpfLogCapture {
 public:
  LibbpfLogCapture();
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;
  // What libbpf printed since construction (info and warnings, capped to the last 256 KiB).
  const std::string& text() const { return text_; }

 private:
  friend void appendToCapture(const char* text, size_t length);
  std::string text_;
  LibbpfLogCapture* previous_;
};

void installLibbpfPrint();

}  // namespace netlens
