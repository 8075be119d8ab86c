{
  "variables": {
    "common_cflags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-fno-tree-loop-distribute-patterns", "-Wall", "-Wno-unused-function"]
  },
  "targets": [
    {
      "target_name": "dlopt_native",
      "sources": ["src/addon.cc", "src/dispatch.cc", "src/threadpool.cc", "src/isa_generic.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_API_NO_EXTERNAL_BUFFERS_ALLOWED"],
      "cflags_cc": ["<@(common_cflags)", "-std=gnu++17"],
      "cflags_cc!": ["-std=gnu++14"],
      "ldflags": ["-pthread"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["<@(common_cflags)", "-std=gnu++17"],
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      },
      "conditions": [
        ["target_arch=='x64'", { "dependencies": ["kernels_avx512", "kernels_avx2"] }]
      ]
    }
  ],
  "conditions": [
    ["target_arch=='x64'", {
      "targets": [
        {
          "target_name": "kernels_avx512",
          "type": "static_library",
          "sources": ["src/isa_avx512.cc"],
          "cflags_cc": ["<@(common_cflags)", "-std=gnu++17", "-fPIC",
                        "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma", "-mprefer-vector-width=512"],
          "xcode_settings": {
            "OTHER_CPLUSPLUSFLAGS": ["<@(common_cflags)", "-std=gnu++17",
                                     "-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma"]
          }
        },
        {
          "target_name": "kernels_avx2",
          "type": "static_library",
          "sources": ["src/isa_avx2.cc"],
          "cflags_cc": ["<@(common_cflags)", "-std=gnu++17", "-fPIC", "-mavx2", "-mfma"],
          "xcode_settings": {
            "OTHER_CPLUSPLUSFLAGS": ["<@(common_cflags)", "-std=gnu++17", "-mavx2", "-mfma"]
          }
        }
      ]
    }]
  ]
}
