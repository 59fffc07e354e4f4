// The Python the oracle tests compare with: the user's `python3` on PATH (or $KG_PYTHON), if it imports jinja2.
import { spawnSync } from 'node:child_process';

export const JINJA2_MISSING =
  'no python3 on PATH imports jinja2: the tests that compare with real Jinja2 are skipped. ' +
  'Install it (apt-get install python3-jinja2, dnf install python3-jinja2, or pip install jinja2) or point KG_PYTHON at a Python that has it.';

/** The Python to run, or undefined when none imports jinja2. KG_REQUIRE_JINJA2=1 (CI) makes a missing one an error. */
export function findJinjaPython(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidate = env.KG_PYTHON || 'python3';
  const probe = spawnSync(candidate, ['-c', 'import jinja2'], { stdio: 'ignore', timeout: 30_000 });
  if (probe.status === 0) return candidate;
  if (env.KG_REQUIRE_JINJA2 === '1') throw new Error(`${JINJA2_MISSING} (KG_REQUIRE_JINJA2=1: CI needs them)`);
  return undefined;
}
