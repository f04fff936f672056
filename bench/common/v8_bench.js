// v8_bench.js - times benchmark kernels under node's V8, the reference JIT of bench-engine and
// bench-simd-kernels (bench/common/v8_run.h runs it and reads its lines).
// Usage: node v8_bench.js RUNS NAME=PATH.wasm:N ...   (NAME "load": time compile+instantiate only)
// Each module exports bench_run(n) -> checksum. Prints one line per argument:
// "NAME CHECKSUM BEST_MS" (checksum as unsigned decimal).
'use strict';
const fs = require('fs');

const runs = parseInt(process.argv[2], 10);
if (!(runs >= 1)) {
  console.error('usage: node v8_bench.js RUNS NAME=PATH.wasm:N ...');
  process.exit(2);
}
for (const spec of process.argv.slice(3)) {
  const m = /^([^=]+)=(.+):(\d+)$/.exec(spec);
  if (!m) {
    console.error(`bad argument: ${spec}`);
    process.exit(2);
  }
  const [, name, path, nText] = m;
  if (name === 'load') { // compile + instantiate time of a module (no kernel run)
    const bytes = fs.readFileSync(path);
    let best = Infinity;
    for (let r = 0; r < runs; r++) {
      // V8 caches compiled modules by their bytes: a trailing custom section holding the run
      // number makes every run a fresh compile.
      const fresh = new Uint8Array(bytes.length + 8);
      fresh.set(bytes);
      fresh.set([0, 6, 1, 0x72, r & 255, (r >> 8) & 255, 0, 0], bytes.length);
      const t0 = process.hrtime.bigint();
      new WebAssembly.Instance(new WebAssembly.Module(fresh), {});
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (ms < best) best = ms;
    }
    console.log(`load 0 ${best.toFixed(3)}`);
    continue;
  }
  const module = new WebAssembly.Module(fs.readFileSync(path));
  const instance = new WebAssembly.Instance(module, {});
  const run = instance.exports.bench_run;
  let best = Infinity, checksum = 0n;
  for (let r = 0; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    checksum = BigInt.asUintN(64, run(parseInt(nText, 10)));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms < best) best = ms;
  }
  console.log(`${name} ${checksum} ${best.toFixed(3)}`);
}
