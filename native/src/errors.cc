#include "errors.h"

#include <cerrno>
#include <cmath>
#include <cstring>

namespace netlens {

const char* errnoName(int error) {
  if (error < 0) error = -error;
  switch (error) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EINTR: return "EINTR";
    case EIO: return "EIO";
    case E2BIG: return "E2BIG";
    case EBADF: return "EBADF";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENFILE: return "ENFILE";
    case EMFILE: return "EMFILE";
    case ENOSPC: return "ENOSPC";
    case ERANGE: return "ERANGE";
    case ENOSYS: return "ENOSYS";
    case ENOTSUP: return "ENOTSUP";
    case ENOPKG: return "ENOPKG";
    case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EADDRINUSE: return "EADDRINUSE";
    case ENETDOWN: return "ENETDOWN";
    case ENXIO: return "ENXIO";
    case ESTALE: return "ESTALE";
    case 524: return "ENOTSUPP";  // kernel-internal, leaks out of the bpf() syscall
    case 4001: return "LIBBPF_ERRCODE_FORMAT";
    case 4003: return "LIBBPF_ERRKVER";
    case 4007: return "LIBBPF_ERRVERIFY";
    case 4008: return "LIBBPF_ERRPROG2BIG";
    default: return "UNKNOWN";
  }
}

Napi::Error makeError(Napi::Env env, const std::string& message, const std::string& code, const std::string& op,
                      const std::string& log) {
  std::string full = op + ": " + message;
  AddonData* data = env.GetInstanceData<AddonData>();
  Napi::Object error;
  if (data != nullptr && !data->errorClass.IsEmpty()) {
    error = data->errorClass.New({Napi::String::New(env, full), Napi::String::New(env, code),
                                  Napi::String::New(env, op),
                                  log.empty() ? env.Undefined() : Napi::String::New(env, log).As<Napi::Value>()});
  } else {
    error = Napi::Error::New(env, full).Value();
    error.Set("code", code);
    error.Set("op", op);
    if (!log.empty()) error.Set("log", log);
  }
  return Napi::Error(env, error);
}

Napi::Error errnoError(Napi::Env env, int error, const std::string& op, const std::string& log) {
  if (error < 0) error = -error;
  return makeError(env, std::strerror(error), errnoName(error), op, log);
}

Napi::Error argumentError(Napi::Env env, const std::string& op, const std::string& message) {
  return makeError(env, message, "EINVAL", op);
}

std::string stringArgument(const Napi::Value& value, const std::string& op, const char* what) {
  if (!value.IsString()) throw argumentError(value.Env(), op, std::string(what) + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

uint32_t uint32Argument(const Napi::Value& value, const std::string& op, const char* what) {
  if (!value.IsNumber()) throw argumentError(value.Env(), op, std::string(what) + " must be a number");
  double number = value.As<Napi::Number>().DoubleValue();
  if (!(number >= 0 && number <= 4294967295.0) || std::floor(number) != number) {
    throw argumentError(value.Env(), op, std::string(what) + " must be an integer in [0, 2^32)");
  }
  return static_cast<uint32_t>(number);
}

Napi::Buffer<uint8_t> bufferArgument(const Napi::Value& value, const std::string& op, const char* what) {
  if (!value.IsBuffer()) throw argumentError(value.Env(), op, std::string(what) + " must be a Buffer");
  return value.As<Napi::Buffer<uint8_t>>();
}

uint32_t optionalUint32(const Napi::Object& options, const char* name, uint32_t fallback, const std::string& op) {
  Napi::Value value = options.Get(name);
  if (value.IsUndefined() || value.IsNull()) return fallback;
  uint32_t result = uint32Argument(value, op, name);
  if (result == 0) throw argumentError(options.Env(), op, std::string(name) + " must be positive");
  return result;
}

}  // namespace netlens
