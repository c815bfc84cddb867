// Runs an ONNX model in ONNX Runtime (npm's onnxruntime-node, CPU) on raw float32 inputs.
// usage: node run_onnx.js MODULE_DIR MODEL INPUT.f32 HEIGHT WIDTH CHANNELS OUTPUT.f32
const path = require("path");
const fs = require("fs");
const [moduleDir, modelPath, inputPath, h, w, c, outputPath] = process.argv.slice(2);
const ort = require(path.join(moduleDir, "node_modules", "onnxruntime-node"));

async function main() {
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const bytes = fs.readFileSync(inputPath);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const sample = Number(h) * Number(w) * Number(c);
  const count = all.length / sample;
  const chunks = [];
  for (let start = 0; start < count; start += 1000) {
    const n = Math.min(1000, count - start);
    const input = new ort.Tensor("float32", all.subarray(start * sample, (start + n) * sample), [n, Number(h), Number(w), Number(c)]);
    const result = await session.run({ input });
    const p = result.probabilities.data;  // a view: copy its own bytes only
    chunks.push(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  }
  fs.writeFileSync(outputPath, Buffer.concat(chunks));
  console.log(`onnxruntime ${ort.env.versions ? JSON.stringify(ort.env.versions) : ""}: ${count} images`);
}
main().catch((e) => { console.error(e); process.exit(1); });
