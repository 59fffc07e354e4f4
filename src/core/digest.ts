// Digests of files and texts: what the loader computes for each context file and the content hashes are built from.
import { createHash } from 'node:crypto';

/** One file of an image's build context, as BuildKit receives it. */
export interface ContextFile {
  /** Relative to the image's folder, "/"-separated. */
  name: string;
  executable: boolean;
  /** Hex sha256 of the contents. */
  sha256: string;
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
