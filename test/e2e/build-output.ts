// What the e2e tests share about a `kolla-gen build` on a real engine: the opt-in export that clamps layers' file
// times (docs/building.md, "Timestamps and reproducibility"), and what buildx's plain progress says about the cache.
import type { EngineName } from './engine/index.js';

/**
 * `--set` arguments for the docker driver's export without the unpack into the engine's store, with
 * rewrite-timestamp: bit-identical layers on today's engine (dockerd 28.5); none on the oldest, whose dockerd 26 fails
 * such a push.
 */
export function clampedPush(engine: EngineName): string[] {
  return engine === 'today' ? ['--set', '*.output=type=image,push=true,store=false,rewrite-timestamp=true'] : [];
}

/**
 * The RUN, ADD and COPY steps of a build's plain progress, and those of them not reported CACHED, with their lines
 * (what a failed expectation shows: which step ran again, and how).
 */
export function stepsRunAgain(progress: string): { steps: number; ran: string[]; lines: string } {
  const lines = progress.split('\n');
  const steps = new Set<string>();
  const cached = new Set<string>();
  for (const line of lines) {
    const step = /^#(\d+) \[[^\]]*\] (RUN|ADD|COPY) /.exec(line);
    if (step) steps.add(step[1]!);
    const hit = /^#(\d+) CACHED$/.exec(line);
    if (hit) cached.add(hit[1]!);
  }
  const ran = [...steps].filter((s) => !cached.has(s));
  return { steps: steps.size, ran, lines: `steps that ran again:\n${lines.filter((l) => ran.some((s) => l.startsWith(`#${s} `))).join('\n')}` };
}
