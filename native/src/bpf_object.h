// BpfObject: one libbpf object file, opened with its tunables and map sizes applied, loaded, its programs attached
// on request. close() (or garbage collection) destroys the links, then the object; use after close throws EBADF.
#pragma once
#include <bpf/libbpf.h>
#include <napi.h>

#include <cstdint>
#include <map>
#include <string>

namespace netlens {

class BpfObject : public Napi::ObjectWrap<BpfObject> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit BpfObject(const Napi::CallbackInfo& info);
  ~BpfObject() override;

  // The open object, or throws EBADF naming `op` once closed.
  bpf_object* require(Napi::Env env, const std::string& op) const;
  const std::string& path() const { return path_; }

 private:
  Napi::Value Programs(const Napi::CallbackInfo& info);
  Napi::Value Attach(const Napi::CallbackInfo& info);
  Napi::Value AttachUprobe(const Napi::CallbackInfo& info);
  Napi::Value AttachCgroup(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);
  Napi::Value ProgramFd(const Napi::CallbackInfo& info);
  Napi::Value Map(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void applyOptions(Napi::Env env, const Napi::Object& options);
  void setGlobal(Napi::Env env, const std::string& name, const Napi::Buffer<uint8_t>& value);
  bpf_program* program(Napi::Env env, const Napi::Value& name, const std::string& op) const;
  uint32_t keepLink(Napi::Env env, bpf_link* link, const std::string& op, const std::string& log);
  void destroy();

  std::string path_;
  bpf_object* object_ = nullptr;
  std::map<uint32_t, bpf_link*> links_;
  uint32_t nextLinkId_ = 1;
};

}  // namespace netlens
