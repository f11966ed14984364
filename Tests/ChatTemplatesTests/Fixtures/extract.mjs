// Prints TEST_DEFAULT_TEMPLATES and TEST_CUSTOM_TEMPLATES of huggingface.js's packages/jinja/test/e2e.test.js as JSON.
// Usage: node extract.mjs path/to/e2e.test.js > e2e_templates.json
import { readFileSync } from "node:fs";
const lines = readFileSync(process.argv[2], "utf8").split("\n");
const end = lines.findIndex((l) => l.startsWith("describe("));
const body = lines.slice(0, end).filter((l) => !l.startsWith("import")).join("\n");
const out = new Function(body + "\nreturn {...TEST_DEFAULT_TEMPLATES, ...TEST_CUSTOM_TEMPLATES};")();
const result = {};
for (const [k, v] of Object.entries(out)) result[k] = { chat_template: v.chat_template, data: v.data };
console.log(JSON.stringify(result));
