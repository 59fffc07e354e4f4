// The shape of a GitHub Actions workflow as the tests read it (the one `kolla-gen init` writes, and this repo's own).
import { execaSync } from 'execa';

export interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}

export interface Job {
  if?: string;
  needs?: string;
  env?: Record<string, string>;
  strategy?: { matrix: { include: Record<string, string>[] } };
  steps: Step[];
}

export interface Workflow {
  on?: Record<string, unknown>;
  permissions?: Record<string, string>;
  env: Record<string, string>;
  jobs: Record<string, Job>;
}

/**
 * Whether `yq` is on PATH: the workflow's upstream step reads kolla-gen.yaml with it (GitHub's runners have it). CI
 * installs Debian's and sets KG_REQUIRE_YQ, so that the tests that run that step fail there instead of skipping.
 */
export const hasYq = (() => {
  try {
    return execaSync('yq', ['--version'], { reject: false }).exitCode === 0;
  } catch {
    return false;
  }
})();
if (!hasYq && process.env.KG_REQUIRE_YQ) throw new Error('KG_REQUIRE_YQ is set but yq is not on PATH');
