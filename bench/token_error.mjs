// Measures dropd's estimated_tokens formula against OpenAI's tokenizers.
// A measuring tool only: nothing in the build or the tests depends on it.
//
//   mkdir -p /tmp/tok && cd /tmp/tok && npm init -y && npm install gpt-tokenizer
//   python3 ../shared/peers/gen_corpus.py /tmp/tokcorpus --small 300 --medium 60 --large 0
//   NODE_PATH=/tmp/tok/node_modules node bench/token_error.mjs /tmp/tokcorpus/{small,medium}/*
//
// Fits tokens ~ a*words + b*bytes + c*non_ascii_bytes (least squares on the
// relative error) on the even-numbered files, reports mean absolute and
// worst relative error on the odd-numbered ones, for the fit, for the
// formula compiled into dropd (token_estimate.cpp) and for bytes/4.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(process.env.NODE_PATH ? process.env.NODE_PATH + '/' : import.meta.url);
const o200k = require('gpt-tokenizer/cjs/encoding/o200k_base');
const cl100k = require('gpt-tokenizer/cjs/encoding/cl100k_base');

function features(buf) {
  let words = 0, nonAscii = 0, inWord = false;
  for (const b of buf) {
    const space = b === 32 || (b >= 9 && b <= 13);
    if (!space && !inWord) words++;
    inWord = !space;
    if (b >= 0x80) nonAscii++;
  }
  return { bytes: buf.length, words, nonAscii };
}

// The formula in daemon/file/token_estimate.cpp (keep in step).
const dropdEstimate = (f) => Math.floor((f.bytes * 320 + 512 - f.words * 87) / 1024);

function solve3(m, v) {  // Gaussian elimination, 3x3
  const a = m.map((row, i) => [...row, v[i]]);
  for (let i = 0; i < 3; i++) {
    for (let j = i + 1; j < 3; j++) {
      const r = a[j][i] / a[i][i];
      for (let k = i; k < 4; k++) a[j][k] -= r * a[i][k];
    }
  }
  const x = [0, 0, 0];
  for (let i = 2; i >= 0; i--) {
    x[i] = (a[i][3] - a[i].slice(i + 1, 3).reduce((s, c, k) => s + c * x[i + 1 + k], 0)) / a[i][i];
  }
  return x;
}

function fit(rows) {
  const m = [[0, 0, 0], [0, 0, 0], [0, 0, 0]], v = [0, 0, 0];
  for (const r of rows) {
    const x = [r.f.words, r.f.bytes, r.f.nonAscii].map((q) => q / r.tokens);
    for (let i = 0; i < 3; i++) {
      v[i] += x[i];
      for (let j = 0; j < 3; j++) m[i][j] += x[i] * x[j];
    }
  }
  return solve3(m, v);
}

function errors(rows, estimate) {
  const e = rows.map((r) => Math.abs(estimate(r.f) - r.tokens) / r.tokens);
  return { mape: (100 * e.reduce((s, q) => s + q, 0)) / e.length, worst: 100 * Math.max(...e) };
}

for (const [name, enc] of [['o200k_base', o200k], ['cl100k_base', cl100k]]) {
  const rows = process.argv.slice(2).map((path) => {
    const buf = readFileSync(path);
    return { f: features(buf), tokens: enc.encode(buf.toString('utf8')).length };
  });
  const train = rows.filter((_, i) => i % 2 === 0), test = rows.filter((_, i) => i % 2 === 1);
  const [a, b, c] = fit(train);
  const fitted = (f) => a * f.words + b * f.bytes + c * f.nonAscii;
  const show = (label, est) => {
    const e = errors(test, est);
    console.log(`${name} ${label}: mean abs ${e.mape.toFixed(2)}%  worst ${e.worst.toFixed(2)}%`);
  };
  console.log(`${name}: ${rows.length} files, fit a=${a.toFixed(4)} b=${b.toFixed(4)} c=${c.toFixed(4)}`);
  show('fit      ', fitted);
  show('dropd    ', dropdEstimate);
  show('bytes/4  ', (f) => f.bytes / 4);
}
