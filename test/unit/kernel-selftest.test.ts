// A replay of the kernel's selftests tools/testing/selftests/bpf/prog_tests/ringbuf.c
// (subtests ringbuf, ringbuf_n, ringbuf_write) with their BPF programs
// progs/test_ringbuf.c, test_ringbuf_n.c and test_ringbuf_write.c written
// against this API. Record sizes, positions and expectations are the kernel's.
import { describe, expect, it } from 'vitest';
import {
  BPF_RB_AVAIL_DATA,
  BPF_RB_CONS_POS,
  BPF_RB_FORCE_WAKEUP,
  BPF_RB_NO_WAKEUP,
  BPF_RB_PROD_POS,
  BPF_RB_RING_SIZE,
  RingBuffer,
  RingBufferConsumer,
} from 'wasm-ringbuf';
import { OFF_CONSUMER_POS, OFF_WAIT, RING_BASE } from '../../dist/layout.js';

const EDONE = 7777;
const SAMPLE_SIZE = 32; // struct sample { int pid; int seq; long value; char comm[16]; }
const REC_SZ = 8 + SAMPLE_SIZE;
const PAGE_SIZE = 4096;

/** Resolves with the promise's value, or rejects after `ms`: a watchdog, not a wait for an event. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms)),
    ),
  ]);
}

/** Lets every queued task and microtask run once (a turn of the event loop, not a sleep). */
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('prog_tests/ringbuf.c', () => {
  it('ringbuf: positions, query values, -EDONE, and the wakeup rules', async () => {
    const rb = await RingBuffer.create({ size: PAGE_SIZE });
    const view = new DataView(rb.bytes.buffer);
    const waitWord = () => view.getInt32(RING_BASE + OFF_WAIT, true);
    const pid = 4242;
    // the BPF program's globals (its .bss)
    const bss = {
      seq: 0,
      value: 0,
      flags: 0,
      total: 0,
      discarded: 0,
      dropped: 0,
      avail_data: 0,
      ring_size: 0,
      cons_pos: 0,
      prod_pos: 0,
    };

    // progs/test_ringbuf.c, run on each getpgid()
    const program = () => {
      const sample = rb.reserve(SAMPLE_SIZE);
      if (!sample) {
        bss.dropped++;
        return;
      }
      const s = new DataView(sample.data.buffer, sample.data.byteOffset, SAMPLE_SIZE);
      s.setInt32(0, pid, true);
      new TextEncoder().encodeInto('test_progs', sample.data.subarray(16));
      s.setBigInt64(8, BigInt(bss.value), true);
      const seq = bss.seq++;
      s.setInt32(4, seq, true);
      bss.total++;
      if (seq & 1) {
        // copy from the reserved sample to a new one, then discard the reserved one
        rb.output(sample.data, bss.flags);
        sample.discard(bss.flags);
        bss.discarded++;
      } else {
        sample.submit(bss.flags);
      }
      bss.avail_data = rb.query(BPF_RB_AVAIL_DATA);
      bss.ring_size = rb.query(BPF_RB_RING_SIZE);
      bss.cons_pos = rb.query(BPF_RB_CONS_POS);
      bss.prod_pos = rb.query(BPF_RB_PROD_POS);
    };
    const triggerSamples = () => {
      bss.dropped = bss.total = bss.discarded = 0;
      bss.value = 333;
      program();
      bss.value = 777;
      program();
    };

    let sampleCnt = 0;
    const processSample = (data: Uint8Array) => {
      const s = new DataView(data.buffer, data.byteOffset, data.length);
      sampleCnt++;
      expect(data.length).toBe(SAMPLE_SIZE);
      expect(s.getInt32(0, true)).toBe(pid);
      switch (s.getInt32(4, true)) {
        case 0:
          expect(s.getBigInt64(8, true)).toBe(333n);
          return 0;
        case 1:
          expect(s.getBigInt64(8, true)).toBe(777n);
          return -EDONE;
        default:
          return 0;
      }
    };
    const ringbuf = new RingBufferConsumer(rb, processSample, { napMs: 0 }); // the kernel's exact behaviour: no nap

    triggerSamples();
    expect(bss.avail_data).toBe(3 * REC_SZ);
    expect(bss.ring_size).toBe(PAGE_SIZE);
    expect(bss.cons_pos).toBe(0);
    expect(bss.prod_pos).toBe(3 * REC_SZ);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(3 * REC_SZ);

    // poll for samples: -EDONE is the sign we are done
    expect(await ringbuf.poll(-1)).toBe(-EDONE);
    expect(sampleCnt).toBe(2);
    sampleCnt = 0;
    // extra polling returns nothing
    expect(await ringbuf.poll(0)).toBe(0);
    expect(sampleCnt).toBe(0);
    expect([bss.dropped, bss.total, bss.discarded]).toEqual([0, 2, 1]);

    // the consumer position is updated and returned
    triggerSamples();
    expect(bss.cons_pos).toBe(3 * REC_SZ);
    expect(await ringbuf.poll(-1)).toBeGreaterThan(0);
    expect(sampleCnt).toBe(2);
    sampleCnt = 0;

    // start poll "in background" with a long timeout
    const wakeupsBefore = rb.stats().wakeups;
    let bgRet: number | undefined;
    const bg = ringbuf.poll(10000).then((n) => (bgRet = n));
    expect(waitWord()).toBe(1); // the consumer announced its sleep

    // turn off notifications now
    bss.flags = BPF_RB_NO_WAKEUP;
    triggerSamples();
    await turn();
    // background poll is still blocked: no wakeup was sent, the sleep word is untouched
    expect(bgRet).toBeUndefined();
    expect(rb.stats().wakeups).toBe(wakeupsBefore);
    expect(waitWord()).toBe(1);
    expect(sampleCnt).toBe(0);
    expect([bss.avail_data, bss.cons_pos, bss.prod_pos]).toEqual([3 * REC_SZ, 6 * REC_SZ, 9 * REC_SZ]);
    expect([bss.dropped, bss.total, bss.discarded]).toEqual([0, 2, 1]);

    // adaptive wakeups do not wake a consumer that is behind
    bss.flags = 0;
    triggerSamples();
    await turn();
    expect(bgRet).toBeUndefined();
    expect(rb.stats().wakeups).toBe(wakeupsBefore);
    expect(sampleCnt).toBe(0);

    // now force notifications
    bss.dropped = bss.total = bss.discarded = 0;
    bss.value = 333;
    program();
    bss.flags = BPF_RB_FORCE_WAKEUP;
    bss.value = 777;
    program();
    await within(bg, 5000, 'the forced wakeup of the background poll');
    expect(bgRet).toBeGreaterThan(0);
    expect(rb.stats().wakeups).toBe(wakeupsBefore + 1);
    expect(ringbuf.consume()).toBeGreaterThanOrEqual(0);
    // 3 rounds, 2 samples each
    expect(sampleCnt).toBe(6);
    expect([bss.dropped, bss.total, bss.discarded]).toEqual([0, 2, 1]);
    expect(rb.query(BPF_RB_AVAIL_DATA)).toBe(0);
  });

  it('ringbuf_n: consumeN(4) takes exactly 4 records at a time', async () => {
    const rb = await RingBuffer.create({ size: PAGE_SIZE });
    // progs/test_ringbuf_n.c: reserve a sample, fill it, submit with flags 0; run 32 times
    for (let i = 0; i < 32; i++) {
      const s = rb.reserve(SAMPLE_SIZE)!;
      new DataView(s.data.buffer, s.data.byteOffset, SAMPLE_SIZE).setBigInt64(8, 42n, true);
      s.submit(0);
    }
    let seen = 0;
    const ringbuf = new RingBufferConsumer(rb, (d) => {
      expect(new DataView(d.buffer, d.byteOffset, d.length).getBigInt64(8, true)).toBe(42n);
      seen++;
      return 0;
    });
    let calls = 0;
    for (let i = 0; i < 32; ) {
      const err = ringbuf.consumeN(4);
      expect(err).toBe(4);
      i += err;
      calls++;
    }
    expect([calls, seen]).toEqual([8, 32]);
  });

  it('ringbuf_write: a reservation never overruns a record that is still BUSY', async () => {
    const rb = await RingBuffer.create({ size: 0x40000 });
    // user space scribbles on the consumer position before any reservation
    new DataView(rb.bytes.buffer).setBigUint64(RING_BASE + OFF_CONSUMER_POS, 0x30000n, true);
    let discarded = 0;
    let passed = 0;
    // progs/test_ringbuf_write.c
    const program = () => {
      const s1 = rb.reserve(0x30000);
      if (!s1) return;
      const s2 = rb.reserve(0x30000);
      if (!s2) {
        s1.discard(0);
        discarded++;
        return;
      }
      passed++;
      s2.data[4084] = 1; // would land on s1 if the reservation overran it
      s1.discard(0);
      s2.discard(0);
    };
    program();
    program();
    expect(discarded).toBe(2);
    expect(passed).toBe(0);
    expect(rb.stats().dropped).toBe(2);
  });
});
