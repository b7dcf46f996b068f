// RingReader: drains a BPF ring buffer map on a native thread into batches of records framed
// `u32 length | bytes | padding to 8`, flushed every maxBatchRecords records or maxBatchDelayMs after the oldest one.
// close() is required: until then the thread-safe function keeps the Node event loop alive.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "batch_sink.h"

namespace netlens {

class RingReader : public Napi::ObjectWrap<RingReader> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit RingReader(const Napi::CallbackInfo& info);
  ~RingReader() override;

 private:
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  static int onRecord(void* context, void* data, size_t size);
  void run();
  void append(const void* data, size_t size);
  void flush();
  void stop();
  static void cleanupHook(void* self) { static_cast<RingReader*>(self)->stop(); }

  std::unique_ptr<BatchSink> sink_;
  ring_buffer* ring_ = nullptr;
  int mapFd_ = -1;   // our own dup of the map's fd, so closing the BpfObject cannot pull it away
  int wakeFd_ = -1;  // eventfd written by stop()
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
  bool draining_ = false;  // stop(): records still in the ring are counted as lost
  Napi::Env env_;

  // Batch being filled by the thread.
  uint32_t maxBatchRecords_;
  std::chrono::milliseconds maxBatchDelay_;
  // 0: consume when the kernel signals the ring's epoll fd. Otherwise also every pollInterval_, for producers that
  // submit without waking the reader (BPF_RB_NO_WAKEUP: a wake-up per record costs the producer more than the record).
  std::chrono::milliseconds pollInterval_;
  std::unique_ptr<BatchBuilder> batch_;
};

}  // namespace netlens
