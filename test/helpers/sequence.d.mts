export function prng(seed: number): () => number;
export function recordLength(seed: number, id: number, seq: number, min: number, max: number): number;
export function writeRecord(bytes: Uint8Array, off: number, id: number, seq: number, len: number): void;
export class SequenceVerifier {
  /** With `gaps`, a producer's sequence may skip ahead (records overwritten unread), never back. */
  constructor(seed: number, producers: number[], min: number, max: number, options?: { gaps?: boolean });
  readonly skipped: number;
  readonly next: Map<number, number>;
  readonly records: number;
  readonly lost: number;
  readonly errors: string[];
  addProducer(id: number): void;
  check(bytes: Uint8Array, off: number, len: number, lost?: number): boolean;
}
