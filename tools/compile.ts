/**
 * `deno task compile [--target TRIPLE] [--output FILE]`: `deno compile` of
 * `main.ts` into one binary, with the permissions chat runs with. When the
 * base runtime (denort) cannot be had, it says in one line what is
 * missing and how to get it, instead of a stack of transport errors.
 *
 * @module
 */
import { parseArgs } from "node:util";

/** The permissions baked into the binary: what `chat serve` and `chat connect` need. */
const PERMISSIONS = [
  "--no-prompt",
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
];

const { values } = parseArgs({
  args: Deno.args,
  options: {
    target: { type: "string" },
    output: { type: "string", default: "dist/chat" },
  },
});
const main = new URL("../main.ts", import.meta.url).pathname;
const args = [
  "compile",
  ...PERMISSIONS,
  ...(values.target ? ["--target", values.target] : []),
  "--output",
  values.output!,
  main,
];
const out = await new Deno.Command(Deno.execPath(), {
  args,
  stdout: "inherit",
  stderr: "piped",
}).output();
const err = new TextDecoder().decode(out.stderr);
if (out.success) {
  await Deno.stderr.write(out.stderr);
  Deno.exit(0);
}
const url = err.match(/https:\/\/dl\.deno\.land\/\S+?\.zip/)?.[0];
if (url || /Setting up base binary/.test(err)) {
  const from = url ?? "dl.deno.land";
  console.error(
    `compile: error: deno compile needs Deno's base runtime (denort ${Deno.version.deno}${
      values.target ? ` for ${values.target}` : ""
    }) from ${from}, which cannot be reached from here: build where dl.deno.land is reachable (the release workflow does), or set DENORT_BIN to a denort ${Deno.version.deno} binary`,
  );
} else {
  await Deno.stderr.write(out.stderr);
}
Deno.exit(1);
