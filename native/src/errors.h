// Every failure reaches JS as one error class (src/native/errors.ts NativeError) carrying the errno name, the
// failing operation and, for BPF loads, libbpf's log. The class is registered by index.ts (setErrorClass); until
// then a plain Error with the same properties is thrown.
#pragma once
#include <napi.h>
#include <string>

namespace netlens {

struct AddonData {
  Napi::FunctionReference errorClass;
  Napi::FunctionReference bpfMapClass;
};

// Builds the error: message "<op>: <message>" plus code, op and (when not empty) log.
Napi::Error makeError(Napi::Env env, const std::string& message, const std::string& code, const std::string& op,
                      const std::string& log = "");

// From an errno value (positive or negative): message strerror, code the errno name.
Napi::Error errnoError(Napi::Env env, int error, const std::string& op, const std::string& log = "");

// Bad arguments from JS: code EINVAL.
Napi::Error argumentError(Napi::Env env, const std::string& op, const std::string& message);

const char* errnoName(int error);

// Argument helpers: throw argumentError unless the value has the expected type.
std::string stringArgument(const Napi::Value& value, const std::string& op, const char* what);
uint32_t uint32Argument(const Napi::Value& value, const std::string& op, const char* what);
Napi::Buffer<uint8_t> bufferArgument(const Napi::Value& value, const std::string& op, const char* what);
// An optional positive integer property of an options object, or `fallback` when absent.
uint32_t optionalUint32(const Napi::Object& options, const char* name, uint32_t fallback, const std::string& op);

}  // namespace netlens
