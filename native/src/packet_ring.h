// PacketRing: an AF_PACKET SOCK_DGRAM socket with a TPACKET_V3 receive ring, optionally filtered by an eBPF socket
// filter. A native thread walks the ring's blocks, copies each frame into a batch (24-byte header + network-layer
// bytes padded to 8, see src/native/types.ts PacketBatch), returns blocks to the kernel at once, and hands batches to
// JS. close() is required: until then the thread-safe function keeps the Node event loop alive.
#pragma once
#include <napi.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "batch_sink.h"

namespace netlens {

class PacketRing : public Napi::ObjectWrap<PacketRing> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit PacketRing(const Napi::CallbackInfo& info);
  ~PacketRing() override;

 private:
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void open(Napi::Env env, const Napi::Object& options);
  void run();
  // Copies the frames of every block the kernel has handed over; returns how many blocks it walked.
  uint32_t walkBlocks();
  void appendFrame(const uint8_t* frame);
  void flush();
  void readKernelStats();
  void stop();
  void release();
  static void cleanupHook(void* self) { static_cast<PacketRing*>(self)->stop(); }

  std::unique_ptr<BatchSink> sink_;
  std::string interface_;
  int socket_ = -1;
  int wakeFd_ = -1;
  uint8_t* ring_ = nullptr;
  size_t ringSize_ = 0;
  uint32_t blockSize_ = 0;
  uint32_t blockCount_ = 0;
  uint32_t nextBlock_ = 0;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
  Napi::Env env_;

  std::chrono::milliseconds maxBatchDelay_{0};
  std::unique_ptr<BatchBuilder> batch_;

  // PACKET_STATISTICS resets on every read: accumulated here.
  std::mutex statsMutex_;
  uint64_t kernelPackets_ = 0;
  uint64_t kernelDrops_ = 0;
};

}  // namespace netlens
