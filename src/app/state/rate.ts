/** Events per second over a sliding window, with the mean of a value carried by each event. */
export class RateMeter {
  private readonly times: number[] = [];
  private readonly values: number[] = [];
  private firstMs: number | null = null;

  constructor(private readonly windowMs = 5000) {}

  push(nowMs: number, value = 0): void {
    this.firstMs ??= nowMs;
    this.times.push(nowMs);
    this.values.push(value);
    this.trim(nowMs);
  }

  private trim(nowMs: number): void {
    while (this.times.length && nowMs - this.times[0] > this.windowMs) {
      this.times.shift();
      this.values.shift();
    }
  }

  /** Events per second over the window ending at nowMs (or since the first event, when that is later). */
  rate(nowMs: number): number {
    this.trim(nowMs);
    if (this.firstMs === null) return 0;
    // Over the window, not between events: slow sources (one frame in seconds) still read above
    // zero, and a stalled one decays to 0.
    const span = Math.min(this.windowMs, nowMs - this.firstMs);
    return span > 0 ? this.times.length / (span / 1000) : 0;
  }

  /** Mean value of the events in the window, or null when there are none. */
  mean(nowMs: number): number | null {
    this.trim(nowMs);
    return this.values.length ? this.values.reduce((a, b) => a + b, 0) / this.values.length : null;
  }

  clear(): void {
    this.firstMs = null;
    this.times.length = 0;
    this.values.length = 0;
  }
}
