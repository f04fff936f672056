// Reads "hex-bits formatted" lines from test_policy --emit and checks each against
// Number.prototype.toString of the same double. Exits 1 on any difference.
'use strict';
const lines = require('fs').readFileSync(0, 'utf8').split('\n').filter(Boolean);
const view = new DataView(new ArrayBuffer(8));
let bad = 0;
for (const line of lines) {
  const [hex, got] = line.split(' ');
  view.setBigUint64(0, BigInt('0x' + hex));
  const want = String(view.getFloat64(0));
  if (got !== want) {
    if (bad++ < 10) console.error(`0x${hex}: got ${got}, want ${want}`);
  }
}
console.log(`${lines.length} doubles, ${bad} differences`);
process.exit(bad || lines.length < 1000 ? 1 : 0);
