// A small typed event store: modules subscribe to what the editor announces (changed, loaded, saved)
// instead of the editor calling each of them, so several features can listen without one callback
// slot each (and without the editor knowing them). Pure: unit-tested.

export type Listener<T> = (value: T) => void;

export class Emitter<Events extends Record<string, unknown>> {
  private listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Subscribes; returns the unsubscribe. */
  on<K extends keyof Events>(name: K, fn: Listener<Events[K]>): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  /** Calls every listener of `name`; one that throws does not stop the others. */
  emit<K extends keyof Events>(name: K, value: Events[K]): void {
    for (const fn of [...(this.listeners.get(name) ?? [])]) {
      try {
        (fn as Listener<Events[K]>)(value);
      } catch (e) {
        console.warn(`listener of ${String(name)} failed`, e);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}
