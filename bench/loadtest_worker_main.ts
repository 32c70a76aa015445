/**
 * A load worker process (bench/loadtest_run.ts starts one or more): the
 * coordinator's commands, one JSON line each on stdin (`config`, `idle`,
 * `login`, `warm`, `run`, `stop`), each answered with one JSON line on
 * stdout. The clients are bench/loadtest_worker.ts's.
 *
 * @module
 */
import { LoadWorker } from "./loadtest_worker.ts";

async function main(): Promise<void> {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let worker: LoadWorker | undefined;
  let rest = "";
  const reply = (value: unknown) => {
    const bytes = new TextEncoder().encode(JSON.stringify(value) + "\n");
    let off = 0;
    while (off < bytes.length) {
      off += Deno.stdout.writeSync(bytes.subarray(off));
    }
  };
  for await (const chunk of lines) {
    rest += chunk;
    let nl: number;
    while ((nl = rest.indexOf("\n")) >= 0) {
      const command = JSON.parse(rest.slice(0, nl));
      rest = rest.slice(nl + 1);
      switch (command.cmd) {
        case "config":
          worker = new LoadWorker(command.config);
          reply({ ok: true });
          break;
        case "idle":
          reply(await worker!.idle());
          break;
        case "login":
          reply(await worker!.login());
          break;
        case "warm":
          reply(await worker!.warm());
          break;
        case "run":
          await worker!.run(command.start);
          reply({ ok: true });
          break;
        case "stop":
          reply(await worker!.stop());
          return;
      }
    }
  }
}

if (import.meta.main) {
  await main();
  // Without a `stop` (the coordinator failed), open sockets would keep us alive.
  Deno.exit(0);
}
