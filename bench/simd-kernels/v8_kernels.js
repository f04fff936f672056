// v8_kernels.js - runs SIMD-kernel builds under node's V8, the reference JIT for bench-simd-kernels.
// Usage: node v8_kernels.js RUNS LABEL=PATH.wasm:N ...
// Prints one line per argument: "LABEL CHECKSUM BEST_MS" (checksum as unsigned decimal).
'use strict';
const fs = require('fs');

const runs = parseInt(process.argv[2], 10);
if (!(runs >= 1)) {
  console.error('usage: node v8_kernels.js RUNS LABEL=PATH.wasm:N ...');
  process.exit(2);
}
for (const spec of process.argv.slice(3)) {
  const m = /^([^=]+)=(.+):(\d+)$/.exec(spec);
  if (!m) {
    console.error(`bad argument: ${spec}`);
    process.exit(2);
  }
  const [, label, path, nText] = m;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(path)), {});
  const run = instance.exports.bench_run;
  let best = Infinity, checksum = 0n;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    checksum = BigInt.asUintN(64, run(parseInt(nText, 10)));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms < best) best = ms;
  }
  console.log(`${label} ${checksum} ${best.toFixed(3)}`);
}
