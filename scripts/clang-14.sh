# Sourced by scripts/asan-build and scripts/tsan: the sanitized builds' compiler, clang-14, which builds them in
# about half of GCC's time (bench/README, "Session 20"); the release build stays on GCC.
clang_c=-DCMAKE_C_COMPILER=clang-14
clang_cxx=-DCMAKE_CXX_COMPILER=clang++-14

# A build folder configured with another compiler (GCC, before session 20) is started again rather than mixed.
start_again_if_not_clang() {
  if [[ -f "$1/CMakeCache.txt" ]] && ! grep -q "^CMAKE_CXX_COMPILER:[A-Z]*=.*clang++-14$" "$1/CMakeCache.txt"; then
    rm -rf "$1"
  fi
}
