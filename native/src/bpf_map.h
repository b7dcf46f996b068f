// BpfMap: a map of a loaded BpfObject. Holds a reference to its object (which stays alive as long as the map does)
// and throws EBADF once the object is closed. Values of per-CPU maps hold possibleCpus slots of valueSize bytes.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include <string>

namespace netlens {

class BpfObject;

class BpfMap : public Napi::ObjectWrap<BpfMap> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Called as new BpfMap(bpfObject, External<bpf_map>) by BpfObject.map() only.
  explicit BpfMap(const Napi::CallbackInfo& info);

  // The map's fd, or throws EBADF naming `op` when its object is closed.
  int fd(Napi::Env env, const std::string& op) const;
  uint32_t type() const { return type_; }
  const std::string& name() const { return name_; }

 private:
  Napi::Value Lookup(const Napi::CallbackInfo& info);
  Napi::Value Update(const Napi::CallbackInfo& info);
  Napi::Value Delete(const Napi::CallbackInfo& info);
  Napi::Value Dump(const Napi::CallbackInfo& info);
  Napi::Value DumpAsync(const Napi::CallbackInfo& info);
  Napi::Value DumpAndDelete(const Napi::CallbackInfo& info);
  Napi::Value DeleteMany(const Napi::CallbackInfo& info);
  Napi::Value TakeMany(const Napi::CallbackInfo& info);

  Napi::Value readWhole(Napi::Env env, int fd, bool andDelete);
  // The packed keys and their count that deleteMany() and takeMany() take, checked against the key size.
  struct KeyList {
    Napi::Buffer<uint8_t> keys;
    uint32_t count;
  };
  KeyList keyListArguments(const Napi::CallbackInfo& info, const std::string& op) const;
  void checkSize(Napi::Env env, const Napi::Buffer<uint8_t>& buffer, size_t expected, const std::string& op,
                 const char* what) const;

  Napi::ObjectReference owner_;
  BpfObject* object_ = nullptr;
  bpf_map* map_ = nullptr;
  std::string name_;
  uint32_t type_ = 0;
  size_t keySize_ = 0;
  // Bytes of one entry's value as the bpf() syscall reads and writes it (all CPUs for per-CPU maps).
  size_t entryValueSize_ = 0;
};

}  // namespace netlens
