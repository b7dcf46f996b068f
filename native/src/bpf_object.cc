#include "bpf_object.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "errors.h"
#include "libbpf_log.h"

namespace netlens {

Napi::Function BpfObject::Define(Napi::Env env) {
  return DefineClass(env, "BpfObject",
                     {InstanceMethod<&BpfObject::Programs>("programs"),
                      InstanceMethod<&BpfObject::Attach>("attach"),
                      InstanceMethod<&BpfObject::AttachUprobe>("attachUprobe"),
                      InstanceMethod<&BpfObject::AttachCgroup>("attachCgroup"),
                      InstanceMethod<&BpfObject::Detach>("detach"),
                      InstanceMethod<&BpfObject::ProgramFd>("programFd"),
                      InstanceMethod<&BpfObject::Map>("map"),
                      InstanceMethod<&BpfObject::Close>("close")});
}

BpfObject::BpfObject(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BpfObject>(info) {
  Napi::Env env = info.Env();
  path_ = stringArgument(info[0], "BpfObject", "path");
  Napi::Object options = Napi::Object::New(env);
  if (!info[1].IsUndefined() && !info[1].IsNull()) {
    if (!info[1].IsObject()) throw argumentError(env, "BpfObject", "options must be an object");
    options = info[1].As<Napi::Object>();
  }
  LibbpfLogCapture log;
  object_ = bpf_object__open_file(path_.c_str(), nullptr);
  if (object_ == nullptr) throw errnoError(env, errno, "bpf_object__open_file(" + path_ + ")", log.text());
  try {
    applyOptions(env, options);
  } catch (...) {
    destroy();
    throw;
  }
  int error = bpf_object__load(object_);
  if (error != 0) {
    destroy();
    throw errnoError(env, error, "bpf_object__load(" + path_ + ")", log.text());
  }
}

BpfObject::~BpfObject() { destroy(); }

void BpfObject::destroy() {
  for (auto& [id, link] : links_) bpf_link__destroy(link);
  links_.clear();
  if (object_ != nullptr) bpf_object__close(object_);
  object_ = nullptr;
}

bpf_object* BpfObject::require(Napi::Env env, const std::string& op) const {
  if (object_ == nullptr) throw makeError(env, "BPF object " + path_ + " is closed", "EBADF", op);
  return object_;
}

void BpfObject::applyOptions(Napi::Env env, const Napi::Object& options) {
  Napi::Value globals = options.Get("globals");
  if (!globals.IsUndefined() && !globals.IsNull()) {
    if (!globals.IsObject()) throw argumentError(env, "BpfObject", "globals must be an object");
    Napi::Object byName = globals.As<Napi::Object>();
    Napi::Array names = byName.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).ToString().Utf8Value();
      setGlobal(env, name, bufferArgument(byName.Get(name), "BpfObject", ("globals." + name).c_str()));
    }
  }
  Napi::Value mapSizes = options.Get("mapSizes");
  if (!mapSizes.IsUndefined() && !mapSizes.IsNull()) {
    if (!mapSizes.IsObject()) throw argumentError(env, "BpfObject", "mapSizes must be an object");
    Napi::Object byName = mapSizes.As<Napi::Object>();
    Napi::Array names = byName.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).ToString().Utf8Value();
      uint32_t size = uint32Argument(byName.Get(name), "BpfObject", ("mapSizes." + name).c_str());
      bpf_map* map = bpf_object__find_map_by_name(object_, name.c_str());
      if (map == nullptr) throw makeError(env, "no map named " + name + " in " + path_, "ENOENT", "mapSizes");
      int error = bpf_map__set_max_entries(map, size);
      if (error != 0) throw errnoError(env, error, "bpf_map__set_max_entries(" + name + ")");
    }
  }
  Napi::Value disabled = options.Get("disabledPrograms");
  if (!disabled.IsUndefined() && !disabled.IsNull()) {
    if (!disabled.IsArray()) throw argumentError(env, "BpfObject", "disabledPrograms must be an array");
    Napi::Array names = disabled.As<Napi::Array>();
    for (uint32_t i = 0; i < names.Length(); i++) {
      bpf_program* prog = program(env, names.Get(i), "disabledPrograms");
      bpf_program__set_autoload(prog, false);
    }
  }
}

// Finds the variable in the BTF of the object's data sections (.rodata, .data, .bss), checks its size, and writes it
// into the section's initial image, which libbpf copies into the map at load.
void BpfObject::setGlobal(Napi::Env env, const std::string& name, const Napi::Buffer<uint8_t>& value) {
  const std::string op = "globals." + name;
  const btf* types = bpf_object__btf(object_);
  if (types == nullptr) throw makeError(env, path_ + " has no BTF", "ENOENT", op);
  for (__u32 id = 1; id < btf__type_cnt(types); id++) {
    const btf_type* section = btf__type_by_id(types, id);
    if (!btf_is_datasec(section)) continue;
    const btf_var_secinfo* variables = btf_var_secinfos(section);
    for (int i = 0; i < btf_vlen(section); i++) {
      const btf_type* variable = btf__type_by_id(types, variables[i].type);
      if (name != btf__name_by_offset(types, variable->name_off)) continue;
      if (variables[i].size != value.Length()) {
        throw makeError(env, name + " is " + std::to_string(variables[i].size) + " bytes, got " +
                                 std::to_string(value.Length()), "EINVAL", op);
      }
      std::string sectionName = btf__name_by_offset(types, section->name_off);
      bpf_map* map;
      bpf_object__for_each_map(map, object_) {
        std::string mapName = bpf_map__name(map);
        if (!bpf_map__is_internal(map) || mapName.size() < sectionName.size() ||
            mapName.compare(mapName.size() - sectionName.size(), sectionName.size(), sectionName) != 0) {
          continue;
        }
        size_t imageSize = 0;
        const void* image = bpf_map__initial_value(map, &imageSize);
        if (image == nullptr || variables[i].offset + variables[i].size > imageSize) break;
        std::vector<uint8_t> copy(static_cast<const uint8_t*>(image), static_cast<const uint8_t*>(image) + imageSize);
        std::memcpy(copy.data() + variables[i].offset, value.Data(), value.Length());
        int error = bpf_map__set_initial_value(map, copy.data(), copy.size());
        if (error != 0) throw errnoError(env, error, "bpf_map__set_initial_value(" + mapName + ")");
        return;
      }
      throw makeError(env, "section " + sectionName + " of " + name + " has no map", "ENOENT", op);
    }
  }
  throw makeError(env, "no global variable named " + name + " in " + path_, "ENOENT", op);
}

bpf_program* BpfObject::program(Napi::Env env, const Napi::Value& name, const std::string& op) const {
  std::string programName = stringArgument(name, op, "program");
  bpf_program* prog = bpf_object__find_program_by_name(require(env, op), programName.c_str());
  if (prog == nullptr) throw makeError(env, "no program named " + programName + " in " + path_, "ENOENT", op);
  return prog;
}

Napi::Value BpfObject::Programs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_object* object = require(env, "programs");
  Napi::Array result = Napi::Array::New(env);
  bpf_program* prog;
  bpf_object__for_each_program(prog, object) {
    int fd = bpf_program__fd(prog);
    if (fd < 0) continue;  // disabled: not loaded
    bpf_prog_info progInfo;
    std::memset(&progInfo, 0, sizeof(progInfo));
    __u32 length = sizeof(progInfo);
    if (bpf_obj_get_info_by_fd(fd, &progInfo, &length) != 0) {
      throw errnoError(env, errno, std::string("bpf_obj_get_info_by_fd(") + bpf_program__name(prog) + ")");
    }
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("name", bpf_program__name(prog));
    entry.Set("section", bpf_program__section_name(prog));
    entry.Set("id", progInfo.id);
    entry.Set("fd", fd);
    // Runs the kernel skipped because the program was already running on that CPU (a softirq interrupting it).
    entry.Set("recursionMisses", Napi::Number::New(env, static_cast<double>(progInfo.recursion_misses)));
    result.Set(result.Length(), entry);
  }
  return result;
}

uint32_t BpfObject::keepLink(Napi::Env env, bpf_link* link, const std::string& op, const std::string& log) {
  if (link == nullptr) throw errnoError(env, errno, op, log);
  uint32_t id = nextLinkId_++;
  links_[id] = link;
  return id;
}

Napi::Value BpfObject::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* prog = program(env, info[0], "attach");
  LibbpfLogCapture log;
  bpf_link* link = bpf_program__attach(prog);
  uint32_t id = keepLink(env, link, std::string("bpf_program__attach(") + bpf_program__name(prog) + ")", log.text());
  return Napi::Number::New(env, id);
}

Napi::Value BpfObject::AttachUprobe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* prog = program(env, info[0], "attachUprobe");
  if (!info[1].IsObject()) throw argumentError(env, "attachUprobe", "target must be an object");
  Napi::Object target = info[1].As<Napi::Object>();
  std::string binaryPath = stringArgument(target.Get("binaryPath"), "attachUprobe", "binaryPath");
  // A function by name, or an instruction by its file offset (code without a symbol of its own).
  Napi::Value offsetValue = target.Get("offset");
  bool byOffset = !offsetValue.IsUndefined() && !offsetValue.IsNull();
  size_t offset = 0;
  std::string functionName;
  if (byOffset) {
    if (!offsetValue.IsNumber() || offsetValue.As<Napi::Number>().DoubleValue() < 0) {
      throw argumentError(env, "attachUprobe", "offset must be a non-negative number");
    }
    offset = static_cast<size_t>(offsetValue.As<Napi::Number>().Int64Value());
  } else {
    functionName = stringArgument(target.Get("functionName"), "attachUprobe", "functionName");
  }
  int pid = -1;
  Napi::Value pidValue = target.Get("pid");
  if (!pidValue.IsUndefined() && !pidValue.IsNull()) {
    if (!pidValue.IsNumber()) throw argumentError(env, "attachUprobe", "pid must be a number");
    pid = pidValue.As<Napi::Number>().Int32Value();
  }
  LIBBPF_OPTS(bpf_uprobe_opts, opts);
  if (!byOffset) opts.func_name = functionName.c_str();
  opts.retprobe = target.Get("retprobe").ToBoolean().Value();
  LibbpfLogCapture log;
  bpf_link* link = bpf_program__attach_uprobe_opts(prog, pid, binaryPath.c_str(), offset, &opts);
  char hex[24];
  std::snprintf(hex, sizeof(hex), "0x%zx", offset);
  std::string where = byOffset ? std::string(hex) : functionName;
  uint32_t id = keepLink(env, link, std::string("bpf_program__attach_uprobe_opts(") + bpf_program__name(prog) + ", " +
                                        binaryPath + ":" + where + ")", log.text());
  return Napi::Number::New(env, id);
}

// The link keeps the cgroup referenced; the directory fd is needed only to attach.
Napi::Value BpfObject::AttachCgroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* prog = program(env, info[0], "attachCgroup");
  std::string cgroupPath = stringArgument(info[1], "attachCgroup", "cgroupPath");
  int cgroup = open(cgroupPath.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup < 0) throw errnoError(env, errno, "open(" + cgroupPath + ")");
  LibbpfLogCapture log;
  bpf_link* link = bpf_program__attach_cgroup(prog, cgroup);
  int error = errno;
  close(cgroup);
  errno = error;
  uint32_t id = keepLink(env, link, std::string("bpf_program__attach_cgroup(") + bpf_program__name(prog) + ", " +
                                        cgroupPath + ")", log.text());
  return Napi::Number::New(env, id);
}

Napi::Value BpfObject::Detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  require(env, "detach");
  uint32_t id = uint32Argument(info[0], "detach", "link");
  auto found = links_.find(id);
  if (found == links_.end()) throw makeError(env, "no link " + std::to_string(id), "ENOENT", "detach");
  int error = bpf_link__destroy(found->second);
  links_.erase(found);
  if (error != 0) throw errnoError(env, error, "bpf_link__destroy");
  return env.Undefined();
}

Napi::Value BpfObject::ProgramFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bpf_program* prog = program(env, info[0], "programFd");
  int fd = bpf_program__fd(prog);
  if (fd < 0) throw makeError(env, std::string(bpf_program__name(prog)) + " is not loaded", "ENOENT", "programFd");
  return Napi::Number::New(env, fd);
}

Napi::Value BpfObject::Map(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = stringArgument(info[0], "map", "name");
  bpf_map* map = bpf_object__find_map_by_name(require(env, "map"), name.c_str());
  if (map == nullptr || bpf_map__fd(map) < 0) {
    throw makeError(env, "no map named " + name + " in " + path_, "ENOENT", "map");
  }
  AddonData* data = env.GetInstanceData<AddonData>();
  return data->bpfMapClass.New({Value(), Napi::External<bpf_map>::New(env, map)});
}

Napi::Value BpfObject::Close(const Napi::CallbackInfo& info) {
  destroy();
  return info.Env().Undefined();
}

}  // namespace netlens
