{
  "targets": [
    {
      "target_name": "kindling_cpu",
      "sources": [
        "native/cpu/binding.cc",
        "native/cpu/binding_linalg.cc",
        "native/cpu/binding_conv_pool.cc",
        "native/cpu/binding_elementwise.cc",
        "native/cpu/binding_reduce_softmax.cc",
        "native/cpu/binding_norm_optim.cc",
        "native/cpu/binding_random.cc",
        "native/cpu/binding_scan_sort.cc",
        "native/cpu/random.cc",
        "native/cpu/threadpool.cc",
        "native/cpu/kernels_scalar.cc",
        "native/cpu/kernels_avx2.cc",
        "native/cpu/kernels_avx512.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20", "-std=c++20"],
      "cflags": ["-O3", "-fno-math-errno", "-ffp-contract=fast", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-O3", "-fno-math-errno", "-ffp-contract=fast"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-O3", "-fno-math-errno", "-ffp-contract=fast"]
      }
    },
    {
      "target_name": "kindling_mpi",
      "sources": ["native/mpi/mpi_binding.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20", "-std=c++20"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-O2"],
      "ldflags": ["-pthread"],
      "libraries": ["-ldl"],
      "xcode_settings": { "CLANG_CXX_LANGUAGE_STANDARD": "c++17" }
    },
    {
      "target_name": "kindling_cuda",
      "sources": ["native/cuda/cuda_binding.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20", "-std=c++20"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-O2"],
      "libraries": ["-ldl"],
      "xcode_settings": { "CLANG_CXX_LANGUAGE_STANDARD": "c++17" }
    },
    {
      "target_name": "kindling_nccl",
      "sources": ["native/nccl/nccl_binding.cc"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_cc!": ["-std=gnu++17", "-std=gnu++20", "-std=c++20"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "cflags_cc": ["-std=c++17", "-O2"],
      "libraries": ["-ldl"],
      "xcode_settings": { "CLANG_CXX_LANGUAGE_STANDARD": "c++17" }
    }
  ]
}
