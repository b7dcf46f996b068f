// netlens_native: libbpf objects and maps, ring-buffer readers and AF_PACKET rings for the TypeScript side
// (src/native/index.ts, typed by src/native/types.ts).
#include <bpf/libbpf.h>
#include <napi.h>

#include "bpf_map.h"
#include "bpf_object.h"
#include "errors.h"
#include "libbpf_log.h"
#include "packet_ring.h"
#include "ring_reader.h"

namespace netlens {

namespace {

Napi::Value ProbeProgramType(const Napi::CallbackInfo& info) {
  uint32_t type = uint32Argument(info[0], "probeProgramType", "type");
  int result = libbpf_probe_bpf_prog_type(static_cast<bpf_prog_type>(type), nullptr);
  if (result < 0 && result != -EOPNOTSUPP) throw errnoError(info.Env(), result, "libbpf_probe_bpf_prog_type");
  return Napi::Boolean::New(info.Env(), result == 1);
}

// Called once by index.ts with NativeError, so that every native failure is thrown as one.
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) throw argumentError(info.Env(), "setErrorClass", "expected a constructor");
  info.Env().GetInstanceData<AddonData>()->errorClass = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace

}  // namespace netlens

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace netlens;
  installLibbpfPrint();
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);
  Napi::Function bpfMap = BpfMap::Define(env);
  data->bpfMapClass = Napi::Persistent(bpfMap);
  exports.Set("BpfObject", BpfObject::Define(env));
  exports.Set("BpfMap", bpfMap);
  exports.Set("RingReader", RingReader::Define(env));
  exports.Set("PacketRing", PacketRing::Define(env));
  exports.Set("probeProgramType", Napi::Function::New<ProbeProgramType>(env, "probeProgramType"));
  exports.Set("setErrorClass", Napi::Function::New<SetErrorClass>(env, "setErrorClass"));
  return exports;
}

NODE_API_MODULE(netlens_native, Init)
