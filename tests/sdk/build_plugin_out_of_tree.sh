#!/usr/bin/env bash
# The SDK as a plugin author uses it: install the build to a fresh prefix, build examples/plugin against it with
# find_package(pipeline) in a folder of its own, and run the plugin's config with the stock build/pipeline.
# usage: build_plugin_out_of_tree.sh BUILD_DIR SOURCE_DIR MNIST_DIR WORK_DIR
set -euo pipefail
build=$1 source=$2 data=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log"
cmake -S "$source/examples/plugin" -B "$work/plugin-build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Release >"$work/configure.log"
cmake --build "$work/plugin-build" >"$work/build.log"
plugin="$work/plugin-build/libexample_stages.so"
test -f "$plugin"
# Only the plugin's own code is in it: the framework's symbols are left for the executable.
if nm -C --defined-only "$plugin" | grep -q "pipeline::Registry::instance"; then
  echo "the plugin carries a copy of the framework" >&2
  exit 1
fi
cd "$source"
"$build/pipeline" stages gaussian_noise --plugin "$plugin" | grep -F "plugin $plugin"
"$build/pipeline" run examples/plugin/noisy_mnist.yaml --set vars.plugin_dir="$work/plugin-build" \
  --set vars.data_dir="$data" --set output_dir="$work/run" --set console.progress=none | tee "$work/run.log"
grep -qE "Epoch 1/1 .* val_accuracy: 0\.[6-9]" "$work/run.log"
echo "out-of-tree plugin: ok"
