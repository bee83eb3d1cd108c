import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The parts of a V8 .cpuprofile (node --cpu-prof) that self time needs. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string };
    readonly children?: readonly number[];
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Who a function belongs to: an npm package, a workspace package, Node itself, or V8. */
export function ownerOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const npm = /node_modules\/\.pnpm\/(@[^+/]+\+[^@/]+|[^@/]+)@/.exec(url)?.[1];
  if (npm !== undefined) return npm.replace('+', '/');
  const workspace = /\/(packages|processors|projections)\/([^/]+)\/src\//.exec(url);
  if (workspace !== null) return `${workspace[1] ?? ''}/${workspace[2] ?? ''}`;
  if (url.startsWith('node:')) return 'node (internal)';
  return url;
}

/**
 * Self time of the process's profiles in `dir`, by owner and by function: the lines to print.
 * Times are sample intervals attributed to the function on top of the stack.
 */
export async function summariseCpuProfiles(
  dir: string,
  pid: number | undefined,
): Promise<string[]> {
  const names = (await readdir(dir)).filter(
    (name) => name.endsWith('.cpuprofile') && (pid === undefined || name.includes(`.${pid}.`)),
  );
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const inclusiveByOwner = new Map<string, number>();
  let totalUs = 0;
  for (const name of names) {
    const profile = JSON.parse(await readFile(join(dir, name), 'utf8')) as CpuProfile;
    const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
    const parents = new Map<number, number>();
    for (const node of profile.nodes)
      for (const child of node.children ?? []) parents.set(child, node.id);
    profile.samples.forEach((id, i) => {
      const frame = frames.get(id);
      const us = profile.timeDeltas[i] ?? 0;
      if (frame === undefined) return;
      const owner = ownerOf(frame.url, frame.functionName);
      const fn = `${frame.functionName || '(anonymous)'} [${owner}]`;
      byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
      byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
      totalUs += us;
      // Inclusive: the sample counts once for every owner anywhere on its stack.
      const owners = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
        const callFrame = frames.get(at);
        if (callFrame !== undefined) owners.add(ownerOf(callFrame.url, callFrame.functionName));
      }
      for (const stackOwner of owners)
        // Node's and V8's frames sit under nearly everything; only packages say who asked.
        if (!stackOwner.startsWith('(') && stackOwner !== 'node (internal)')
          inclusiveByOwner.set(stackOwner, (inclusiveByOwner.get(stackOwner) ?? 0) + us);
    });
  }
  if (totalUs === 0) return [`no profile of process ${pid ?? '?'} in ${dir}`];
  const top = (map: Map<string, number>, count: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([key, us]) => `${((us / totalUs) * 100).toFixed(1).padStart(5)} %  ${key}`);
  return [
    `${(totalUs / 1e6).toFixed(1)} s sampled; self time by owner:`,
    ...top(byOwner, 14),
    'inclusive (a package anywhere on the stack):',
    ...top(inclusiveByOwner, 10),
    'by function:',
    ...top(byFunction, 14),
  ];
}
