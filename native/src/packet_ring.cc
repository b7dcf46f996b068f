#include "packet_ring.h"

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "errors.h"

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif

namespace netlens {

namespace {
constexpr size_t align8(size_t n) { return (n + 7) & ~static_cast<size_t>(7); }
constexpr size_t kFrameHeader = 24;
constexpr int kIdlePollMs = 1000;  // stop() wakes the thread through the eventfd; this only bounds a lost wake-up

struct FrameHeader {  // layout documented in src/native/types.ts (PacketBatch)
  uint64_t timestampNs;
  uint32_t ifindex;
  uint32_t caplen;
  uint32_t origlen;
  uint16_t ethertype;
  uint8_t pktType;
  uint8_t zero;
};
static_assert(sizeof(FrameHeader) == kFrameHeader, "frame header must stay 24 bytes");
}  // namespace

Napi::Function PacketRing::Define(Napi::Env env) {
  return DefineClass(env, "PacketRing",
                     {InstanceMethod<&PacketRing::Stats>("stats"), InstanceMethod<&PacketRing::Close>("close")});
}

PacketRing::PacketRing(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketRing>(info), env_(info.Env()) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw argumentError(env, "PacketRing", "options must be an object");
  if (!info[1].IsFunction()) throw argumentError(env, "PacketRing", "onBatch must be a function");
  Napi::Object options = info[0].As<Napi::Object>();
  try {
    open(env, options);
  } catch (...) {
    release();
    throw;
  }
  uint32_t maxQueued = optionalUint32(options, "maxQueuedBatches", 64, "PacketRing");
  sink_ = std::make_unique<BatchSink>(env, info[1].As<Napi::Function>(), "netlens.PacketRing", maxQueued);
  napi_add_env_cleanup_hook(env, cleanupHook, this);
  thread_ = std::thread(&PacketRing::run, this);
}

PacketRing::~PacketRing() {
  if (!stopped_ && sink_) napi_remove_env_cleanup_hook(env_, cleanupHook, this);
  stop();
}

// Order matters so that no unfiltered frame enters the ring: a socket of protocol 0 receives nothing until bind(),
// which comes last, after the ring and the filter.
void PacketRing::open(Napi::Env env, const Napi::Object& options) {
  const std::string op = "PacketRing";
  blockSize_ = optionalUint32(options, "blockSize", 1 << 20, op);
  blockCount_ = optionalUint32(options, "blockCount", 32, op);
  uint32_t frameSize = optionalUint32(options, "frameSize", 2048, op);
  uint32_t blockTimeoutMs = optionalUint32(options, "blockTimeoutMs", 50, op);
  Napi::Value delay = options.Get("maxBatchDelayMs");
  maxBatchDelay_ = std::chrono::milliseconds(delay.IsUndefined() || delay.IsNull() ? 0 : uint32Argument(delay, op, "maxBatchDelayMs"));
  unsigned int ifindex = 0;
  Napi::Value name = options.Get("interface");
  if (!name.IsUndefined() && !name.IsNull()) {
    interface_ = stringArgument(name, op, "interface");
    ifindex = if_nametoindex(interface_.c_str());
    if (ifindex == 0) throw errnoError(env, errno, "if_nametoindex(" + interface_ + ")");
  }
  int filterFd = -1;
  Napi::Value filter = options.Get("filterProgramFd");
  if (!filter.IsUndefined() && !filter.IsNull()) filterFd = static_cast<int>(uint32Argument(filter, op, "filterProgramFd"));
  const std::string where = interface_.empty() ? "all interfaces" : interface_;

  socket_ = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (socket_ < 0) throw errnoError(env, errno, "socket(AF_PACKET, SOCK_DGRAM)");
  int version = TPACKET_V3;
  if (setsockopt(socket_, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) != 0) {
    throw errnoError(env, errno, "setsockopt(PACKET_VERSION, TPACKET_V3)");
  }
  tpacket_req3 request;
  std::memset(&request, 0, sizeof(request));
  request.tp_block_size = blockSize_;
  request.tp_block_nr = blockCount_;
  request.tp_frame_size = frameSize;
  request.tp_frame_nr = (blockSize_ / frameSize) * blockCount_;
  request.tp_retire_blk_tov = blockTimeoutMs;
  if (setsockopt(socket_, SOL_PACKET, PACKET_RX_RING, &request, sizeof(request)) != 0) {
    throw errnoError(env, errno, "setsockopt(PACKET_RX_RING, block " + std::to_string(blockSize_) + " x " +
                                     std::to_string(blockCount_) + ", frame " + std::to_string(frameSize) + ")");
  }
  ringSize_ = static_cast<size_t>(blockSize_) * blockCount_;
  void* mapped = mmap(nullptr, ringSize_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, socket_, 0);
  if (mapped == MAP_FAILED) throw errnoError(env, errno, "mmap(packet ring)");
  ring_ = static_cast<uint8_t*>(mapped);
  if (filterFd >= 0 && setsockopt(socket_, SOL_SOCKET, SO_ATTACH_BPF, &filterFd, sizeof(filterFd)) != 0) {
    throw errnoError(env, errno, "setsockopt(SO_ATTACH_BPF, fd " + std::to_string(filterFd) + ")");
  }
  sockaddr_ll address;
  std::memset(&address, 0, sizeof(address));
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = static_cast<int>(ifindex);
  if (bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    throw errnoError(env, errno, "bind(AF_PACKET, " + where + ")");
  }
  wakeFd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wakeFd_ < 0) throw errnoError(env, errno, "eventfd");
  batch_ = std::make_unique<BatchBuilder>(blockSize_);
}

void PacketRing::run() {
  pollfd fds[2] = {{socket_, POLLIN | POLLERR, 0}, {wakeFd_, POLLIN, 0}};
  while (!stopping_) {
    int timeout = kIdlePollMs;
    if (batch_->count() > 0) {
      timeout = std::max<int>(0, std::chrono::duration_cast<std::chrono::milliseconds>(maxBatchDelay_ - batch_->age()).count());
    }
    // The block walk comes first: poll() on a TPACKET_V3 socket reports readable only for a block the kernel
    // retired after the last walk.
    walkBlocks();
    if (batch_->count() > 0 && batch_->age() >= maxBatchDelay_) flush();
    if (stopping_) break;
    int ready = poll(fds, 2, batch_->count() > 0 ? timeout : kIdlePollMs);
    if (ready < 0 && errno != EINTR) break;
  }
}

uint32_t PacketRing::walkBlocks() {
  uint32_t walked = 0;
  for (;;) {
    auto* block = reinterpret_cast<tpacket_block_desc*>(ring_ + static_cast<size_t>(nextBlock_) * blockSize_);
    if ((__atomic_load_n(&block->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) == 0) break;
    const uint8_t* frame = reinterpret_cast<uint8_t*>(block) + block->hdr.bh1.offset_to_first_pkt;
    for (uint32_t i = 0; i < block->hdr.bh1.num_pkts; i++) {
      appendFrame(frame);
      frame += reinterpret_cast<const tpacket3_hdr*>(frame)->tp_next_offset;
    }
    __atomic_store_n(&block->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    nextBlock_ = (nextBlock_ + 1) % blockCount_;
    walked++;
  }
  return walked;
}

void PacketRing::appendFrame(const uint8_t* frame) {
  const auto* header = reinterpret_cast<const tpacket3_hdr*>(frame);
  const auto* link = reinterpret_cast<const sockaddr_ll*>(frame + TPACKET_ALIGN(sizeof(tpacket3_hdr)));
  size_t framed = kFrameHeader + align8(header->tp_snaplen);
  uint8_t* destination = batch_->claim(framed, *sink_);
  if (destination == nullptr) return;
  FrameHeader out;
  out.timestampNs = static_cast<uint64_t>(header->tp_sec) * 1000000000ull + header->tp_nsec;
  out.ifindex = static_cast<uint32_t>(link->sll_ifindex);
  out.caplen = header->tp_snaplen;
  out.origlen = header->tp_len;
  out.ethertype = ntohs(link->sll_protocol);
  out.pktType = link->sll_pkttype;
  out.zero = 0;
  std::memcpy(destination, &out, kFrameHeader);
  std::memcpy(destination + kFrameHeader, frame + header->tp_net, header->tp_snaplen);
  std::memset(destination + kFrameHeader + header->tp_snaplen, 0, framed - kFrameHeader - header->tp_snaplen);
}

void PacketRing::flush() { batch_->flush(*sink_); }

void PacketRing::readKernelStats() {
  if (socket_ < 0) return;
  tpacket_stats_v3 stats;
  std::memset(&stats, 0, sizeof(stats));
  socklen_t length = sizeof(stats);
  if (getsockopt(socket_, SOL_PACKET, PACKET_STATISTICS, &stats, &length) != 0) return;
  kernelPackets_ += stats.tp_packets;  // the kernel already includes tp_drops in tp_packets
  kernelDrops_ += stats.tp_drops;
}

// Joins the thread, then releases the ring, the socket (the filter goes with it) and the thread-safe function.
// Frames the thread had not handed over, and those still in the ring, are counted as queue drops.
void PacketRing::stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_ = true;
  if (wakeFd_ >= 0) {
    uint64_t one = 1;
    if (write(wakeFd_, &one, sizeof(one)) < 0) { /* the thread still sees stopping_ within kIdlePollMs */ }
  }
  if (thread_.joinable()) thread_.join();
  if (ring_ != nullptr && sink_) walkBlocks();  // frames already in the ring are counted too
  if (batch_ && sink_) batch_->discard(*sink_);
  {
    std::lock_guard<std::mutex> lock(statsMutex_);
    readKernelStats();
  }
  release();
  if (sink_) sink_->close();
}

void PacketRing::release() {
  batch_.reset();
  if (ring_ != nullptr) munmap(ring_, ringSize_);
  ring_ = nullptr;
  if (socket_ >= 0) close(socket_);
  socket_ = -1;
  if (wakeFd_ >= 0) close(wakeFd_);
  wakeFd_ = -1;
}

Napi::Value PacketRing::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::lock_guard<std::mutex> lock(statsMutex_);
  readKernelStats();
  const BatchCounters& counters = sink_->counters();
  Napi::Object result = Napi::Object::New(env);
  result.Set("packets", Napi::Number::New(env, static_cast<double>(kernelPackets_)));
  result.Set("drops", Napi::Number::New(env, static_cast<double>(kernelDrops_)));
  result.Set("delivered", Napi::Number::New(env, static_cast<double>(counters.delivered.load())));
  result.Set("queueDrops", Napi::Number::New(env, static_cast<double>(counters.lost.load())));
  result.Set("queuedBatches", Napi::Number::New(env, counters.queued.load()));
  return result;
}

Napi::Value PacketRing::Close(const Napi::CallbackInfo& info) {
  if (!stopped_) napi_remove_env_cleanup_hook(env_, cleanupHook, this);
  stop();
  return info.Env().Undefined();
}

}  // namespace netlens
