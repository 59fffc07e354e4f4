// `npm run build`: dist/ is the CLI as users run it, bundled by esbuild from src/ with its dependencies, because
// loading one file per module was a quarter of a whole run (issue 14: about 350 ms of 1.5 s for upstream Kolla; 170
// ms bundled). What dist/ holds:
//
//   cli.js       the entry point (package.json's bin); it loads each command's code with import() when it runs
//   worker.js    a render worker thread (src/render/worker.ts), found beside the chunk that starts it
//   chunk-*.js   code shared by entry points and commands: one chunk per set of commands that load it
//   meta.json    esbuild's metafile: which source modules each file holds (test/perf.test.ts reads it)
//
// Types are checked by `npm run typecheck` (tsc), not here. The output is the same bytes for the same sources.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

// esbuild is a dev dependency: a fresh clone has it once `npm ci` ran (npm pack and a git install run this script as
// `prepare`). Without it, say so rather than print a module-resolution stack trace.
const esbuild = await import('esbuild').catch(() => {
  process.stderr.write('kolla-gen build: esbuild is not installed. Run `npm ci` first (it installs the dev dependencies the build needs), then `npm run build` or `npm pack`.\n');
  process.exit(1);
});

const ROOT = path.resolve(import.meta.dirname, '..');

/** The entry points of dist/, by output name. */
export const ENTRY_POINTS = { cli: 'src/cli.ts', worker: 'src/render/worker.ts' };

/**
 * Bundles entry points (output name -> source file) into outdir, replacing what was there. CommonJS dependencies
 * (nunjucks) call require(), which an ES module lacks: the banner gives each output file one.
 */
export async function bundle(outdir, entryPoints = ENTRY_POINTS) {
  fs.rmSync(outdir, { recursive: true, force: true });
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    chunkNames: 'chunk-[hash]',
    metafile: true,
    legalComments: 'eof',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __kgCreateRequire } from 'node:module';\nconst require = __kgCreateRequire(import.meta.url);" },
  });
  fs.writeFileSync(path.join(outdir, 'meta.json'), `${JSON.stringify(result.metafile, null, 1)}\n`);
  if ('cli' in entryPoints) fs.chmodSync(path.join(outdir, 'cli.js'), 0o755);
  return result.metafile;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await bundle(path.join(ROOT, 'dist'));
