// Encode texts with llama-tokenizer-js's own encoder (no BOS, with its dummy-prefix space), for the llama2 tests.
// Usage: node llama_js_encode.mjs PATH/TO/llama-tokenizer.js [--run-tests] < texts.json > ids.json
// stdin: a JSON array of strings; stdout: a JSON array of id arrays, one per text.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

console.log = (...args) => console.error(...args);  // the package logs to stdout; stdout carries only the ids
const { default: tokenizer } = await import(pathToFileURL(process.argv[2]).href);
if (process.argv.includes("--run-tests")) {
  tokenizer.runTests();  // the package's own test cases; throws on the first that fails
}
const texts = JSON.parse(readFileSync(0, "utf-8"));
process.stdout.write(JSON.stringify(texts.map((t) => tokenizer.encode(t, false, true))));
