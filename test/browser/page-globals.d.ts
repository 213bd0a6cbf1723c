// What the pages of the browser suite put on globalThis, as page.evaluate() sees it.
export {};

interface PollState {
  settled: boolean | null;
  result: number | undefined;
  error: string | undefined;
  wakeups: number;
  avail: number;
}

interface VerifiedRun {
  records: number;
  expected: number;
  errors: string[];
  next: Record<number, number>;
  produced: { id: number; produced: number; dropped: number }[];
  mainId: number;
  mainProduced: number;
  mainDropped: number;
  lostReported: number;
  stats: { dropped: number; discarded: number; wakeups: number; lockWaits: number };
  avail: number;
  laps: number;
  polls: number;
  ms: number;
}

interface Lane {
  records: number;
  rate: number;
  avgRate: number;
  activeMs: number;
  wakeups: number;
  dropped: number;
  lost: number;
  gaps: number;
  orderErrors: number;
  latencyMs: number;
  polls: number;
  fps: number;
}

declare global {
  /** test/browser/fixtures/harness.js */
  var harness: {
    isolated(): boolean;
    hasWaitAsync(): boolean;
    tryCreate(): Promise<{ ok: true } | { ok: false; name: string; code: string; message: string }>;
    hideWaitAsync(): string;
    helperWorkers(): number;
    setup(o: { size: number; producers: number }): Promise<{ main: number; workers: number[] }>;
    runVerified(o: {
      seed: number;
      count: number;
      mainCount?: number;
      min: number;
      max: number;
      flags?: number;
      stallMs?: number;
      deadlineMs?: number;
    }): Promise<VerifiedRun>;
    freshConsumer(): number;
    drain(): number;
    startPoll(timeoutMs?: number): PollState;
    produce(worker: number, count: number, flags: number): Promise<{ id: number; produced: number; dropped: number }>;
    state(): PollState;
    awaitPoll(ms?: number): Promise<PollState>;
    closeConsumer(): PollState;
    pollSyncOnPage(): { error: { name: string; code: string; message: string } | null; wait: number };
    abortedPoll(): Promise<{ result?: number; error?: string }>;
    close(): void;
  };
  var harnessReady: boolean | undefined;
  /** test/browser/fixtures/streams.js */
  var streams: {
    codec(): Promise<{ decoderRefusesShared: boolean; roundTrip: boolean }>;
    readable(o: {
      producers: number;
      count: number;
      size: number;
    }): Promise<{ lines: number; errors: number; next: number[]; released: boolean; laps: number }>;
    writable(o: {
      count: number;
      size: number;
    }): Promise<{ received: number; errors: number; dropped: number; roomWaits: number; ticks: number }>;
    iterator(): Promise<{ first: string; aborted: string; afterAbort: boolean; ended: boolean; afterReturn: boolean }>;
  };
  /** examples/browser/main.js */
  var demo: {
    ready: boolean;
    error: string | null;
    mode: number;
    phaseAge: number;
    ring: Lane;
    post: Lane;
    batch: Lane;
    ratio: number;
    ratioBatch: number;
    fps: number;
    settings: Record<string, unknown>;
  };
}
