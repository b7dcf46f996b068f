{
  "targets": [
    {
      "target_name": "netlens_native",
      "sources": [
        "src/addon.cc",
        "src/errors.cc",
        "src/libbpf_log.cc",
        "src/bpf_object.cc",
        "src/bpf_map.cc",
        "src/batch_sink.cc",
        "src/ring_reader.cc",
        "src/packet_ring.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "libraries": ["-lbpf", "-lelf", "-lz"]
    }
  ]
}
