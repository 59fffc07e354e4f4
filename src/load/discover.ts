// Finds the images of the merged docker dirs. Pure: the listings arrive as data.
import { error, type Diagnostic } from '../core/diagnostics.js';
import type { Image, Tree, TreeFile } from '../core/types.js';

export const TEMPLATE_FILE = 'Dockerfile.j2';

export interface DockerDirListing {
  /** The docker dir, relative to the directory kolla-gen runs in. */
  dir: string;
  /** Its files, relative to dir, "/"-separated. */
  files: string[];
  /** A file reached through a link → the file of dir it is (relative to dir): read that, never the link. */
  links?: Map<string, string>;
}

function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parentOf(rel: string): string {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
}

function join(dir: string, rel: string): string {
  if (rel === '') return dir;
  return dir === '.' || dir === '' ? rel : `${dir}/${rel}`;
}

/** Overlays the dirs file by file (a later dir wins) and finds every folder holding Dockerfile.j2. */
export function discover(listings: DockerDirListing[]): { tree: Tree; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const files = new Map<string, TreeFile & { dir: string }>();
  for (const listing of listings) {
    for (const rel of listing.files) files.set(rel, { rel, path: join(listing.dir, listing.links?.get(rel) ?? rel), dir: listing.dir });
  }
  // BuildKit sends a link as a link: a folder whose context holds one is built from a copy, with the file in its place.
  const linkedRels = listings.flatMap((l) => [...(l.links?.keys() ?? [])].map((rel) => join(l.dir, rel)));
  const sortedRels = [...files.keys()].sort(byCodeUnit);
  const folders = sortedRels.filter((rel) => rel.split('/').pop() === TEMPLATE_FILE).map(parentOf);

  // Each file belongs to the nearest folder above it that is an image: nested images have their own contexts.
  const folderSet = new Set(folders);
  const filesOf = new Map<string, string[]>();
  for (const rel of sortedRels) {
    for (let up = parentOf(rel); ; up = parentOf(up)) {
      if (folderSet.has(up)) {
        const list = filesOf.get(up);
        if (list) list.push(rel);
        else filesOf.set(up, [rel]);
        break;
      }
      if (up === '') break;
    }
  }

  const images: Image[] = [];
  const byName = new Map<string, Image>();
  for (const folder of folders) {
    const name = folder.split('/').pop() ?? '';
    const template = join(folder, TEMPLATE_FILE);
    const templateFile = files.get(template);
    if (folder === '' || !templateFile) {
      diagnostics.push(
        error('KG202', `${TEMPLATE_FILE} at the root of a docker dir is not an image`, {
          location: templateFile && { file: templateFile.path, line: 1, column: 1 },
          hint: 'put each image in its own folder, named after the image',
        }),
      );
      continue;
    }
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) {
      diagnostics.push(error('KG203', `image folder "${folder}" is not a valid image name`, { location: { file: templateFile.path, line: 1, column: 1 } }));
      continue;
    }
    const other = byName.get(name);
    if (other) {
      diagnostics.push(
        error('KG201', `two images are named "${name}": ${other.rel} and ${folder}`, {
          location: { file: templateFile.path, line: 1, column: 1 },
          related: [{ message: `the other "${name}"`, location: { file: files.get(other.template)?.path ?? other.template, line: 1, column: 1 } }],
        }),
      );
      continue;
    }
    const own = filesOf.get(folder) ?? [];
    const dirs = new Set(own.map((rel) => files.get(rel)?.dir));
    const [onlyDir] = dirs;
    const image: Image = {
      name,
      rel: folder,
      template,
      files: own.map((rel) => {
        const f = files.get(rel);
        return { rel, path: f?.path ?? rel };
      }),
      contextDir:
        dirs.size === 1 && onlyDir !== undefined && !linkedRels.some((p) => p.startsWith(`${join(onlyDir, folder)}/`)) ? join(onlyDir, folder) : undefined,
    };
    byName.set(name, image);
    images.push(image);
  }
  if (images.length === 0 && diagnostics.length === 0) {
    diagnostics.push(error('KG202', `no ${TEMPLATE_FILE} found in ${listings.map((l) => l.dir).join(', ')}`));
  }
  images.sort((a, b) => byCodeUnit(a.name, b.name));
  const treeFiles = new Map<string, TreeFile>();
  for (const rel of sortedRels) {
    const f = files.get(rel);
    if (f) treeFiles.set(rel, { rel, path: f.path });
  }
  return { tree: { images, files: treeFiles }, diagnostics };
}
