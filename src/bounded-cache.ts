/**
 * A memo that starts over when full. For values that are costly to make and asked for again and
 * again (compiled patterns, status annotations, rendered sidecars), whose keys come from a few
 * sources but must stay bounded whatever a caller sends.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly limit: number) {}

  get(key: K, make: () => V): V {
    let value = this.entries.get(key);
    if (value === undefined) {
      value = make();
      if (this.entries.size >= this.limit) this.entries.clear();
      this.entries.set(key, value);
    }
    return value;
  }
}
