#include "bpf_map.h"

#include <bpf/bpf.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bpf_object.h"
#include "errors.h"

namespace netlens {

namespace {

constexpr int kEnotsupp = 524;  // kernel-internal ENOTSUPP, returned by maps without batch operations
constexpr uint32_t kDumpChunk = 4096;

bool isPerCpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

bool batchUnsupported(int error) { return error == EINVAL || error == kEnotsupp || error == EOPNOTSUPP; }

// A malloc'd byte array that grows and is handed to JS without a copy.
struct GrowingBuffer {
  uint8_t* data = nullptr;
  size_t size = 0;
  ~GrowingBuffer() { std::free(data); }
  // Grows geometrically, so filling it chunk by chunk copies each byte a bounded number of times.
  uint8_t* reserve(size_t bytes) {
    if (bytes <= size) return data;
    size_t grownSize = std::max(bytes, size * 2);
    void* grown = std::realloc(data, grownSize);
    if (grown == nullptr) throw std::bad_alloc();
    data = static_cast<uint8_t*>(grown);
    size = grownSize;
    return data;
  }
  Napi::Buffer<uint8_t> release(Napi::Env env, size_t length) {
    if (length == 0) return Napi::Buffer<uint8_t>::New(env, 0);
    uint8_t* owned = data;
    data = nullptr;
    size = 0;
    return Napi::Buffer<uint8_t>::New(env, owned, length, [](Napi::Env, uint8_t* bytes) { std::free(bytes); });
  }
};

// What one read of a whole map got: `count` entries packed in keys and values, or the errno that stopped it and the
// call that returned it. Filled without N-API, so that a worker thread can do the reading (dumpAsync).
struct DumpRead {
  size_t keySize = 0;
  size_t valueSize = 0;
  GrowingBuffer keys, values;
  size_t count = 0;
  int error = 0;
  std::string op;

  DumpRead(size_t keySize, size_t valueSize) : keySize(keySize), valueSize(valueSize) {}

  bool fail(int errorNumber, std::string call) {
    error = errorNumber;
    op = std::move(call);
    return false;
  }

  Napi::Object toEntries(Napi::Env env) {
    Napi::Object result = Napi::Object::New(env);
    result.Set("keys", keys.release(env, count * keySize));
    result.Set("values", values.release(env, count * valueSize));
    result.Set("count", Napi::Number::New(env, static_cast<double>(count)));
    return result;
  }
};

// For maps without batch operations: BPF_MAP_GET_NEXT_KEY then a lookup per key; keys deleted meanwhile are skipped.
bool readByIteration(int mapFd, const std::string& name, DumpRead& read) {
  std::vector<uint8_t> key(read.keySize);
  bool first = true;
  for (;;) {
    read.keys.reserve((read.count + 1) * read.keySize);
    read.values.reserve((read.count + 1) * read.valueSize);
    uint8_t* next = read.keys.data + read.count * read.keySize;
    if (bpf_map_get_next_key(mapFd, first ? nullptr : key.data(), next) != 0) {
      if (errno == ENOENT) return true;
      return read.fail(errno, "bpf_map_get_next_key(" + name + ")");
    }
    first = false;
    std::memcpy(key.data(), next, read.keySize);
    if (bpf_map_lookup_elem(mapFd, next, read.values.data + read.count * read.valueSize) != 0) {
      if (errno == ENOENT) continue;
      return read.fail(errno, "bpf_map_lookup_elem(" + name + ")");
    }
    read.count++;
  }
}

// BPF_MAP_LOOKUP_BATCH (or LOOKUP_AND_DELETE_BATCH) in chunks of up to 4096 entries; a hash bucket larger than the
// chunk (ENOSPC) doubles it. Maps without batch operations are read by iteration (and their keys then deleted).
bool readAll(int mapFd, uint32_t maxEntries, bool andDelete, const std::string& name, DumpRead& read) {
  std::vector<uint8_t> inToken(read.keySize + 8), outToken(read.keySize + 8);
  uint32_t chunk = std::max<uint32_t>(1, std::min<uint32_t>(maxEntries, kDumpChunk));
  bool first = true;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  for (;;) {
    __u32 got = chunk;
    read.keys.reserve((read.count + chunk) * read.keySize);
    read.values.reserve((read.count + chunk) * read.valueSize);
    void* in = first ? nullptr : inToken.data();
    uint8_t* keysOut = read.keys.data + read.count * read.keySize;
    uint8_t* valuesOut = read.values.data + read.count * read.valueSize;
    int result = andDelete ? bpf_map_lookup_and_delete_batch(mapFd, in, outToken.data(), keysOut, valuesOut, &got, &opts)
                           : bpf_map_lookup_batch(mapFd, in, outToken.data(), keysOut, valuesOut, &got, &opts);
    int error = result == 0 ? 0 : errno;
    if (error == ENOSPC && got == 0) {
      chunk *= 2;
      continue;
    }
    if (error != 0 && error != ENOENT) {
      if (first && batchUnsupported(error)) {
        if (!readByIteration(mapFd, name, read)) return false;
        if (andDelete) {
          for (size_t i = 0; i < read.count; i++) bpf_map_delete_elem(mapFd, read.keys.data + i * read.keySize);  // ENOENT: gone anyway
        }
        return true;
      }
      return read.fail(error, std::string(andDelete ? "bpf_map_lookup_and_delete_batch(" : "bpf_map_lookup_batch(") + name + ")");
    }
    read.count += got;
    first = false;
    if (error == ENOENT) return true;
    std::swap(inToken, outToken);
  }
}

// dumpAsync(): readAll() on a libuv worker thread, with a duplicate of the map's fd, so that the map stays the same
// kernel object (closing the BpfObject meanwhile cannot hand the fd number to something else) until it is done.
class DumpWorker : public Napi::AsyncWorker {
 public:
  DumpWorker(Napi::Env env, Napi::Object map, int mapFd, uint32_t maxEntries, std::string name, size_t keySize,
             size_t valueSize)
      : Napi::AsyncWorker(env, "netlens:dumpAsync"),
        deferred_(Napi::Promise::Deferred::New(env)),
        map_(Napi::Persistent(map)),
        mapFd_(mapFd),
        maxEntries_(maxEntries),
        name_(std::move(name)),
        read_(keySize, valueSize) {}
  ~DumpWorker() override { close(mapFd_); }

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      readAll(mapFd_, maxEntries_, false, name_, read_);
    } catch (const std::bad_alloc&) {
      read_.fail(ENOMEM, "dumpAsync(" + name_ + ")");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (read_.error != 0) {
      deferred_.Reject(errnoError(env, read_.error, read_.op).Value());
    } else {
      deferred_.Resolve(read_.toEntries(env));
    }
  }
  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference map_;  // the JS map, and through it its BpfObject, outlive the read
  int mapFd_;
  uint32_t maxEntries_;
  std::string name_;
  DumpRead read_;
};

}  // namespace

Napi::Function BpfMap::Define(Napi::Env env) {
  return DefineClass(env, "BpfMap",
                     {InstanceMethod<&BpfMap::Lookup>("lookup"), InstanceMethod<&BpfMap::Update>("update"),
                      InstanceMethod<&BpfMap::Delete>("delete"), InstanceMethod<&BpfMap::Dump>("dump"),
                      InstanceMethod<&BpfMap::DumpAsync>("dumpAsync"),
                      InstanceMethod<&BpfMap::DumpAndDelete>("dumpAndDelete"),
                      InstanceMethod<&BpfMap::DeleteMany>("deleteMany"),
                      InstanceMethod<&BpfMap::TakeMany>("takeMany")});
}

BpfMap::BpfMap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfMap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() != 2 || !info[0].IsObject() || !info[1].IsExternal()) {
    throw argumentError(env, "BpfMap", "maps are obtained with BpfObject.map(name)");
  }
  owner_ = Napi::Persistent(info[0].As<Napi::Object>());
  object_ = BpfObject::Unwrap(info[0].As<Napi::Object>());
  map_ = info[1].As<Napi::External<bpf_map>>().Data();
  name_ = bpf_map__name(map_);
  type_ = bpf_map__type(map_);
  keySize_ = bpf_map__key_size(map_);
  bool perCpu = isPerCpu(type_);
  int possibleCpus = libbpf_num_possible_cpus();
  if (possibleCpus <= 0) throw errnoError(env, possibleCpus, "libbpf_num_possible_cpus");
  size_t valueSize = bpf_map__value_size(map_);
  if (perCpu) valueSize = (valueSize + 7) & ~static_cast<size_t>(7);
  entryValueSize_ = perCpu ? valueSize * possibleCpus : valueSize;

  Napi::Object self = info.This().As<Napi::Object>();
  auto constant = [&](const char* key, Napi::Value value) {
    self.DefineProperty(Napi::PropertyDescriptor::Value(key, value, napi_enumerable));
  };
  constant("name", Napi::String::New(env, name_));
  constant("type", Napi::Number::New(env, type_));
  constant("keySize", Napi::Number::New(env, static_cast<double>(keySize_)));
  constant("valueSize", Napi::Number::New(env, static_cast<double>(valueSize)));
  constant("maxEntries", Napi::Number::New(env, bpf_map__max_entries(map_)));
  constant("perCpu", Napi::Boolean::New(env, perCpu));
  constant("possibleCpus", Napi::Number::New(env, possibleCpus));
  constant("fd", Napi::Number::New(env, bpf_map__fd(map_)));
}

int BpfMap::fd(Napi::Env env, const std::string& op) const {
  object_->require(env, op + "(" + name_ + ")");
  return bpf_map__fd(map_);
}

void BpfMap::checkSize(Napi::Env env, const Napi::Buffer<uint8_t>& buffer, size_t expected, const std::string& op,
                       const char* what) const {
  if (buffer.Length() != expected) {
    throw argumentError(env, op + "(" + name_ + ")", std::string(what) + " must be " + std::to_string(expected) +
                                                         " bytes, got " + std::to_string(buffer.Length()));
  }
}

Napi::Value BpfMap::Lookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int mapFd = fd(env, "lookup");
  Napi::Buffer<uint8_t> key = bufferArgument(info[0], "lookup", "key");
  checkSize(env, key, keySize_, "lookup", "key");
  Napi::Buffer<uint8_t> value = Napi::Buffer<uint8_t>::New(env, entryValueSize_);
  if (bpf_map_lookup_elem(mapFd, key.Data(), value.Data()) != 0) {
    if (errno == ENOENT) return env.Null();
    throw errnoError(env, errno, "bpf_map_lookup_elem(" + name_ + ")");
  }
  return value;
}

Napi::Value BpfMap::Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int mapFd = fd(env, "update");
  Napi::Buffer<uint8_t> key = bufferArgument(info[0], "update", "key");
  Napi::Buffer<uint8_t> value = bufferArgument(info[1], "update", "value");
  checkSize(env, key, keySize_, "update", "key");
  checkSize(env, value, entryValueSize_, "update", "value");
  uint32_t flags = info[2].IsUndefined() ? static_cast<uint32_t>(BPF_ANY) : uint32Argument(info[2], "update", "flags");
  if (bpf_map_update_elem(mapFd, key.Data(), value.Data(), flags) != 0) {
    throw errnoError(env, errno, "bpf_map_update_elem(" + name_ + ")");
  }
  return env.Undefined();
}

Napi::Value BpfMap::Delete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int mapFd = fd(env, "delete");
  Napi::Buffer<uint8_t> key = bufferArgument(info[0], "delete", "key");
  checkSize(env, key, keySize_, "delete", "key");
  if (bpf_map_delete_elem(mapFd, key.Data()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    throw errnoError(env, errno, "bpf_map_delete_elem(" + name_ + ")");
  }
  return Napi::Boolean::New(env, true);
}

Napi::Value BpfMap::Dump(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return readWhole(env, fd(env, "dump"), false);
}

Napi::Value BpfMap::DumpAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int mapFd = fcntl(fd(env, "dumpAsync"), F_DUPFD_CLOEXEC, 0);
  if (mapFd < 0) throw errnoError(env, errno, "fcntl(F_DUPFD_CLOEXEC, " + name_ + ")");
  auto* worker = new DumpWorker(env, info.This().As<Napi::Object>(), mapFd, bpf_map__max_entries(map_), name_, keySize_,
                                entryValueSize_);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// BPF_MAP_LOOKUP_AND_DELETE_BATCH: each bucket is read and emptied under its lock, so an entry is returned exactly
// once. Maps without it are read by iteration, then the keys read are deleted.
Napi::Value BpfMap::DumpAndDelete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return readWhole(env, fd(env, "dumpAndDelete"), true);
}

Napi::Value BpfMap::readWhole(Napi::Env env, int mapFd, bool andDelete) {
  DumpRead read(keySize_, entryValueSize_);
  if (!readAll(mapFd, bpf_map__max_entries(map_), andDelete, name_, read)) throw errnoError(env, read.error, read.op);
  return read.toEntries(env);
}

BpfMap::KeyList BpfMap::keyListArguments(const Napi::CallbackInfo& info, const std::string& op) const {
  KeyList list{bufferArgument(info[0], op, "keys"), uint32Argument(info[1], op, "count")};
  checkSize(info.Env(), list.keys, static_cast<size_t>(list.count) * keySize_, op, "keys");
  return list;
}

// BPF_MAP_DELETE_BATCH stops at the first missing key: count what it removed, skip that key, go on. Maps without
// batch deletion fall back to one BPF_MAP_DELETE_ELEM per key.
Napi::Value BpfMap::DeleteMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int mapFd = fd(env, "deleteMany");
  auto [keys, count] = keyListArguments(info, "deleteMany");
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  size_t done = 0, removed = 0;
  bool batch = true;
  while (done < count) {
    uint8_t* key = keys.Data() + done * keySize_;
    if (batch) {
      __u32 processed = count - done;
      int result = bpf_map_delete_batch(mapFd, key, &processed, &opts);
      int error = result == 0 ? 0 : errno;
      if (error == 0 || error == ENOENT) {
        removed += processed;
        done += processed + (error == ENOENT ? 1 : 0);
        continue;
      }
      if (processed == 0 && batchUnsupported(error)) {
        batch = false;
        continue;
      }
      throw errnoError(env, error, "bpf_map_delete_batch(" + name_ + ")");
    }
    if (bpf_map_delete_elem(mapFd, key) == 0) {
      removed++;
    } else if (errno != ENOENT) {
      throw errnoError(env, errno, "bpf_map_delete_elem(" + name_ + ")");
    }
    done++;
  }
  return Napi::Number::New(env, static_cast<double>(removed));
}

// BPF_MAP_LOOKUP_AND_DELETE_ELEM per key (hash maps: Linux 5.14): each value is read and its entry removed under the
// bucket's lock, so nothing the kernel adds in between is lost, unlike a dump followed by a delete. No batch form
// takes given keys. Keys not in the map are left out of the result.
Napi::Value BpfMap::TakeMany(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int mapFd = fd(env, "takeMany");
  auto [keys, count] = keyListArguments(info, "takeMany");
  DumpRead read(keySize_, entryValueSize_);
  read.keys.reserve(std::max<size_t>(1, count) * keySize_);
  read.values.reserve(std::max<size_t>(1, count) * entryValueSize_);
  for (uint32_t i = 0; i < count; i++) {
    const uint8_t* key = keys.Data() + static_cast<size_t>(i) * keySize_;
    if (bpf_map_lookup_and_delete_elem(mapFd, key, read.values.data + read.count * entryValueSize_) != 0) {
      if (errno == ENOENT) continue;
      throw errnoError(env, errno, "bpf_map_lookup_and_delete_elem(" + name_ + ")");
    }
    std::memcpy(read.keys.data + read.count * keySize_, key, keySize_);
    read.count++;
  }
  return read.toEntries(env);
}

}  // namespace netlens
