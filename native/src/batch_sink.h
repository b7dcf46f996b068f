// Hands batches from a native thread to a JS callback: one Napi::ThreadSafeFunction NonBlockingCall per batch, the
// malloc'd batch becoming a Buffer without a copy. At most maxQueued batches wait for JS; beyond that a batch is
// dropped and its records are counted in `lost`, reported with the next delivered batch. The producer never blocks.
// After close() no callback runs: batches still queued are freed and counted as lost.
#pragma once
#include <napi.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

namespace netlens {

struct BatchCounters {
  std::atomic<uint64_t> delivered{0};  // records handed to the JS callback
  std::atomic<uint64_t> batches{0};
  std::atomic<uint64_t> lost{0};  // records dropped because JS was not keeping up (or after close)
  std::atomic<uint64_t> unreportedLost{0};
  std::atomic<uint32_t> queued{0};
  std::atomic<bool> closed{false};
};

class BatchSink {
 public:
  BatchSink(Napi::Env env, Napi::Function callback, const char* name, uint32_t maxQueued);
  ~BatchSink();
  BatchSink(const BatchSink&) = delete;
  BatchSink& operator=(const BatchSink&) = delete;

  // Producer thread: takes ownership of `data` (malloc'd), `length` bytes holding `count` records.
  void deliver(uint8_t* data, size_t length, uint32_t count);
  // Records the producer dropped itself (e.g. when stopping), counted as lost.
  void countLost(uint64_t count);
  // JS thread, after the producer has stopped: no more callbacks, releases the thread-safe function.
  void close();
  const BatchCounters& counters() const { return *counters_; }

 private:
  struct Batch;
  static void callJs(Napi::Env env, Napi::Function callback, BatchCounters* counters, Batch* batch);
  using Tsfn = Napi::TypedThreadSafeFunction<BatchCounters, Batch, BatchSink::callJs>;

  std::shared_ptr<BatchCounters> counters_;
  Tsfn tsfn_;
  uint32_t maxQueued_;
  bool released_ = false;
};

// The batch a native thread fills between hand-overs: the caller frames each record in the room claim() gives,
// flush() hands the buffer to the sink and starts a new one.
class BatchBuilder {
 public:
  explicit BatchBuilder(size_t capacity);
  ~BatchBuilder();
  BatchBuilder(const BatchBuilder&) = delete;
  BatchBuilder& operator=(const BatchBuilder&) = delete;

  // Room for one record of `size` bytes, flushing to `sink` first when it does not fit; nullptr when memory ran
  // out (the record is counted as lost).
  uint8_t* claim(size_t size, BatchSink& sink);
  void flush(BatchSink& sink);
  // Closing: the records not handed over are counted as lost.
  void discard(BatchSink& sink);
  uint32_t count() const { return count_; }
  // How long the oldest record has waited.
  std::chrono::steady_clock::duration age() const { return std::chrono::steady_clock::now() - oldest_; }

 private:
  uint8_t* data_;
  size_t capacity_;
  size_t length_ = 0;
  uint32_t count_ = 0;
  std::chrono::steady_clock::time_point oldest_;
};

}  // namespace netlens
