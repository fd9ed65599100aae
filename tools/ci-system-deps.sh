#!/usr/bin/env bash
# System packages some tests need (Debian): Chromium for the demo's end-to-end test; Mesa's EGL/GLES
# drivers for the trainer's WebGPU test (Dawn's OpenGL ES backend on llvmpipe, EGL_PLATFORM=surfaceless).
# Not lavapipe (mesa-vulkan-drivers): Dawn 0.6.2 rejects Mesa 22.3's, "Vulkan shaderUniform*ArrayDynamicIndexing
# required".
# Installed only when missing, so a developer machine that has them pays nothing.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
for pkg in libegl-mesa0 libgles2 libgl1-mesa-dri; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null \
      || echo "warning: could not install ${need[*]}; tests that need them will say so"
  else
    echo "warning: not root, cannot install ${need[*]}; tests that need them will say so"
  fi
fi
