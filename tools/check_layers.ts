/**
 * The layer check of `deno task check`: imports go one way (docs/ARCHITECTURE.md),
 * and the engine and crypto stay free of what their layer forbids. Prints
 * each breach as `file: reason` and exits 1 if there is any.
 *
 * @module
 */

/** Top-level folders (or root files) each layer may import from, besides itself. */
const ALLOWED: Record<string, string[]> = {
  "errors.ts": [],
  crypto: ["errors.ts"],
  protocol: ["errors.ts"],
  client: ["errors.ts", "protocol", "crypto"],
  server: ["errors.ts", "protocol", "crypto"],
  cli: ["errors.ts", "protocol", "crypto", "client", "server", "deno.json"],
  "main.ts": ["cli"],
  testing: [
    "errors.ts",
    "protocol",
    "crypto",
    "client",
    "server",
    "cli",
    "main.ts",
    "deno.json",
  ],
  tests: [
    "errors.ts",
    "protocol",
    "crypto",
    "client",
    "server",
    "cli",
    "main.ts",
    "testing",
    "deno.json",
  ],
  bench: [
    "errors.ts",
    "protocol",
    "crypto",
    "client",
    "server",
    "cli",
    "main.ts",
    "testing",
    "deno.json",
  ],
  tools: [],
};

/** What a file of a layer must not contain, with the reason. */
const FORBIDDEN: Record<string, [RegExp, string][]> = {
  crypto: [
    [/\bDeno\./, "uses Deno.* (crypto/ must run in a browser)"],
    [/from "node:/, "imports node: (crypto/ must run in a browser)"],
  ],
  client: [
    [/\bconsole\./, "prints (the engine reports events; cli/ prints)"],
    [
      /\bDeno\.(stdin|stdout|stderr|exit)\b/,
      "touches the terminal or exits (cli/ does)",
    ],
    [/from "node:readline"/, "reads the terminal (cli/ does)"],
  ],
};

const IMPORT = /(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\s+"([^"]+)"/g;
const root = new URL("../", import.meta.url).pathname;

/** The layer of a path relative to the root: its first folder, or the root file. */
function layerOf(path: string): string {
  return path.includes("/") ? path.slice(0, path.indexOf("/")) : path;
}

/** Test and bench files beside code may use the shared helpers in testing/. */
function isBeside(path: string): boolean {
  return /_(test|bench)\.ts$/.test(path);
}

async function* files(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(`${root}${dir}`)) {
    const path = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory) {
      if (!e.name.startsWith(".") && e.name !== "node_modules") {
        yield* files(path);
      }
    } else if (e.name.endsWith(".ts")) yield path;
  }
}

const breaches: string[] = [];
for await (const path of files("")) {
  const layer = layerOf(path);
  const allowed = ALLOWED[layer];
  if (!allowed) continue;
  const text = await Deno.readTextFile(`${root}${path}`);
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2]!;
    if (!spec.startsWith(".")) continue;
    const target = new URL(spec, `file://${root}${path}`).pathname.slice(
      root.length,
    );
    const to = layerOf(target);
    if (to === layer) continue;
    if (allowed.includes(to)) continue;
    if (isBeside(path) && to === "testing") continue;
    breaches.push(
      `${path}: imports ${target} (${layer}/ must not import ${to})`,
    );
  }
  if (!isBeside(path)) {
    for (const [pattern, reason] of FORBIDDEN[layer] ?? []) {
      if (pattern.test(text)) breaches.push(`${path}: ${reason}`);
    }
  }
}
for (const b of breaches) console.error(`layers: ${b}`);
if (breaches.length > 0) Deno.exit(1);
console.error("layers: imports go one way");
