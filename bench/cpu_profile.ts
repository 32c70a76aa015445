/**
 * Reads a V8 CPU profile (the `.cpuprofile` JSON written by
 * `deno run --cpu-prof`) and ranks functions by self time.
 *
 * @module
 */

/** A function's share of the samples where it was on top of the stack. */
export interface ProfileEntry {
  /** Function name and source position, e.g. `relay server.ts:205`. */
  name: string;
  /** Self time, in ms. */
  selfMs: number;
  /** Self time as a share of all non-idle samples, 0 to 1. */
  share: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/**
 * The functions with the most self time in a CPU profile, idle time left out.
 *
 * @param path a `.cpuprofile` file
 * @param count how many to return
 * @throws {SyntaxError} when the file is not JSON
 */
export async function topFunctions(
  path: string,
  count: number,
): Promise<ProfileEntry[]> {
  const profile = JSON.parse(await Deno.readTextFile(path)) as {
    nodes: ProfileNode[];
    startTime: number;
    endTime: number;
    samples: number[];
  };
  const samples = profile.samples.length || 1;
  const usPerSample = (profile.endTime - profile.startTime) / samples;
  const byName = new Map<string, number>();
  let busy = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === "(idle)") continue;
    const file = url.slice(url.lastIndexOf("/") + 1);
    const name = `${functionName || "(anonymous)"}${
      file ? ` ${file}:${lineNumber + 1}` : ""
    }`;
    byName.set(name, (byName.get(name) ?? 0) + hits);
    busy += hits;
  }
  return [...byName.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, hits]) => ({
      name,
      selfMs: (hits * usPerSample) / 1000,
      share: busy ? hits / busy : 0,
    }));
}

/**
 * Prints the top functions by self time of each profile in `dir`, named by
 * `what` from the process id in its file name.
 */
export async function printProfiles(
  dir: string,
  what: (pid: number) => string,
): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith(".cpuprofile")) continue;
    const path = `${dir}/${entry.name}`;
    const pid = Number(entry.name.split(".")[2]);
    console.error(`loadtest: ${what(pid)} profile ${path}, top self time:`);
    for (const f of await topFunctions(path, 12)) {
      console.error(
        `  ${(f.share * 100).toFixed(1).padStart(5)}%  ${
          f.selfMs.toFixed(0).padStart(6)
        } ms  ${f.name}`,
      );
    }
  }
}
