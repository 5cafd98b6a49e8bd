/**
 * A counting semaphore over the engine's parallel sequences. An item asks for the sequences its judgment
 * holds at once; one that needs more than there are gets all of them (its runs then queue inside the
 * engine), so it still runs, alone. Waiters are served in order, so items start in source order.
 */
export class SessionBudget {
  private free: number;
  private readonly waiting: Array<{ weight: number; resolve: () => void }> = [];

  constructor(readonly capacity: number) {
    this.free = capacity;
  }

  async acquire(weight: number): Promise<void> {
    const need = Math.min(Math.max(1, weight), this.capacity);
    if (this.waiting.length === 0 && this.free >= need) {
      this.free -= need;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push({ weight: need, resolve }));
  }

  release(weight: number): void {
    this.free += Math.min(Math.max(1, weight), this.capacity);
    while (this.waiting.length > 0 && this.free >= this.waiting[0].weight) {
      const next = this.waiting.shift() as { weight: number; resolve: () => void };
      this.free -= next.weight;
      next.resolve();
    }
  }
}
