/**
 * The smoke test of a built binary (the release workflow runs it on each
 * platform it can): `chat --version`, then a relay and two users, TLS on
 * with nothing set up, one message across and its end-to-end receipt.
 *
 * Usage: `deno run -A tools/smoke.ts path/to/chat [VERSION]`
 *
 * @module
 */

const [bin, version] = Deno.args;
if (!bin) {
  console.error("usage: deno run -A tools/smoke.ts path/to/chat [VERSION]");
  Deno.exit(2);
}
const dir = await Deno.makeTempDir({ prefix: "chat-smoke-" });
const decoder = new TextDecoder();

/** Runs the binary to the end; returns its exit code and stdout. */
async function run(args: string[], input?: string): Promise<[number, string]> {
  const child = new Deno.Command(bin!, {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  if (input !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(input));
    await w.close();
  }
  const out = await child.output();
  return [out.code, decoder.decode(out.stdout)];
}

/** Reads lines of a child's stdout until one matches; returns it. */
async function lineMatching(
  reader: ReadableStreamDefaultReader<string>,
  re: RegExp,
  seen: string[],
): Promise<string> {
  let rest = "";
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const found = seen.find((l) => re.test(l));
    if (found) return found;
    const { value, done } = await reader.read();
    if (done) break;
    rest += value;
    const lines = rest.split("\n");
    rest = lines.pop()!;
    seen.push(...lines);
  }
  throw new Error(`no line matching ${re} in:\n${seen.join("\n")}`);
}

function fail(what: string): never {
  console.error(`smoke: FAILED: ${what}`);
  Deno.exit(1);
}

const [code, out] = await run(["--version"]);
if (code !== 0 || !/^chat \d+\.\d+\.\d+/.test(out)) fail(`--version: ${out}`);
if (version && !out.includes(version)) fail(`--version ${out}, not ${version}`);
console.log(`smoke: ${out.trim()}`);

const serve = new Deno.Command(bin, {
  args: ["serve", "--port", "0", "--data", `${dir}/data`],
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const serveOut = serve.stdout.pipeThrough(new TextDecoderStream()).getReader();
const listening = await lineMatching(serveOut, /^listening on /, []);
const port = listening.slice(listening.lastIndexOf(":") + 1);
const home = `${dir}/home`;
const connect = ["connect", "--port", port, "--home", home, "--json"];

const bob = new Deno.Command(bin, {
  args: [...connect, "--name", "bob"],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();
const bobOut = bob.stdout.pipeThrough(new TextDecoderStream()).getReader();
const bobLines: string[] = [];
await lineMatching(bobOut, /"type":"ready"/, bobLines);
const [aliceCode, aliceOut] = await run(
  [...connect, "--name", "alice"],
  "@bob hello from the smoke test\n",
);
if (aliceCode !== 0 || !aliceOut.includes('"type":"delivered"')) {
  fail(`alice exited ${aliceCode}:\n${aliceOut}`);
}
await lineMatching(bobOut, /hello from the smoke test/, bobLines);
await bob.stdin.close();
await bob.status;
await bobOut.cancel();
serve.kill("SIGTERM");
await serve.status;
await serveOut.cancel();
await Deno.remove(dir, { recursive: true });
console.log("smoke: serve and connect over TLS: a message and its receipt");
