#include "ring_reader.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>

#include "bpf_map.h"
#include "errors.h"

namespace netlens {

namespace {
constexpr size_t align8(size_t n) { return (n + 7) & ~static_cast<size_t>(7); }
constexpr int kIdlePollMs = 1000;  // stop() wakes the thread through the eventfd; this only bounds a lost wake-up
}  // namespace

Napi::Function RingReader::Define(Napi::Env env) {
  return DefineClass(env, "RingReader",
                     {InstanceMethod<&RingReader::Stats>("stats"), InstanceMethod<&RingReader::Close>("close")});
}

RingReader::RingReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RingReader>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  AddonData* data = env.GetInstanceData<AddonData>();
  if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(data->bpfMapClass.Value())) {
    throw argumentError(env, "RingReader", "map must be a BpfMap");
  }
  BpfMap* map = BpfMap::Unwrap(info[0].As<Napi::Object>());
  int fd = map->fd(env, "RingReader");
  if (map->type() != BPF_MAP_TYPE_RINGBUF) throw argumentError(env, "RingReader", map->name() + " is not a ring buffer");
  Napi::Object options = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
  if (!info[1].IsUndefined() && !info[1].IsNull() && !info[1].IsObject()) {
    throw argumentError(env, "RingReader", "options must be an object");
  }
  if (!info[2].IsFunction()) throw argumentError(env, "RingReader", "onBatch must be a function");
  maxBatchRecords_ = optionalUint32(options, "maxBatchRecords", 4096, "RingReader");
  maxBatchDelay_ = std::chrono::milliseconds(optionalUint32(options, "maxBatchDelayMs", 100, "RingReader"));
  uint32_t maxQueued = optionalUint32(options, "maxQueuedBatches", 64, "RingReader");
  pollInterval_ = std::chrono::milliseconds(optionalUint32(options, "pollIntervalMs", 0, "RingReader"));

  mapFd_ = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (mapFd_ < 0) throw errnoError(env, errno, "dup(" + map->name() + ")");
  wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeFd_ < 0) {
    int error = errno;
    close(mapFd_);
    throw errnoError(env, error, "eventfd");
  }
  ring_ = ring_buffer__new(mapFd_, onRecord, this, nullptr);
  if (ring_ == nullptr) {
    int error = errno;
    close(mapFd_);
    close(wakeFd_);
    throw errnoError(env, error, "ring_buffer__new(" + map->name() + ")");
  }
  batch_ = std::make_unique<BatchBuilder>(64 * 1024);
  sink_ = std::make_unique<BatchSink>(env, info[2].As<Napi::Function>(), "netlens.RingReader", maxQueued);
  napi_add_env_cleanup_hook(env, cleanupHook, this);
  thread_ = std::thread(&RingReader::run, this);
}

RingReader::~RingReader() {
  if (!stopped_) napi_remove_env_cleanup_hook(env_, cleanupHook, this);
  stop();
}

int RingReader::onRecord(void* context, void* data, size_t size) {
  static_cast<RingReader*>(context)->append(data, size);
  return 0;
}

void RingReader::append(const void* data, size_t size) {
  if (draining_) {
    sink_->countLost(1);
    return;
  }
  size_t framed = align8(4 + size);
  uint8_t* room = batch_->claim(framed, *sink_);
  if (room == nullptr) return;
  uint32_t length = static_cast<uint32_t>(size);
  std::memcpy(room, &length, 4);
  std::memcpy(room + 4, data, size);
  std::memset(room + 4 + size, 0, framed - 4 - size);
  if (batch_->count() >= maxBatchRecords_) flush();
}

void RingReader::flush() { batch_->flush(*sink_); }

void RingReader::run() {
  pollfd fds[2] = {{ring_buffer__epoll_fd(ring_), POLLIN, 0}, {wakeFd_, POLLIN, 0}};
  while (!stopping_) {
    int timeout = kIdlePollMs;
    if (batch_->count() > 0) {
      timeout = std::max<int>(0, std::chrono::duration_cast<std::chrono::milliseconds>(maxBatchDelay_ - batch_->age()).count());
    }
    if (pollInterval_.count() > 0) timeout = std::min<int>(timeout, static_cast<int>(pollInterval_.count()));
    int ready = poll(fds, 2, timeout);
    if (ready < 0 && errno != EINTR) break;
    if (stopping_) break;
    if ((ready > 0 && (fds[0].revents & POLLIN)) || pollInterval_.count() > 0) ring_buffer__consume(ring_);
    if (batch_->count() > 0 && batch_->age() >= maxBatchDelay_) flush();
  }
}

// Joins the thread; records it had not handed over, and those still in the ring, are lost (counted). Runs on the JS thread or at env teardown.
void RingReader::stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  uint64_t one = 1;
  if (write(wakeFd_, &one, sizeof(one)) < 0) { /* the thread still sees stopping_ within kIdlePollMs */ }
  if (thread_.joinable()) thread_.join();
  draining_ = true;
  ring_buffer__consume(ring_);  // what the BPF side submitted before close is counted too
  batch_->discard(*sink_);
  batch_.reset();
  ring_buffer__free(ring_);
  ring_ = nullptr;
  close(mapFd_);
  close(wakeFd_);
  sink_->close();
}

Napi::Value RingReader::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const BatchCounters& counters = sink_->counters();
  Napi::Object result = Napi::Object::New(env);
  result.Set("records", Napi::Number::New(env, static_cast<double>(counters.delivered.load())));
  result.Set("batches", Napi::Number::New(env, static_cast<double>(counters.batches.load())));
  result.Set("lost", Napi::Number::New(env, static_cast<double>(counters.lost.load())));
  return result;
}

Napi::Value RingReader::Close(const Napi::CallbackInfo& info) {
  if (!stopped_) napi_remove_env_cleanup_hook(env_, cleanupHook, this);
  stop();
  return info.Env().Undefined();
}

}  // namespace netlens
