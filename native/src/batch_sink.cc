#include "batch_sink.h"

#include <algorithm>

#include <cstdlib>

namespace netlens {

struct BatchSink::Batch {
  uint8_t* data;
  size_t length;
  uint32_t count;
  uint64_t lost;
};

BatchSink::BatchSink(Napi::Env env, Napi::Function callback, const char* name, uint32_t maxQueued)
    : counters_(std::make_shared<BatchCounters>()), maxQueued_(maxQueued) {
  // The counters outlive this sink while calls are queued: the finalizer drops the TSFN's own reference.
  auto* shared = new std::shared_ptr<BatchCounters>(counters_);
  tsfn_ = Tsfn::New(env, callback, name, 0, 1, shared->get(),
                    [shared](Napi::Env, void*, BatchCounters*) { delete shared; });
}

BatchSink::~BatchSink() { close(); }

void BatchSink::deliver(uint8_t* data, size_t length, uint32_t count) {
  BatchCounters& counters = *counters_;
  if (counters.closed || counters.queued.load() >= maxQueued_) {
    std::free(data);
    countLost(count);
    return;
  }
  counters.queued++;
  auto* batch = new Batch{data, length, count, counters.unreportedLost.exchange(0)};
  if (tsfn_.NonBlockingCall(batch) != napi_ok) {
    counters.queued--;
    counters.unreportedLost += batch->lost;
    std::free(batch->data);
    countLost(count);
    delete batch;
  }
}

void BatchSink::countLost(uint64_t count) {
  counters_->lost += count;
  counters_->unreportedLost += count;
}

void BatchSink::callJs(Napi::Env env, Napi::Function callback, BatchCounters* counters, Batch* batch) {
  counters->queued--;
  if (env == nullptr || counters->closed) {  // closing: the environment is going away or close() was called
    counters->lost += batch->count;
    std::free(batch->data);
    delete batch;
    return;
  }
  Napi::Buffer<uint8_t> data =
      batch->length == 0
          ? Napi::Buffer<uint8_t>::New(env, 0)
          : Napi::Buffer<uint8_t>::New(env, batch->data, batch->length, [](Napi::Env, uint8_t* bytes) { std::free(bytes); });
  if (batch->length == 0) std::free(batch->data);
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", data);
  result.Set("count", batch->count);
  result.Set("lost", Napi::Number::New(env, static_cast<double>(batch->lost)));
  counters->delivered += batch->count;
  counters->batches++;
  delete batch;
  // An exception thrown by the callback surfaces as an uncaught exception, as for any event-loop callback.
  callback.Call({result});
}

void BatchSink::close() {
  if (released_) return;
  released_ = true;
  counters_->closed = true;
  tsfn_.Release();
}

BatchBuilder::BatchBuilder(size_t capacity)
    : data_(static_cast<uint8_t*>(std::malloc(capacity))), capacity_(data_ ? capacity : 0) {}

BatchBuilder::~BatchBuilder() { std::free(data_); }

uint8_t* BatchBuilder::claim(size_t size, BatchSink& sink) {
  if (count_ > 0 && length_ + size > capacity_) flush(sink);
  if (data_ == nullptr || length_ + size > capacity_) {
    size_t capacity = std::max(capacity_, length_ + size);
    void* grown = std::realloc(data_, capacity);
    if (grown == nullptr) {
      sink.countLost(1);
      return nullptr;
    }
    data_ = static_cast<uint8_t*>(grown);
    capacity_ = capacity;
  }
  if (count_ == 0) oldest_ = std::chrono::steady_clock::now();
  uint8_t* room = data_ + length_;
  length_ += size;
  count_++;
  return room;
}

void BatchBuilder::flush(BatchSink& sink) {
  if (count_ == 0) return;
  uint8_t* full = data_;
  size_t length = length_;
  uint32_t count = count_;
  data_ = static_cast<uint8_t*>(std::malloc(capacity_));  // nullptr is retried by the next claim()
  length_ = 0;
  count_ = 0;
  sink.deliver(full, length, count);
}

void BatchBuilder::discard(BatchSink& sink) {
  if (count_ > 0) sink.countLost(count_);
  length_ = 0;
  count_ = 0;
}

}  // namespace netlens
