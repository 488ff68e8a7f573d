// Render every ^XA..^XZ label of a ZPL file to PNG: node render.cjs FILE.zpl OUT_PREFIX WIDTH_MM HEIGHT_MM
// Writes OUT_PREFIX-001.png, ... at 8 dots/mm (203 dpi) and prints the number of labels.
const fs = require("node:fs");
const { ready } = require("zpl-renderer-js");

(async () => {
  const [inp, prefix, w, h] = process.argv.slice(2);
  const { api } = await ready;
  const labels = await api.zplToBase64MultipleAsync(fs.readFileSync(inp, "utf8"), Number(w), Number(h), 8);
  labels.forEach((b64, i) => fs.writeFileSync(`${prefix}-${String(i + 1).padStart(3, "0")}.png`, Buffer.from(b64, "base64")));
  console.log(labels.length);
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
