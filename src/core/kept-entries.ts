// What the cache on disk (commands/template-cache.ts) keeps of one kind, in this process: serialized entries by key,
// the file's read when an entry is first asked for. The file keeps next what this run used (took or made), and is
// rewritten only when the run made an entry it did not hold.

export class KeptEntries {
  readonly #blobs = new Map<string, Uint8Array>();
  readonly #used = new Set<string>();
  readonly #made = new Set<string>();
  #keeping = false;
  #pending: (() => Map<string, Uint8Array>) | undefined;

  /** Keeps this process's entries, starting from those `read` gives (read when an entry is first asked for). */
  keep(read: () => Map<string, Uint8Array> = () => new Map()): void {
    this.#keeping = true;
    this.#pending = read;
  }

  /** Off (nothing looked up, nothing kept) until a command keeps entries. */
  get keeping(): boolean {
    return this.#keeping;
  }

  /** The entry under key, if there is one; `use` it once it proves whole. */
  get(key: string): Uint8Array | undefined {
    this.#adoptPending();
    return this.#blobs.get(key);
  }

  use(key: string): void {
    this.#used.add(key);
  }

  /** An entry this run made. */
  set(key: string, blob: Uint8Array): void {
    this.#blobs.set(key, blob);
    this.#used.add(key);
    this.#made.add(key);
  }

  /** Forgets an entry that came from outside (the disk, another thread) and proved damaged; false when there is none. */
  forget(key: string): boolean {
    if (this.#made.has(key) || !this.#blobs.has(key)) return false;
    this.#blobs.delete(key);
    return true;
  }

  /** Takes entries made elsewhere (a worker thread): `made` ones count as this run's; an entry already here stays. */
  adopt(entries: Iterable<[string, Uint8Array]>, made = false): void {
    for (const [key, blob] of entries) {
      if (!this.#blobs.has(key)) this.#blobs.set(key, blob);
      if (made) this.#made.add(key);
    }
  }

  /** Every entry known, read from the file if not yet. */
  all(): Map<string, Uint8Array> {
    this.#adoptPending();
    return this.#blobs;
  }

  /** The entries this run made, and the keys it used. */
  report(): { made: [string, Uint8Array][]; used: string[] } {
    return { made: [...this.#made].map((key) => [key, this.#blobs.get(key)!]), used: [...this.#used] };
  }

  useAll(keys: Iterable<string>): void {
    for (const key of keys) this.#used.add(key);
  }

  /**
   * The entries to keep on disk, sorted by key: those this run used, and those of `also` (asked for only then) that it
   * holds; undefined when it made none (what is there holds them).
   */
  toKeep(also: () => Iterable<string> = () => []): Map<string, Uint8Array> | undefined {
    if (this.#made.size === 0) return undefined;
    const keys = new Set(this.#used);
    for (const key of also()) keys.add(key);
    return new Map([...keys].sort().flatMap((key) => (this.#blobs.has(key) ? [[key, this.#blobs.get(key)!] as [string, Uint8Array]] : [])));
  }

  #adoptPending(): void {
    if (this.#pending === undefined) return;
    const read = this.#pending;
    this.#pending = undefined;
    this.adopt(read());
  }
}
