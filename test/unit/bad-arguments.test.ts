// Every public call × every kind of bad argument its parameters can get,
// generated from two tables: CALLS (how to build each call's receiver on a
// real ring, its good arguments, which of them to spoil) and the domains
// below (the bad values of each kind of parameter, with the code each must
// raise). Each case checks the error (class, code, a message that names what
// was expected), that a call returning a promise rejects while the others
// throw, and that the ring is as it was: its positions, every counter, and
// the record a consumer reads next (a sentinel written first).
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_PROD_POS,
  FairConsumer,
  PerfBuffer,
  PerfBufferConsumer,
  Reservation,
  RingBuffer,
  RingBufferConsumer,
  RingBufferRangeError,
  RingBufferStateError,
  RingBufferTypeError,
  ShardedRings,
  createReadableStream,
  createWritableStream,
  readBatches,
  readJSON,
  readRecords,
  readText,
  utf8Length,
  writeJSON,
  writeJSONAsync,
  writeText,
  writeTextAsync,
  type PerfBufferProducer,
  type RingBufferErrorCode,
} from 'wasm-ringbuf';

const SENTINEL = [...new TextEncoder().encode('sentinel')];

// ---- environments: the rings a call works on, with a sentinel record in each ----------------

type EnvKind = 'ring' | 'perf' | 'perf-unordered' | 'shards';

interface Env {
  /** The ring of a ring env; slot 0's ring of a perf env; shard 0 of a shards env. */
  rb: RingBuffer;
  /** Every ring whose state must not change. */
  rings: RingBuffer[];
  pb: PerfBuffer | undefined;
  p: PerfBufferProducer | undefined;
  shards: ShardedRings | undefined;
  /** The payload offset of the sentinel, committed already. */
  committed: number;
  /** The payload of the record a new consumer reads next, per ring. */
  next(): number[][];
}

function writeSentinel(producer: RingBuffer | PerfBufferProducer): number {
  const off = producer.reserveRaw(SENTINEL.length);
  producer.bytes.set(SENTINEL, off);
  producer.submitRaw(off);
  return off;
}

function nextOfRing(rb: RingBuffer): number[] {
  const got: number[][] = [];
  const c = new RingBufferConsumer(rb, (d) => void got.push([...d]));
  try {
    c.consumeN(1);
  } finally {
    c.close();
  }
  return got[0] ?? [];
}

function nextOfPerf(pb: PerfBuffer): number[] {
  const got: number[][] = [];
  const c = new PerfBufferConsumer(pb, { sample: (d) => void got.push([...d]) });
  try {
    c.consumeN(1);
  } finally {
    c.close();
  }
  return got[0] ?? [];
}

async function makeEnv(kind: EnvKind): Promise<Env> {
  if (kind === 'ring') {
    const rb = await RingBuffer.create({ size: 4096 });
    const committed = writeSentinel(rb);
    return { rb, rings: [rb], pb: undefined, p: undefined, shards: undefined, committed, next: () => [nextOfRing(rb)] };
  }
  if (kind === 'shards') {
    const shards = await ShardedRings.create({ rings: 2, size: 4096 });
    const committed = writeSentinel(shards.rings[0]!);
    writeSentinel(shards.rings[1]!);
    const rings = [...shards.rings];
    return { rb: rings[0]!, rings, pb: undefined, p: undefined, shards, committed, next: () => rings.map(nextOfRing) };
  }
  const pb = await PerfBuffer.create({ producers: 1, size: 4096, ordered: kind === 'perf' });
  const p = await PerfBuffer.attach(pb.handle, 0);
  const committed = writeSentinel(p);
  return { rb: pb.rings[0]!, rings: [...pb.rings], pb, p, shards: undefined, committed, next: () => [nextOfPerf(pb)] };
}

function snapshot(env: Env) {
  return env.rings.map((r) => ({
    cons: r.query(BPF_RB_CONS_POS),
    prod: r.query(BPF_RB_PROD_POS),
    avail: r.query(BPF_RB_AVAIL_DATA),
    stats: r.stats(),
    lock: r.lockHolder(),
  }));
}

/** Rings, buffers and handles of other objects, to pass where they do not belong. */
const foreign = {} as { rb: RingBuffer; pb: PerfBuffer; p: PerfBufferProducer; shards: ShardedRings };
beforeAll(async () => {
  foreign.rb = await RingBuffer.create({ size: 4096 });
  foreign.pb = await PerfBuffer.create({ producers: 1, size: 4096 });
  foreign.p = await PerfBuffer.attach(foreign.pb.handle, 0);
  foreign.shards = await ShardedRings.create({ rings: 1, size: 4096 });
});

// ---- the bad values of each kind of parameter ----------------------------------------------

/** What a case's value is made from: its environment and the call's receiver. */
interface Ctx {
  env: Env;
  r: unknown;
}
interface Bad {
  kind: string;
  value: (ctx: Ctx) => unknown;
  code: RingBufferErrorCode;
  /** What the message must name, where it is not what the parameter's domain says. */
  says?: RegExp;
}
interface Domain {
  bad: Bad[];
  /** What the message must name. */
  says: RegExp;
}

const T: RingBufferErrorCode = 'ERR_RINGBUF_TYPE';
const RG: RingBufferErrorCode = 'ERR_RINGBUF_RANGE';
const of = (value: unknown) => () => value;
const bad = (kind: string, value: (ctx: Ctx) => unknown, code: RingBufferErrorCode, says?: RegExp): Bad =>
  says === undefined ? { kind, value, code } : { kind, value, code, says };

function detached<V extends ArrayBufferView>(make: (b: ArrayBuffer) => V): () => V {
  return () => {
    const b = new ArrayBuffer(16);
    const v = make(b);
    structuredClone(b, { transfer: [b] });
    return v;
  };
}
const shrunk = (): Uint8Array => {
  const b = new ArrayBuffer(16, { maxByteLength: 32 });
  const v = new Uint8Array(b, 0, 16);
  b.resize(8);
  return v;
};

/** Values that are not numbers; `undefined` only where the parameter has no default. */
function notNumbers(required: boolean, code = T): Bad[] {
  return [
    ...(required ? [bad('undefined', of(undefined), code)] : []),
    bad('null', of(null), code),
    bad('string', of('8'), code),
    bad('boolean', of(true), code),
    bad('bigint', of(8n), code),
    bad('symbol', of(Symbol('bad')), code),
    bad('object', () => ({ valueOf: () => 8 }), code),
    bad('array', () => [8], code),
    bad(
      'function',
      of(() => 8),
      code,
    ),
  ];
}
const NUMBERS = {
  NaN: NaN,
  Infinity: Infinity,
  '-Infinity': -Infinity,
  negative: -8,
  'non-integer': 8.5,
  'past 2^32': 2 ** 32 + 8,
} as const;
type NumberKind = keyof typeof NUMBERS;
function numbers(kinds: readonly NumberKind[], code: RingBufferErrorCode): Bad[] {
  return kinds.map((k) => bad(k, of(NUMBERS[k]), code));
}
const ALL_NUMBERS = Object.keys(NUMBERS) as NumberKind[];
/** Values that are not a function (data where a function goes). */
function notFunctions(required: boolean): Bad[] {
  return [
    ...(required ? [bad('undefined', of(undefined), T)] : []),
    bad('null', of(null), T),
    bad('string', of('f'), T),
    bad('number', of(8), T),
    bad('boolean', of(true), T),
    bad('bigint', of(8n), T),
    bad('symbol', of(Symbol('bad')), T),
    bad('object', () => ({}), T),
    bad('array', () => [], T),
    bad('Uint8Array', () => new Uint8Array(4), T),
  ];
}
/** Values that are not objects, for an options argument. */
function notObjects(required: boolean): Bad[] {
  return [
    ...(required ? [bad('undefined', of(undefined), T)] : []),
    bad('null', of(null), T),
    bad('string', of('{}'), T),
    bad('number', of(8), T),
    bad('boolean', of(true), T),
    bad('bigint', of(8n), T),
    bad('symbol', of(Symbol('bad')), T),
    bad(
      'function',
      of(() => ({})),
      T,
    ),
  ];
}
/** Values that are not an ArrayBufferView with bytes: functions, plain data, buffers, views whose memory is gone. */
const NOT_VIEWS: Bad[] = [
  bad('undefined', of(undefined), T),
  bad('null', of(null), T),
  bad('string', of('abc'), T),
  bad('number', of(8), T),
  bad('boolean', of(true), T),
  bad('bigint', of(8n), T),
  bad('symbol', of(Symbol('bad')), T),
  bad('object', () => ({}), T),
  bad('array', () => [1, 2, 3], T),
  bad(
    'function',
    of(() => new Uint8Array(4)),
    T,
  ),
  bad('ArrayBuffer', () => new ArrayBuffer(4), T),
  bad('SharedArrayBuffer', () => new SharedArrayBuffer(4), T),
  bad(
    'detached Uint8Array',
    detached((b) => new Uint8Array(b)),
    T,
  ),
  bad(
    'detached Float64Array',
    detached((b) => new Float64Array(b)),
    T,
  ),
  bad(
    'detached BigInt64Array',
    detached((b) => new BigInt64Array(b)),
    T,
  ),
  bad(
    'detached DataView',
    detached((b) => new DataView(b)),
    T,
  ),
  bad(
    'detached empty subarray',
    detached((b) => new Uint8Array(b, 4, 0)),
    T,
  ),
  bad('view of a shrunk buffer', shrunk, T),
];
const maxOf = (ctx: Ctx): number => (ctx.r as { maxRecord?: number }).maxRecord ?? ctx.env.rb.maxRecord;

const D = {
  length: {
    bad: [...notNumbers(true), ...numbers(ALL_NUMBERS, RG), bad('above maxRecord', (c) => maxOf(c) + 1, RG)],
    says: /record length/,
  },
  flags: {
    bad: [
      ...notNumbers(false),
      ...numbers(ALL_NUMBERS, 'ERR_RINGBUF_FLAGS'),
      bad('unknown bit 4', of(4), 'ERR_RINGBUF_FLAGS'),
      bad('bit 31', of(2 ** 31), 'ERR_RINGBUF_FLAGS'),
    ],
    says: /flags/,
  },
  timeout: {
    bad: [
      ...notNumbers(false),
      ...numbers(['NaN', '-Infinity', 'negative'], RG),
      bad('between -1 and 0', of(-0.5), RG),
    ],
    says: /timeoutMs/,
  },
  count: { bad: [...notNumbers(true), ...numbers(['NaN', '-Infinity', 'negative', 'non-integer'], RG)], says: /\bn\b/ },
  view: {
    bad: [...NOT_VIEWS, bad('longer than maxRecord', (c) => new Uint8Array(maxOf(c) + 1), RG)],
    says: /ArrayBufferView|transferred|record length/,
  },
  data: { bad: NOT_VIEWS, says: /ArrayBufferView|transferred/ },
  /** A chunk of a writable stream: bytes or a string. */
  chunk: { bad: NOT_VIEWS.filter((b) => b.kind !== 'string'), says: /ArrayBufferView|transferred/ },
  id: {
    bad: [...notNumbers(true), ...numbers(ALL_NUMBERS, RG), bad('above 4094', of(4095), RG)],
    says: /producer id/,
  },
  reapId: {
    bad: [
      ...notNumbers(true),
      ...numbers(ALL_NUMBERS, RG),
      bad('above 4094', of(4095), RG),
      bad('0 (anonymous)', of(0), 'ERR_RINGBUF_PRODUCER'),
      bad('in range, not in use', of(4000), 'ERR_RINGBUF_PRODUCER'),
    ],
    says: /producer id/,
  },
  slot: {
    bad: [...notNumbers(true), ...numbers(ALL_NUMBERS, RG), bad('past the last slot', of(1), RG)],
    says: /producer slot/,
  },
  offset: {
    bad: [
      ...notNumbers(true),
      ...numbers(ALL_NUMBERS, 'ERR_RINGBUF_COMMITTED'),
      bad('0', of(0), 'ERR_RINGBUF_COMMITTED'),
      bad('committed already', (c) => c.env.committed, 'ERR_RINGBUF_COMMITTED'),
      bad('numeric string of a pending offset', (c) => String(c.r === undefined ? 0 : (c.r as { off: number }).off), T),
    ],
    says: /offset/,
  },
  key: {
    bad: [...notNumbers(true), ...numbers(ALL_NUMBERS, 'ERR_RINGBUF_QUERY'), bad('5', of(5), 'ERR_RINGBUF_QUERY')],
    says: /query key/,
  },
  text: {
    bad: [
      bad('undefined', of(undefined), T),
      bad('null', of(null), T),
      bad('number', of(8), T),
      bad('boolean', of(true), T),
      bad('bigint', of(8n), T),
      bad('symbol', of(Symbol('bad')), T),
      bad('object', () => ({}), T),
      bad('array', () => ['x'], T),
      bad(
        'function',
        of(() => 'x'),
        T,
      ),
      bad('Uint8Array', () => new Uint8Array(4), T),
    ],
    says: /string/,
  },
  json: {
    bad: [
      bad('undefined', of(undefined), T),
      bad(
        'function',
        of(() => 1),
        T,
      ),
      bad('symbol', of(Symbol('bad')), T),
    ],
    says: /JSON/,
  },
  /** Where a RingBuffer goes. */
  ring: {
    bad: [
      bad('undefined', of(undefined), T),
      bad('null', of(null), T),
      bad('string', of('ring'), T),
      bad('number', of(8), T),
      bad('object', () => ({}), T),
      bad('array', () => [], T),
      bad(
        'function',
        of(() => 0),
        T,
      ),
      bad('its handle', (c) => c.env.rb.handle, T),
      bad('a copy of its fields', (c) => ({ ...c.env.rb }), T),
      bad('a PerfBuffer', () => foreign.pb, T),
      bad('a PerfBufferProducer', () => foreign.p, T),
      bad('ShardedRings', () => foreign.shards, T),
    ],
    says: /RingBuffer/,
  },
  /** Where a producer of records goes (writeText): a RingBuffer or a PerfBufferProducer. */
  producer: {
    bad: [
      bad('undefined', of(undefined), T),
      bad('null', of(null), T),
      bad('string', of('ring'), T),
      bad('number', of(8), T),
      bad('object', () => ({}), T),
      bad(
        'function',
        of(() => 0),
        T,
      ),
      bad('a ring handle', (c) => c.env.rb.handle, T),
      bad('a PerfBuffer', () => foreign.pb, T),
      bad('ShardedRings', () => foreign.shards, T),
      bad('bytes without methods', () => ({ bytes: new Uint8Array(8), maxRecord: 8 }), T),
    ],
    says: /RingBuffer/,
  },
  ringHandle: {
    bad: [
      ...notObjects(true).map((b) => ({ ...b, code: 'ERR_RINGBUF_HANDLE' as const })),
      bad('empty object', () => ({}), 'ERR_RINGBUF_HANDLE'),
      bad('kind only', () => ({ kind: 'wasm-ringbuf' }), 'ERR_RINGBUF_HANDLE'),
      bad('another kind', (c) => ({ ...c.env.rb.handle, kind: 'wasm-ringbuf-perfbuf' }), 'ERR_RINGBUF_HANDLE'),
      bad('another version', (c) => ({ ...c.env.rb.handle, version: 99 }), 'ERR_RINGBUF_HANDLE'),
      bad('memory not a Memory', (c) => ({ ...c.env.rb.handle, memory: {} }), 'ERR_RINGBUF_HANDLE'),
      bad(
        'memory not shared',
        (c) => ({ ...c.env.rb.handle, memory: new WebAssembly.Memory({ initial: 2 }) }),
        'ERR_RINGBUF_HANDLE',
      ),
      bad(
        'memory a SharedArrayBuffer',
        (c) => ({ ...c.env.rb.handle, memory: c.env.rb.memory.buffer }),
        'ERR_RINGBUF_HANDLE',
      ),
      bad('module not a Module', (c) => ({ ...c.env.rb.handle, module: {} }), 'ERR_RINGBUF_HANDLE'),
      bad('ctl a string', (c) => ({ ...c.env.rb.handle, ctl: String(c.env.rb.handle.ctl) }), 'ERR_RINGBUF_HANDLE'),
      bad('ctl unaligned', (c) => ({ ...c.env.rb.handle, ctl: c.env.rb.handle.ctl + 8 }), 'ERR_RINGBUF_HANDLE'),
      bad('ctl negative', (c) => ({ ...c.env.rb.handle, ctl: -64 }), 'ERR_RINGBUF_HANDLE'),
      bad('ctl past 2^32', (c) => ({ ...c.env.rb.handle, ctl: 2 ** 32 }), 'ERR_RINGBUF_HANDLE'),
      bad('ctl with no ring', (c) => ({ ...c.env.rb.handle, ctl: 0 }), 'ERR_RINGBUF_HANDLE'),
      bad('the RingBuffer itself', (c) => c.env.rb, 'ERR_RINGBUF_HANDLE'),
      bad('a perf buffer handle', () => foreign.pb.handle, 'ERR_RINGBUF_HANDLE'),
      bad('a sharded-rings handle', () => foreign.shards.handle, 'ERR_RINGBUF_HANDLE'),
    ],
    says: /handle/,
  },
  perfHandle: {
    bad: [
      ...notObjects(true).map((b) => ({ ...b, code: 'ERR_RINGBUF_HANDLE' as const })),
      bad('empty object', () => ({}), 'ERR_RINGBUF_HANDLE'),
      bad('kind only', () => ({ kind: 'wasm-ringbuf-perfbuf' }), 'ERR_RINGBUF_HANDLE'),
      bad('another version', (c) => ({ ...c.env.pb!.handle, version: 99 }), 'ERR_RINGBUF_HANDLE'),
      bad(
        'control an ArrayBuffer',
        (c) => ({ ...c.env.pb!.handle, control: new ArrayBuffer(4096) }),
        'ERR_RINGBUF_HANDLE',
      ),
      bad(
        'control an Int32Array',
        (c) => ({ ...c.env.pb!.handle, control: new Int32Array(c.env.pb!.handle.control) }),
        'ERR_RINGBUF_HANDLE',
      ),
      bad(
        'control without its magic',
        (c) => ({ ...c.env.pb!.handle, control: new SharedArrayBuffer(4096) }),
        'ERR_RINGBUF_HANDLE',
      ),
      bad('rings empty', (c) => ({ ...c.env.pb!.handle, rings: [] }), 'ERR_RINGBUF_HANDLE'),
      bad('rings not handles', (c) => ({ ...c.env.pb!.handle, rings: [{}] }), 'ERR_RINGBUF_HANDLE'),
      bad('the PerfBuffer itself', (c) => c.env.pb, 'ERR_RINGBUF_HANDLE'),
      bad('a ring handle', () => foreign.rb.handle, 'ERR_RINGBUF_HANDLE'),
      bad('a sharded-rings handle', () => foreign.shards.handle, 'ERR_RINGBUF_HANDLE'),
    ],
    says: /handle/,
  },
  shardsHandle: {
    bad: [
      ...notObjects(true).map((b) => ({ ...b, code: 'ERR_RINGBUF_HANDLE' as const })),
      bad('empty object', () => ({}), 'ERR_RINGBUF_HANDLE'),
      bad('rings empty', () => ({ kind: 'wasm-ringbuf-shards', rings: [] }), 'ERR_RINGBUF_HANDLE'),
      bad('rings a string', () => ({ kind: 'wasm-ringbuf-shards', rings: 'abc' }), 'ERR_RINGBUF_HANDLE'),
      bad('rings not handles', () => ({ kind: 'wasm-ringbuf-shards', rings: [{}] }), 'ERR_RINGBUF_HANDLE'),
      bad('ShardedRings itself', (c) => c.env.shards, 'ERR_RINGBUF_HANDLE'),
      bad('a ring handle', () => foreign.rb.handle, 'ERR_RINGBUF_HANDLE'),
      bad('a perf buffer handle', () => foreign.pb.handle, 'ERR_RINGBUF_HANDLE'),
    ],
    says: /handle/,
  },
  size: {
    bad: [
      ...notNumbers(true),
      ...numbers(ALL_NUMBERS, 'ERR_RINGBUF_SIZE'),
      bad('0', of(0), 'ERR_RINGBUF_SIZE'),
      bad('not a power of two', of(3000), 'ERR_RINGBUF_SIZE'),
      bad('below 4096', of(2048), 'ERR_RINGBUF_SIZE'),
      bad('above 2^30', of(2 ** 31), 'ERR_RINGBUF_SIZE'),
    ],
    says: /size/,
  },
  maxRecord: {
    bad: [...notNumbers(false), ...numbers(ALL_NUMBERS, RG), bad('above size - 16', of(4081), RG)],
    says: /maxRecord/,
  },
  claim: {
    // removed: any value is refused
    bad: [
      bad('lock', of('lock'), T),
      bad('cas', of('cas'), T),
      bad('undefined', of(undefined), T),
      bad('null', of(null), T),
    ],
    says: /claim/,
  },
  position: {
    // positions past 2^32 are allowed: a large start tests traffic past 2^32
    bad: [
      ...notNumbers(false),
      ...numbers(['NaN', 'Infinity', '-Infinity', 'negative', 'non-integer'], RG),
      bad('not a multiple of 8', of(12), RG),
      bad('2^53', of(2 ** 53), RG),
    ],
    says: /position/,
  },
  oneTo256: {
    bad: [...notNumbers(true), ...numbers(ALL_NUMBERS, RG), bad('0', of(0), RG), bad('257', of(257), RG)],
    says: /rings|producers/,
  },
  index: { bad: [...notNumbers(true), ...numbers(ALL_NUMBERS, RG)], says: /producer index/ },
  napMs: {
    bad: [
      ...notNumbers(false),
      ...numbers(['NaN', 'Infinity', '-Infinity', 'negative'], RG),
      bad('60001', of(60_001), RG),
    ],
    says: /napMs/,
  },
  quantum: {
    bad: [...notNumbers(false), ...numbers(ALL_NUMBERS, RG), bad('0', of(0), RG)],
    says: /quantum/,
  },
  maxBatch: {
    bad: [...notNumbers(false), ...numbers(ALL_NUMBERS, RG), bad('0', of(0), RG)],
    says: /maxBatch/,
  },
  signal: {
    bad: [
      bad('null', of(null), T),
      bad('string', of('abort'), T),
      bad('number', of(1), T),
      bad('boolean', of(true), T),
      bad('object', () => ({}), T),
      bad('aborted only', () => ({ aborted: false }), T),
      bad(
        'function',
        of(() => 0),
        T,
      ),
      bad('an AbortController', () => new AbortController(), T),
    ],
    says: /signal/,
  },
  until: {
    bad: [
      bad('null', of(null), T),
      bad('number', of(5), T),
      bad('string', of('done'), T),
      bad('boolean', of(true), T),
      bad('object', () => ({}), T),
      bad(
        'function',
        of(() => 0),
        T,
      ),
      // biome-ignore lint/suspicious/noThenProperty: a thenable look-alike is the bad argument under test
      bad('then not a function', () => ({ then: 1 }), T),
    ],
    says: /until/,
  },
  highWaterMark: {
    bad: [...notNumbers(false), ...numbers(['NaN', '-Infinity', 'negative'], RG)],
    says: /highWaterMark/,
  },
  minMs: {
    bad: [...notNumbers(false), ...numbers(['NaN', '-Infinity', 'negative'], RG)],
    says: /minMs/,
  },
  /** Where a PerfBuffer goes. */
  perfBuffer: {
    bad: [
      bad('undefined', of(undefined), T),
      bad('null', of(null), T),
      bad('string', of('pb'), T),
      bad('object', () => ({}), T),
      bad('its handle', (c) => c.env.pb!.handle, T),
      bad('a copy of its fields', (c) => ({ ...c.env.pb }), T),
      bad('a RingBuffer', () => foreign.rb, T),
      bad('ShardedRings', () => foreign.shards, T),
    ],
    says: /PerfBuffer/,
  },
} satisfies Record<string, Domain>;

const bool = (name: string): Domain => ({
  bad: [
    bad('null', of(null), T),
    bad('string', of('true'), T),
    bad('1', of(1), T),
    bad('0', of(0), T),
    bad('bigint', of(1n), T),
    bad('symbol', of(Symbol('bad')), T),
    bad('object', () => ({}), T),
    bad(
      'function',
      of(() => true),
      T,
    ),
  ],
  says: new RegExp(name),
});
const fn = (name: string, required = true): Domain => ({ bad: notFunctions(required), says: new RegExp(name) });
const options = (required = false, extra: Bad[] = []): Domain => ({
  bad: [...notObjects(required), ...extra],
  says: /options/,
});

// ---- the calls ------------------------------------------------------------------------------------

interface Param {
  name: string;
  /** The argument it spoils, or the field of that (options) argument. */
  at: number;
  field?: string;
  domain: Domain;
}
interface Call {
  name: string;
  env: EnvKind;
  /** It returns a promise: bad arguments reject it. Otherwise they throw. */
  promise?: boolean;
  receiver?: (env: Env) => unknown;
  args: (env: Env, r: unknown) => unknown[];
  run: (r: any, args: any[]) => unknown;
  params: Param[];
  /** Undoes what the receiver did (closes its consumer, commits its reservation), after the checks. */
  teardown?: (r: any) => void;
}
const arg = (name: string, at: number, domain: Domain): Param => ({ name, at, domain });
const field = (at: number, name: string, domain: Domain): Param => ({
  name: `options.${name}`,
  at,
  field: name,
  domain,
});

const ok = (): void => {};
const GOOD_BYTES = (): Uint8Array => new Uint8Array([1, 2, 3]);
const close = (r: { close(): void }): void => r.close();
/** The producer surface shared by RingBuffer and PerfBufferProducer. */
function producerCalls(label: string, env: EnvKind, get: (env: Env) => RingBuffer | PerfBufferProducer): Call[] {
  const raw = (env2: Env) => {
    const p = get(env2);
    return { p, off: p.reserveRaw(8), maxRecord: p.maxRecord };
  };
  return [
    {
      name: `${label}.reserve(len)`,
      env,
      receiver: get,
      args: () => [8],
      run: (p, a) => p.reserve(...a),
      params: [arg('len', 0, D.length)],
    },
    {
      name: `${label}.reserveRaw(len)`,
      env,
      receiver: get,
      args: () => [8],
      run: (p, a) => p.reserveRaw(...a),
      params: [arg('len', 0, D.length)],
    },
    {
      name: `${label}.output(bytes, flags)`,
      env,
      receiver: get,
      args: () => [GOOD_BYTES(), 0],
      run: (p, a) => p.output(...a),
      params: [arg('bytes', 0, D.view), arg('flags', 1, D.flags)],
    },
    {
      name: `${label}.write(len, fill, flags)`,
      env,
      receiver: get,
      args: () => [8, ok, 0],
      run: (p, a) => p.write(...a),
      params: [arg('len', 0, D.length), arg('fill', 1, fn('fill')), arg('flags', 2, D.flags)],
    },
    {
      name: `${label}.submitRaw(offset, flags)`,
      env,
      receiver: raw,
      args: (_e, r) => [(r as { off: number }).off, 0],
      run: (r, a) => r.p.submitRaw(...a),
      params: [arg('offset', 0, D.offset), arg('flags', 1, D.flags)],
      teardown: (r) => r.p.discardRaw(r.off),
    },
    {
      name: `${label}.discardRaw(offset, flags)`,
      env,
      receiver: raw,
      args: (_e, r) => [(r as { off: number }).off, 0],
      run: (r, a) => r.p.discardRaw(...a),
      params: [arg('offset', 0, D.offset), arg('flags', 1, D.flags)],
      teardown: (r) => r.p.discardRaw(r.off),
    },
    {
      name: `${label}.reserve(8).submit(flags)`,
      env,
      receiver: (e) => get(e).reserve(8),
      args: () => [0],
      run: (r, a) => r.submit(...a),
      params: [arg('flags', 0, D.flags)],
      teardown: (r) => r.discard(),
    },
    {
      name: `${label}.reserve(8).discard(flags)`,
      env,
      receiver: (e) => get(e).reserve(8),
      args: () => [0],
      run: (r, a) => r.discard(...a),
      params: [arg('flags', 0, D.flags)],
      teardown: (r) => r.discard(),
    },
    {
      name: `${label}.query(key)`,
      env,
      receiver: get,
      args: () => [0],
      run: (p, a) => p.query(...a),
      params: [arg('key', 0, D.key)],
    },
    {
      name: `writeText(${label}, text, flags, timeoutMs)`,
      env,
      receiver: get,
      args: (_e, p) => [p, 'hello', 0, 0],
      run: (_p, a) => writeText(...(a as Parameters<typeof writeText>)),
      params: [
        arg('producer', 0, D.producer),
        arg('text', 1, D.text),
        arg('flags', 2, D.flags),
        arg('timeoutMs', 3, D.timeout),
      ],
    },
    {
      name: `writeJSON(${label}, value, flags, timeoutMs)`,
      env,
      receiver: get,
      args: (_e, p) => [p, { a: 1 }, 0, 0],
      run: (_p, a) => writeJSON(...(a as Parameters<typeof writeJSON>)),
      params: [
        arg('producer', 0, D.producer),
        arg('value', 1, D.json),
        arg('flags', 2, D.flags),
        arg('timeoutMs', 3, D.timeout),
      ],
    },
  ];
}

/** What every consumer that takes a callback per ring has: add, addRaw, consumeN, poll, pollSync, stalls. */
function consumerCalls(label: string, make: (env: Env) => RingBufferConsumer | FairConsumer): Call[] {
  const withRing = (env: Env) => make(env).add(env.rb, ok);
  return [
    {
      name: `${label}.add(ring, callback)`,
      env: 'ring',
      receiver: make,
      args: (e) => [e.rb, ok],
      run: (c, a) => c.add(...a),
      params: [arg('ring', 0, D.ring), arg('callback', 1, fn('callback'))],
      teardown: close,
    },
    {
      name: `${label}.addRaw(ring, callback)`,
      env: 'ring',
      receiver: make,
      args: (e) => [e.rb, ok],
      run: (c, a) => c.addRaw(...a),
      params: [arg('ring', 0, D.ring), arg('callback', 1, fn('callback'))],
      teardown: close,
    },
    {
      name: `${label}.consumeN(n)`,
      env: 'ring',
      receiver: withRing,
      args: () => [1],
      run: (c, a) => c.consumeN(...a),
      params: [arg('n', 0, D.count)],
      teardown: close,
    },
    {
      name: `${label}.poll(timeoutMs, options)`,
      env: 'ring',
      promise: true,
      receiver: withRing,
      args: () => [0, undefined],
      run: (c, a) => c.poll(...a),
      params: [arg('timeoutMs', 0, D.timeout), arg('options', 1, options()), field(1, 'signal', D.signal)],
      teardown: close,
    },
    {
      name: `${label}.pollSync(timeoutMs)`,
      env: 'ring',
      receiver: withRing,
      args: () => [0],
      run: (c, a) => c.pollSync(...a),
      params: [arg('timeoutMs', 0, D.timeout)],
      teardown: close,
    },
    {
      name: `${label}.stalls(minMs)`,
      env: 'ring',
      receiver: withRing,
      args: () => [0],
      run: (c, a) => c.stalls(...a),
      params: [arg('minMs', 0, D.minMs)],
      teardown: close,
    },
  ];
}

/** The readers: readRecords(), readBatches(), createReadableStream(). */
function readerCall(name: string, read: (ring: unknown, options: unknown) => unknown): Call {
  return {
    name: `${name}(ring, options)`,
    env: 'ring',
    args: (e) => [e.rb, undefined],
    run: (_r, a) => read(a[0], a[1]),
    params: [
      arg('ring', 0, { ...D.ring, bad: [...D.ring.bad, bad('array of a non-ring', () => [{}], T)] }),
      arg('options', 1, options()),
      field(1, 'map', fn('map', false)),
      field(1, 'until', D.until),
      field(1, 'signal', D.signal),
      field(1, 'maxBatch', D.maxBatch),
      field(1, 'napMs', D.napMs),
    ],
  };
}

const CALLS: Call[] = [
  // RingBuffer
  {
    name: 'RingBuffer.create(options)',
    env: 'ring',
    promise: true,
    args: () => [{ size: 4096 }],
    run: (_r, a) => RingBuffer.create(a[0]),
    params: [
      arg('options', 0, options(true)),
      field(0, 'size', D.size),
      field(0, 'maxRecord', D.maxRecord),
      field(0, 'claim', D.claim),
      field(0, 'overwrite', bool('overwrite')),
      field(0, 'singleProducer', bool('singleProducer')),
      field(0, 'position', D.position),
    ],
  },
  {
    name: 'RingBuffer.attach(handle)',
    env: 'ring',
    promise: true,
    args: (e) => [e.rb.handle],
    run: (_r, a) => RingBuffer.attach(a[0]),
    params: [arg('handle', 0, D.ringHandle)],
  },
  ...producerCalls('rb', 'ring', (e) => e.rb),
  {
    name: 'rb.reserveBlocking(len, timeoutMs)',
    env: 'ring',
    receiver: (e) => e.rb,
    args: () => [8, 0],
    run: (rb, a) => rb.reserveBlocking(...a),
    params: [arg('len', 0, D.length), arg('timeoutMs', 1, D.timeout)],
  },
  {
    name: 'rb.reserveRawBlocking(len, timeoutMs)',
    env: 'ring',
    receiver: (e) => e.rb,
    args: () => [8, 0],
    run: (rb, a) => rb.reserveRawBlocking(...a),
    params: [arg('len', 0, D.length), arg('timeoutMs', 1, D.timeout)],
  },
  {
    name: 'rb.outputBlocking(bytes, flags, timeoutMs)',
    env: 'ring',
    receiver: (e) => e.rb,
    args: () => [GOOD_BYTES(), 0, 0],
    run: (rb, a) => rb.outputBlocking(...a),
    params: [arg('bytes', 0, D.view), arg('flags', 1, D.flags), arg('timeoutMs', 2, D.timeout)],
  },
  {
    name: 'rb.reserveAsync(len, options)',
    env: 'ring',
    promise: true,
    receiver: (e) => e.rb,
    args: () => [8, { timeoutMs: 0 }],
    run: (rb, a) => rb.reserveAsync(...a),
    params: [
      arg('len', 0, D.length),
      arg('options', 1, options()),
      field(1, 'timeoutMs', D.timeout),
      field(1, 'signal', D.signal),
    ],
  },
  {
    name: 'rb.outputAsync(bytes, flags, options)',
    env: 'ring',
    promise: true,
    receiver: (e) => e.rb,
    args: () => [GOOD_BYTES(), 0, { timeoutMs: 0 }],
    run: (rb, a) => rb.outputAsync(...a),
    params: [
      arg('bytes', 0, D.view),
      arg('flags', 1, D.flags),
      arg('options', 2, options()),
      field(2, 'timeoutMs', D.timeout),
      field(2, 'signal', D.signal),
    ],
  },
  {
    name: 'rb.producerStats(id)',
    env: 'ring',
    receiver: (e) => e.rb,
    args: (e) => [e.rb.producerId],
    run: (rb, a) => rb.producerStats(...a),
    params: [arg('id', 0, D.id)],
  },
  {
    name: 'rb.reapProducer(id)',
    env: 'ring',
    receiver: (e) => e.rb,
    args: () => [4000],
    run: (rb, a) => rb.reapProducer(...a),
    params: [arg('id', 0, D.reapId)],
  },
  // PerfBuffer and its producers
  {
    name: 'PerfBuffer.create(options)',
    env: 'perf',
    promise: true,
    args: () => [{ producers: 1, size: 4096 }],
    run: (_r, a) => PerfBuffer.create(a[0]),
    params: [
      arg('options', 0, options(true)),
      field(0, 'producers', D.oneTo256),
      field(0, 'size', D.size),
      field(0, 'maxRecord', {
        ...D.maxRecord,
        bad: [
          ...D.maxRecord.bad.filter((b) => b.kind !== 'above size - 16'),
          bad('above size - 24 (ordered)', of(4073), RG),
        ],
      }),
      field(0, 'ordered', bool('ordered')),
    ],
  },
  {
    name: 'PerfBuffer.attach(handle, slot)',
    env: 'perf',
    promise: true,
    receiver: (e) => {
      e.p!.close(); // slot 0 free: only the argument can be wrong
      return e;
    },
    args: (e) => [e.pb!.handle, 0],
    run: (_r, a) => PerfBuffer.attach(a[0], a[1]),
    params: [arg('handle', 0, D.perfHandle), arg('slot', 1, D.slot)],
  },
  {
    name: 'pb.stats(slot)',
    env: 'perf',
    receiver: (e) => e.pb,
    args: () => [0],
    run: (pb, a) => pb.stats(...a),
    params: [arg('slot', 0, D.slot)],
  },
  {
    name: 'pb.reapProducer(slot)',
    env: 'perf',
    receiver: (e) => e.pb,
    args: () => [0],
    run: (pb, a) => pb.reapProducer(...a),
    params: [arg('slot', 0, D.slot)],
  },
  ...producerCalls('producer', 'perf', (e) => e.p!),
  ...producerCalls('unordered producer', 'perf-unordered', (e) => e.p!).filter((c) =>
    /output|Raw\(offset|write\(/.test(c.name),
  ),
  {
    name: 'new PerfBufferConsumer(pb, options)',
    env: 'perf',
    args: (e) => [e.pb, { sample: ok }],
    run: (_r, a) => new PerfBufferConsumer(a[0], a[1]),
    params: [
      arg('pb', 0, D.perfBuffer),
      arg(
        'options',
        1,
        options(true, [
          bad('neither sample nor sampleRaw', () => ({}), T, /sample.*sampleRaw/),
          bad('both sample and sampleRaw', () => ({ sample: ok, sampleRaw: ok }), T, /sample.*sampleRaw/),
        ]),
      ),
      field(1, 'sample', fn('sample', false)),
      field(1, 'lost', fn('lost', false)),
      field(1, 'ordered', bool('ordered')),
      field(1, 'quantum', D.quantum),
      field(1, 'napMs', D.napMs),
    ],
  },
  {
    name: 'new PerfBufferConsumer(pb, { sampleRaw })',
    env: 'perf',
    args: (e) => [e.pb, { sampleRaw: ok }],
    run: (_r, a) => new PerfBufferConsumer(a[0], a[1]),
    params: [field(1, 'sampleRaw', fn('sampleRaw', false))],
  },
  {
    name: 'perfConsumer.consumeN(n)',
    env: 'perf',
    receiver: (e) => new PerfBufferConsumer(e.pb!, { sample: ok }),
    args: () => [1],
    run: (c, a) => c.consumeN(...a),
    params: [arg('n', 0, D.count)],
    teardown: close,
  },
  {
    name: 'perfConsumer.poll(timeoutMs, options)',
    env: 'perf',
    promise: true,
    receiver: (e) => new PerfBufferConsumer(e.pb!, { sample: ok }),
    args: () => [0, undefined],
    run: (c, a) => c.poll(...a),
    params: [arg('timeoutMs', 0, D.timeout), arg('options', 1, options()), field(1, 'signal', D.signal)],
    teardown: close,
  },
  {
    name: 'perfConsumer.pollSync(timeoutMs)',
    env: 'perf',
    receiver: (e) => new PerfBufferConsumer(e.pb!, { sample: ok }),
    args: () => [0],
    run: (c, a) => c.pollSync(...a),
    params: [arg('timeoutMs', 0, D.timeout)],
    teardown: close,
  },
  // RingBufferConsumer and FairConsumer
  {
    name: 'new RingBufferConsumer(ring, callback, options)',
    env: 'ring',
    args: (e) => [e.rb, ok, undefined],
    run: (_r, a) => new RingBufferConsumer(a[0], a[1], a[2]),
    params: [
      arg('ring', 0, { ...D.ring, bad: D.ring.bad.filter((b) => b.kind !== 'undefined') }),
      arg('callback', 1, fn('callback')),
      arg('options', 2, options()),
      field(2, 'napMs', D.napMs),
    ],
  },
  ...consumerCalls('consumer', () => new RingBufferConsumer()),
  {
    name: 'new FairConsumer(options)',
    env: 'ring',
    args: () => [undefined],
    run: (_r, a) => new FairConsumer(a[0]),
    params: [arg('options', 0, options()), field(0, 'quantum', D.quantum), field(0, 'napMs', D.napMs)],
  },
  ...consumerCalls('fair', () => new FairConsumer()),
  // ShardedRings
  {
    name: 'ShardedRings.create(options)',
    env: 'shards',
    promise: true,
    args: () => [{ rings: 2, size: 4096 }],
    run: (_r, a) => ShardedRings.create(a[0]),
    params: [
      arg('options', 0, options(true)),
      field(0, 'rings', D.oneTo256),
      field(0, 'size', D.size),
      field(0, 'maxRecord', D.maxRecord),
      field(0, 'position', D.position),
    ],
  },
  {
    name: 'ShardedRings.attach(handle, index)',
    env: 'shards',
    promise: true,
    args: (e) => [e.shards!.handle, 0],
    run: (_r, a) => ShardedRings.attach(a[0], a[1]),
    params: [arg('handle', 0, D.shardsHandle), arg('index', 1, D.index)],
  },
  {
    name: 'shards.ringOf(index)',
    env: 'shards',
    receiver: (e) => e.shards,
    args: () => [0],
    run: (s, a) => s.ringOf(...a),
    params: [arg('index', 0, D.index)],
  },
  {
    name: 'shards.consumer(callback, options)',
    env: 'shards',
    receiver: (e) => e.shards,
    args: () => [ok, undefined],
    run: (s, a) => s.consumer(...a),
    params: [
      arg('callback', 0, fn('callback')),
      arg('options', 1, options()),
      field(1, 'quantum', D.quantum),
      field(1, 'napMs', D.napMs),
    ],
  },
  {
    name: 'shards.consumerRaw(callback, options)',
    env: 'shards',
    receiver: (e) => e.shards,
    args: () => [ok, undefined],
    run: (s, a) => s.consumerRaw(...a),
    params: [
      arg('callback', 0, fn('callback')),
      arg('options', 1, options()),
      field(1, 'quantum', D.quantum),
      field(1, 'napMs', D.napMs),
    ],
  },
  // streams
  readerCall('readRecords', (r, o) => readRecords(r as RingBuffer, o as undefined)),
  readerCall('readBatches', (r, o) => readBatches(r as RingBuffer, o as undefined)),
  readerCall('createReadableStream', (r, o) => createReadableStream(r as RingBuffer, o as undefined)),
  {
    name: 'createWritableStream(ring, options)',
    env: 'ring',
    args: (e) => [e.rb, { timeoutMs: 0 }],
    run: (_r, a) => createWritableStream(a[0], a[1]),
    params: [
      arg('ring', 0, D.ring),
      arg('options', 1, options()),
      field(1, 'flags', D.flags),
      field(1, 'timeoutMs', D.timeout),
      field(1, 'encode', fn('encode', false)),
      field(1, 'highWaterMark', D.highWaterMark),
    ],
  },
  {
    name: 'createWritableStream(ring).getWriter().write(chunk)',
    env: 'ring',
    promise: true,
    receiver: (e) => {
      const w = createWritableStream(e.rb, { timeoutMs: 0 }).getWriter();
      w.closed.catch(ok); // the stream errors with the write's error
      return w;
    },
    args: () => [GOOD_BYTES()],
    run: (w, a) => w.write(a[0]),
    params: [arg('chunk', 0, D.chunk)],
  },
  // codec
  {
    name: 'utf8Length(text)',
    env: 'ring',
    args: () => ['hello'],
    run: (_r, a) => utf8Length(a[0]),
    params: [arg('text', 0, D.text)],
  },
  {
    name: 'writeTextAsync(ring, text, flags, options)',
    env: 'ring',
    promise: true,
    args: (e) => [e.rb, 'hello', 0, { timeoutMs: 0 }],
    run: (_r, a) => writeTextAsync(a[0], a[1], a[2], a[3]),
    params: [
      arg('ring', 0, D.ring),
      arg('text', 1, D.text),
      arg('flags', 2, D.flags),
      arg('options', 3, options()),
      field(3, 'timeoutMs', D.timeout),
      field(3, 'signal', D.signal),
    ],
  },
  {
    name: 'writeJSONAsync(ring, value, flags, options)',
    env: 'ring',
    promise: true,
    args: (e) => [e.rb, { a: 1 }, 0, { timeoutMs: 0 }],
    run: (_r, a) => writeJSONAsync(a[0], a[1], a[2], a[3]),
    params: [
      arg('ring', 0, D.ring),
      arg('value', 1, D.json),
      arg('flags', 2, D.flags),
      arg('options', 3, options()),
      field(3, 'timeoutMs', D.timeout),
      field(3, 'signal', D.signal),
    ],
  },
  {
    name: 'readText(data)',
    env: 'ring',
    args: () => [GOOD_BYTES()],
    run: (_r, a) => readText(a[0]),
    params: [arg('data', 0, D.data)],
  },
  {
    name: 'readJSON(data)',
    env: 'ring',
    args: () => [new TextEncoder().encode('1')],
    run: (_r, a) => readJSON(a[0]),
    params: [arg('data', 0, D.data)],
  },
];

// ---- running one case ---------------------------------------------------------------------------

const CLASS: Partial<Record<RingBufferErrorCode, new (...args: never[]) => Error>> = {
  ERR_RINGBUF_TYPE: RingBufferTypeError,
  ERR_RINGBUF_HANDLE: RingBufferTypeError,
  ERR_RINGBUF_RANGE: RingBufferRangeError,
  ERR_RINGBUF_SIZE: RingBufferRangeError,
  ERR_RINGBUF_FLAGS: RingBufferRangeError,
  ERR_RINGBUF_QUERY: RingBufferRangeError,
  ERR_RINGBUF_PRODUCER: RingBufferRangeError,
  ERR_RINGBUF_COMMITTED: RingBufferStateError,
};

type Outcome =
  | { how: 'threw' | 'rejected'; err: unknown }
  | { how: 'returned' | 'resolved'; value: unknown }
  | { how: 'hung' };

const HUNG = Symbol('hung');

async function attempt(f: () => unknown): Promise<Outcome> {
  let ret: unknown;
  try {
    ret = f();
  } catch (err) {
    return { how: 'threw', err };
  }
  if (typeof (ret as PromiseLike<unknown> | null)?.then !== 'function') return { how: 'returned', value: ret };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise((resolve) => (timer = setTimeout(resolve, 2000, HUNG)));
  try {
    const value = await Promise.race([ret, hung]);
    return value === HUNG ? { how: 'hung' } : { how: 'resolved', value };
  } catch (err) {
    return { how: 'rejected', err };
  } finally {
    clearTimeout(timer);
  }
}

function describeOutcome(o: Outcome): string {
  if (o.how === 'threw' || o.how === 'rejected') {
    const e = o.err as { name?: string; code?: string; message?: string };
    return `${o.how} ${e?.name} ${e?.code ?? '(no code)'}: ${e?.message}`;
  }
  if (o.how === 'hung') return 'hung (still pending after 2 s)';
  const v = (o as { value?: unknown }).value;
  const what = typeof v === 'object' && v !== null ? Object.prototype.toString.call(v).slice(8, -1) : String(v);
  return `${o.how} ${what}`;
}

/** Closes whatever a call that should have thrown gave back, so that the ring is free for the next read. */
function dispose(o: Outcome): void {
  if (o.how !== 'returned' && o.how !== 'resolved') return;
  const v = o.value as { close?: () => void; cancel?: () => unknown; abort?: () => unknown } | null;
  try {
    if (v instanceof Reservation) v.discard();
    else if (v instanceof ReadableStream) void v.cancel().catch(ok);
    else if (v instanceof WritableStream) void v.abort().catch(ok);
    else if (typeof v?.close === 'function') v.close();
  } catch {
    // what it was is reported by the case
  }
}

function spoil(args: unknown[], p: Param, value: unknown): void {
  if (p.field === undefined) args[p.at] = value;
  else args[p.at] = { ...(args[p.at] as object | undefined), [p.field]: value };
}

let cases = 0;
for (const call of CALLS) {
  describe(call.name, () => {
    for (const p of call.params) {
      for (const b of p.domain.bad) {
        cases++;
        it(`${p.name}: ${b.kind}`, async () => {
          const env = await makeEnv(call.env);
          const r = call.receiver ? call.receiver(env) : undefined;
          const args = call.args(env, r);
          spoil(args, p, b.value({ env, r }));
          const before = snapshot(env);
          const outcome = await attempt(() => call.run(r, args));
          try {
            const want = call.promise ? 'rejected' : 'threw';
            const err = (outcome as { err?: { code?: string; message?: string } }).err;
            const got = describeOutcome(outcome);
            expect(outcome.how, got).toBe(want);
            expect(err?.code, got).toBe(b.code);
            expect(err instanceof CLASS[b.code]!, got).toBe(true);
            expect(err?.message, got).toMatch(b.says ?? p.domain.says);
            expect(snapshot(env), 'the ring changed').toEqual(before);
          } finally {
            dispose(outcome);
            if (r !== undefined) call.teardown?.(r);
          }
          expect(env.next(), 'the next record read').toEqual(env.rings.map(() => SENTINEL));
        });
      }
    }
  });
}

const total = CALLS.reduce((n, c) => n + c.params.reduce((m, p) => m + p.domain.bad.length, 0), 0);
it(`the table holds ${total} cases over ${CALLS.length} calls`, () => {
  expect(cases).toBe(total);
  expect(total).toBeGreaterThan(2000);
});
