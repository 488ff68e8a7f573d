// Test tool: run a Python file in Pyodide under Node, offline, with pure-Python wheels from a folder.
//
//   node run.mjs WHEEL_DIR WORK_DIR MAIN.py
//
// Every *.whl in WHEEL_DIR is unzipped into Pyodide's site-packages (what an installer does for a
// pure-Python wheel); WORK_DIR is copied to /work in Pyodide's file system and is the working
// directory; MAIN.py (inside WORK_DIR) runs with top-level await allowed; afterwards every file
// MAIN.py wrote under /work/out/ is copied back to WORK_DIR/out/. Network access is refused: the
// runtime (pyodide.asm.wasm, python_stdlib.zip) comes from the npm package on disk, and any
// fetch() ends the run with an error naming the URL.
import { readFileSync, readdirSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { loadPyodide } from "pyodide";

const [wheelDir, workDir, main] = process.argv.slice(2);
if (!main) {
  console.error("usage: node run.mjs WHEEL_DIR WORK_DIR MAIN.py");
  process.exit(64);
}
globalThis.fetch = async (url) => {
  throw new Error(`offline test: refused to fetch ${url}`);
};

const here = dirname(fileURLToPath(import.meta.url));
const started = Date.now();
const pyodide = await loadPyodide({
  indexURL: join(here, "node_modules", "pyodide") + "/",
  stdout: (s) => process.stdout.write(s + "\n"),
  stderr: (s) => process.stderr.write(s + "\n"),
});
const loaded = Date.now();

const FS = pyodide.FS;
function copyIn(host, target) {
  FS.mkdirTree(target);
  for (const name of readdirSync(host)) {
    const h = join(host, name);
    if (statSync(h).isDirectory()) copyIn(h, `${target}/${name}`);
    else FS.writeFile(`${target}/${name}`, readFileSync(h));
  }
}
copyIn(wheelDir, "/wheels");
copyIn(workDir, "/work");
FS.mkdirTree("/work/out");

await pyodide.runPythonAsync(`
import os, site, sys, zipfile
target = site.getsitepackages()[0]
for name in sorted(os.listdir("/wheels")):
    if name.endswith(".whl"):
        zipfile.ZipFile("/wheels/" + name).extractall(target)
os.chdir("/work")
sys.path.insert(0, "/work")
`);
const installed = Date.now();
let code = 0;
try {
  await pyodide.runPythonAsync(readFileSync(join(workDir, main), "utf8"), { filename: `/work/${main}` });
} catch (err) {
  console.error(String(err));
  code = 1;
}
const ran = Date.now();
mkdirSync(join(workDir, "out"), { recursive: true });
for (const name of FS.readdir("/work/out")) {
  if (name === "." || name === "..") continue;
  writeFileSync(join(workDir, "out", name), FS.readFile(`/work/out/${name}`));
}
writeFileSync(join(workDir, "out", "timing.json"), JSON.stringify({
  load_ms: loaded - started, install_ms: installed - loaded, run_ms: ran - installed,
  python: pyodide.runPython("import sys; sys.version"), pyodide: pyodide.version,
}));
process.exit(code);
