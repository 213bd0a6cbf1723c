// The demo page: N module Web Workers produce events, this main thread
// consumes them. Lane 1 is one wasm-ringbuf ring read with
// `await consumer.poll()`; lane 2 is one postMessage per event; lane 3 is one
// postMessage per POST_BATCH events (a transferred ArrayBuffer). The lanes
// take turns (or one runs alone) and every event is checked for order on
// arrival.
import { RingBuffer, RingBufferConsumer, BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_PROD_POS } from 'wasm-ringbuf';
import {
  ACK,
  CONTROL_WORDS,
  EVENT_BYTES,
  MAX_PRODUCERS,
  MODE,
  MODE_BATCH,
  MODE_PAUSED,
  MODE_POST,
  MODE_RING,
  PAYLOAD,
  POSTED,
  PRODUCER_COLOURS,
  RATE,
  REFUSED,
  WAKEUP,
  WAKEUP_ADAPTIVE,
  WAKEUP_NONE,
  WAKEUP_SAMPLED,
  WRITTEN,
} from './control.js';
import { movingMedian } from './median.js';

// ---- settings, from the URL (the buttons rewrite it) ---------------------------------------

const params = new URLSearchParams(location.search);
const intParam = (name, fallback, min, max) => {
  const v = Number.parseInt(params.get(name) ?? '', 10);
  return Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : fallback;
};
const settings = {
  // one producer per spare core, 2 to 3: on 2 cores a third would mostly take turns with the page
  producers: intParam(
    'producers',
    Math.min(3, Math.max(2, (navigator.hardwareConcurrency || 2) - 1)),
    1,
    MAX_PRODUCERS,
  ),
  phaseMs: intParam('phaseMs', 5000, 250, 600_000),
  phase: ['auto', 'ring', 'post', 'batch'].includes(params.get('phase')) ? params.get('phase') : 'auto',
  wakeup: ['adaptive', 'sampled', 'none'].includes(params.get('wakeup')) ? params.get('wakeup') : 'adaptive',
  rate: intParam('rate', 0, 0, 100_000_000),
  size: 2 ** intParam('log2size', 22, 12, 28), // the ring's data area: 4 MiB
  payload: intParam('payload', 32, EVENT_BYTES, 4096),
};
const WAKEUP_POLICY = { adaptive: WAKEUP_ADAPTIVE, sampled: WAKEUP_SAMPLED, none: WAKEUP_NONE };

// ---- what the page shows, and what the browser tests read ----------------------------------

const lane = () => ({
  records: 0,
  rate: 0,
  avgRate: 0,
  activeMs: 0,
  wakeups: 0,
  dropped: 0,
  lost: 0,
  gaps: 0,
  orderErrors: 0,
  latencyMs: NaN,
  polls: 0,
  laps: 0,
  fps: NaN,
});
/** Live numbers, also read by test/browser (window.demo). */
const demo = {
  ready: false,
  error: null,
  settings,
  mode: MODE_PAUSED,
  /** Milliseconds since the live lane last changed. */
  phaseAge: 0,
  ring: lane(),
  post: lane(),
  batch: lane(),
  /** Average records/s of the ring lane ÷ the one-message-per-event lane, and ÷ the batched lane. */
  ratio: NaN,
  ratioBatch: NaN,
  fps: 0,
};
globalThis.demo = demo;
/** Each producer's latest value, from whichever lane delivered it last (the middle chart). */
const latestValues = new Array(settings.producers).fill(0);

const $ = (sel) => document.querySelector(sel);
const fmtRate = (n) =>
  !Number.isFinite(n)
    ? '–'
    : n >= 1e6
      ? `${(n / 1e6).toFixed(2)} M`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} k`
        : n.toFixed(0);
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
/** A count that fits its cell: exact below a million, then in millions (the exact figure in the cell's title). */
const fmtCount = (n) => (n < 1e6 ? fmtInt(n) : n < 1e9 ? `${(n / 1e6).toFixed(2)} M` : `${(n / 1e9).toFixed(2)} G`);
const fmtMs = (ms) =>
  !Number.isFinite(ms)
    ? '–'
    : ms >= 100
      ? `${ms.toFixed(0)} ms`
      : ms >= 1
        ? `${ms.toFixed(1)} ms`
        : `${(ms * 1000).toFixed(0)} µs`;

// ---- start ---------------------------------------------------------------------------------

start().catch((err) => fail(err));

async function start() {
  setupControls();
  $('#lede-n').textContent = `${settings.producers} Web Workers`;
  const isolated = globalThis.crossOriginIsolated === true;
  const pill = $('#isolation');
  pill.classList.add(isolated ? 'ok' : 'bad');
  pill.lastElementChild.textContent = isolated ? 'cross-origin isolated' : 'NOT cross-origin isolated';

  // The library refuses too: RingBufferStateError, code ERR_RINGBUF_NOT_ISOLATED.
  const rb = await RingBuffer.create({ size: settings.size, maxRecord: 4096 });
  const control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  Atomics.store(control, WAKEUP, WAKEUP_POLICY[settings.wakeup]);
  Atomics.store(control, RATE, settings.rate);
  Atomics.store(control, PAYLOAD, settings.payload);

  const ring = startRingConsumer(rb, control);
  // both postMessage lanes count what they receive in one credit per producer (its ACK word)
  const credit = new Array(settings.producers).fill(0);
  const post = startPostLane(control, credit);
  const batch = startBatchLane(control, credit);
  const workers = [];
  for (let i = 0; i < settings.producers; i++) {
    const worker = new Worker(new URL('./producer.worker.js', import.meta.url), {
      type: 'module',
      name: `producer ${i}`,
    });
    workers.push(
      new Promise((resolve, reject) => {
        worker.addEventListener(
          'error',
          (e) => reject(new Error(`producer worker ${i} failed to start: ${e.message ?? 'see the console'}`)),
          { once: true },
        );
        worker.addEventListener('message', (e) => {
          if (e.data?.type === 'ready') resolve(worker);
          else if (e.data.events !== undefined) batch.receive(e.data);
          else post.receive(e.data);
        });
      }),
    );
    worker.postMessage({ handle: rb.handle, control: control.buffer, index: i });
  }
  await Promise.all(workers);

  const setMode = (mode) => {
    demo.mode = mode;
    modeChanged = true;
    Atomics.store(control, MODE, mode);
    Atomics.notify(control, MODE); // pairs with the wait on MODE in a paused producer
    for (const [name, m] of [
      ['ring', MODE_RING],
      ['post', MODE_POST],
      ['batch', MODE_BATCH],
    ]) {
      $(`#lane-${name}`).classList.toggle('active', mode === m);
      $(`#lane-${name} .state`).textContent = mode === m ? 'live' : 'waiting';
    }
  };
  let paused = false;
  let phaseStarted = performance.now();
  let modeChanged = false; // since the frame counter's window began
  const ONLY = { ring: MODE_RING, post: MODE_POST, batch: MODE_BATCH };
  const first = ONLY[settings.phase] ?? MODE_RING;
  // taking turns: ring, one message per event, batched messages, ring again
  const wanted = () =>
    ONLY[settings.phase] ?? (demo.mode === MODE_RING ? MODE_POST : demo.mode === MODE_POST ? MODE_BATCH : MODE_RING);
  setMode(first);
  $('#pause').addEventListener('click', () => {
    paused = !paused;
    $('#pause').textContent = paused ? 'resume' : 'pause';
    $('#pause').setAttribute('aria-pressed', String(paused));
    if (paused) setMode(MODE_PAUSED);
    else {
      setMode(first);
      phaseStarted = performance.now();
    }
  });

  // Sample the counters four times a second: rates, the chart's history, the switch of lanes.
  const history = [];
  let last = performance.now();
  const lanes = {
    ring: { mode: MODE_RING, last: 0, time: 0 },
    post: { mode: MODE_POST, last: 0, time: 0 },
    batch: { mode: MODE_BATCH, last: 0, time: 0 },
  };
  setInterval(() => {
    const now = performance.now();
    const dt = (now - last) / 1000;
    last = now;
    const r = demo.ring;
    Object.assign(r, ring.tally); // first the consumer's counts, then the ring's: see startRingConsumer()
    const s = rb.stats();
    r.wakeups = s.wakeups;
    r.dropped = s.dropped;
    r.laps = rb.query(BPF_RB_PROD_POS) / settings.size;
    for (const [name, l] of Object.entries(lanes)) {
      const d = demo[name];
      d.rate = (d.records - l.last) / dt;
      l.last = d.records;
      if (demo.mode === l.mode) l.time += dt;
      d.activeMs = l.time * 1000;
      d.avgRate = l.time > 0 ? d.records / l.time : NaN;
    }
    demo.ratio = r.avgRate / demo.post.avgRate;
    demo.ratioBatch = r.avgRate / demo.batch.avgRate;
    r.latencyMs = ring.latency.tick();
    demo.post.latencyMs = post.latency.tick();
    demo.batch.latencyMs = batch.latency.tick();
    demo.post.dropped = post.maxInFlight;
    demo.batch.dropped = batch.maxInFlight;
    history.push({
      t: now,
      ring: r.rate,
      post: demo.post.rate,
      batch: demo.batch.rate,
      mode: demo.mode,
      values: latestValues.slice(),
    });
    while (history.length > 0 && history[0].t < now - 61_000) history.shift();
    pushTail([ring, post, batch]);
    renderNumbers();
    demo.phaseAge = now - phaseStarted;
    if (!paused && settings.phase === 'auto' && now - phaseStarted >= settings.phaseMs) {
      setMode(wanted());
      phaseStarted = now;
    }
  }, 250);

  // Draw at the display's pace.
  const chart = $('#chart');
  const gauge = $('#gauge');
  const values = $('#values');
  let frames = 0;
  let fpsSince = performance.now();
  const frame = (now) => {
    frames++;
    if (now - fpsSince >= 1000) {
      demo.fps = (frames * 1000) / (now - fpsSince);
      $('#fps').textContent = `${demo.fps.toFixed(0)} fps`;
      // how smooth the page stays while a lane runs: a window that saw one lane only
      if (!modeChanged && demo.mode === MODE_RING) demo.ring.fps = demo.fps;
      if (!modeChanged && demo.mode === MODE_POST) demo.post.fps = demo.fps;
      if (!modeChanged && demo.mode === MODE_BATCH) demo.batch.fps = demo.fps;
      modeChanged = false;
      frames = 0;
      fpsSince = now;
    }
    drawChart(chart, history, now);
    drawGauge(gauge, rb, control);
    drawValues(values, history, now);
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
  demo.ready = true;
}

// ---- lane 1: the ring ---------------------------------------------------------------------

/**
 * The consumer: `await consumer.poll(timeout)` in a loop. A poll that finds
 * records returns at once (as a microtask), so the loop gives the page a task
 * boundary after each one, and a callback that returns a negative number ends
 * a pass early (the record counts as consumed), which bounds the time one
 * poll can hold the main thread while producers keep the ring full.
 */
function startRingConsumer(rb, control) {
  const view = new DataView(rb.memory.buffer);
  // counted here, published to demo.ring by the sampling tick (before it reads the ring's stats,
  // so that a snapshot never shows more records reported lost than the ring has refused)
  const r = { records: 0, lost: 0, gaps: 0, orderErrors: 0, polls: 0 };
  const next = new Array(settings.producers).fill(0);
  const latency = movingMedian();
  let budget = 0;
  const PASS = 4096; // records per poll at most
  const SLICE_MS = 8; // work between two task boundaries
  let tail = null;

  const consumer = new RingBufferConsumer().addRaw(rb, (_bytes, off, _len, lost) => {
    const p = view.getUint32(off, true);
    const seq = view.getUint32(off + 4, true);
    r.records++;
    r.lost += lost;
    const want = next[p];
    if (want === undefined || seq < want)
      r.orderErrors++; // a duplicate or a reordering: never expected
    else if (seq > want) r.gaps += seq - want; // refused records (ring full); `lost` reports them too
    next[p] = seq + 1;
    if ((r.records & 63) === 0) {
      const t = view.getFloat64(off + 8, true);
      const lat = latency.add(performance.timeOrigin + performance.now() - t);
      latestValues[p] = view.getFloat64(off + 16, true);
      tail = { lane: 'ring', p, seq, v: latestValues[p], lat };
    }
    if (--budget <= 0) return -1; // end this pass; the next poll carries on after this record
    return 0;
  });

  const channel = new MessageChannel();
  const nextTask = () =>
    new Promise((resolve) => {
      channel.port1.onmessage = resolve;
      channel.port2.postMessage(0);
    });

  (async () => {
    let slice = performance.now();
    for (;;) {
      budget = PASS;
      // NO_WAKEUP records never wake the consumer: then only the timeout does.
      const timeout = Atomics.load(control, WAKEUP) === WAKEUP_NONE ? 10 : 250;
      const n = await consumer.poll(timeout);
      const t1 = performance.now();
      r.polls++;
      // poll() resolves as a microtask when records were waiting: give the page a task
      // boundary (input, rendering) every few milliseconds of work
      if (n !== 0 && t1 - slice >= SLICE_MS) {
        await nextTask();
        slice = performance.now();
      }
    }
  })().catch((err) => fail(err));

  return {
    tally: r,
    latency,
    takeTail() {
      const t = tail;
      tail = null;
      return t;
    },
  };
}

// ---- lane 2: one postMessage per event ------------------------------------------------------

/** Gives producer `i` its credit back: it blocks at POST_WINDOW events in flight (either postMessage lane). */
function acknowledge(control, credit, i) {
  Atomics.store(control, ACK + i, credit[i]);
  Atomics.notify(control, ACK + i); // pairs with the wait on ACK + i in producer.worker.js
}

/** What both postMessage lanes share: order per producer, latency, the in-flight high mark, the tail shown. */
function postLaneState(control, credit) {
  const lane = {
    next: new Array(settings.producers).fill(0),
    latency: movingMedian(),
    maxInFlight: 0,
    tail: null,
    /** A latency sample for an event producer `i` sent at `t`, with the in-flight high mark. */
    sample(i, t) {
      lane.maxInFlight = Math.max(lane.maxInFlight, Atomics.load(control, POSTED + i) - credit[i]);
      return lane.latency.add(performance.timeOrigin + performance.now() - t);
    },
    takeTail() {
      const t = lane.tail;
      lane.tail = null;
      return t;
    },
  };
  return lane;
}

function startPostLane(control, credit) {
  const p = demo.post;
  const lane = postLaneState(control, credit);
  /** One event: `{ p, seq, t, v }`, structured-cloned by postMessage. */
  lane.receive = (m) => {
    const i = m.p;
    p.records++;
    p.wakeups++; // each message is a task of its own
    p.polls++;
    if (m.seq !== lane.next[i]) p.orderErrors++;
    lane.next[i] = m.seq + 1;
    if ((++credit[i] & 63) === 0) acknowledge(control, credit, i);
    if ((p.records & 63) === 0) {
      const lat = lane.sample(i, m.t);
      latestValues[i] = m.v;
      lane.tail = { lane: 'post', p: i, seq: m.seq, v: m.v, lat };
    }
  };
  return lane;
}

// ---- lane 3: one postMessage per POST_BATCH events -----------------------------------------

function startBatchLane(control, credit) {
  const b = demo.batch;
  const lane = postLaneState(control, credit);
  /** POST_BATCH events packed as in the ring (EVENT_BYTES each), in one transferred ArrayBuffer. */
  lane.receive = (m) => {
    const i = m.p;
    const view = new DataView(m.events);
    const n = m.events.byteLength / EVENT_BYTES;
    b.wakeups++; // one task per message
    b.polls++;
    for (let k = 0, at = 0; k < n; k++, at += EVENT_BYTES) {
      const seq = view.getUint32(at + 4, true);
      if (seq !== lane.next[i]) b.orderErrors++;
      lane.next[i] = seq + 1;
    }
    b.records += n;
    credit[i] += n;
    acknowledge(control, credit, i);
    // one latency sample per message: its first event waited longest
    const lat = lane.sample(i, view.getFloat64(8, true));
    latestValues[i] = view.getFloat64(16, true);
    if ((b.polls & 15) === 0) lane.tail = { lane: 'batch', p: i, seq: lane.next[i] - n, v: latestValues[i], lat };
  };
  return lane;
}

// ---- numbers -------------------------------------------------------------------------------

function renderNumbers() {
  const MODES = { ring: MODE_RING, post: MODE_POST, batch: MODE_BATCH };
  for (const [name, l] of [
    ['ring', demo.ring],
    ['post', demo.post],
    ['batch', demo.batch],
  ]) {
    const card = $(`#lane-${name}`);
    const active = demo.mode === MODES[name];
    const set = (k, text, exact) => {
      const el = card.querySelector(`[data-k="${k}"]`);
      el.textContent = text;
      if (exact !== undefined) el.title = fmtInt(exact);
    };
    set('rate', fmtRate(active ? l.rate : l.avgRate));
    set(
      'avg',
      active
        ? `average ${fmtRate(l.avgRate)}/s over ${(l.activeMs / 1000).toFixed(0)} s live`
        : `average while live (${(l.activeMs / 1000).toFixed(0)} s); waiting for its turn`,
    );
    set('records', fmtCount(l.records), l.records);
    set('wakeups', fmtCount(l.wakeups), l.wakeups);
    set('perWakeup', l.wakeups > 0 ? fmtInt(l.records / l.wakeups) : l.records > 0 ? '∞' : '–');
    set('dropped', fmtCount(l.dropped), l.dropped);
    set('lost', fmtCount(l.lost), l.lost);
    set('latency', fmtMs(l.latencyMs));
    set('polls', fmtInt(l.polls));
    set('fps', Number.isFinite(l.fps) ? `${l.fps.toFixed(0)} fps` : '–');
    const order = card.querySelector('[data-k="order"]');
    order.textContent = l.records === 0 ? '–' : l.orderErrors === 0 ? '✓ ordered' : `✗ ${fmtCount(l.orderErrors)}`;
    order.title = l.orderErrors === 0 ? 'every event in order' : `${fmtInt(l.orderErrors)} events out of order`;
    order.className = `num ${l.records === 0 ? '' : l.orderErrors === 0 ? 'good' : 'bad'}`;
  }
  const times = (x) => (Number.isFinite(x) && x > 0 ? `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×` : '–');
  $('#ratio').textContent = times(demo.ratio);
  $('#ratio-batch').textContent = times(demo.ratioBatch);
  // the three averages as bars on one linear scale: the gap is the point
  const top = Math.max(demo.ring.avgRate || 0, demo.post.avgRate || 0, demo.batch.avgRate || 0);
  for (const name of ['ring', 'post', 'batch']) {
    const avg = demo[name].avgRate;
    $(`#bar-${name}`).style.width = `${top > 0 && avg > 0 ? Math.max(1, (avg / top) * 100) : 0}%`;
    $(`#bar-${name}-v`).textContent = Number.isFinite(avg) ? `${fmtRate(avg)}/s` : '–';
  }
}

const tailRows = [];
function pushTail(lanes) {
  const live = demo.mode === MODE_POST ? 1 : demo.mode === MODE_BATCH ? 2 : 0;
  let t = lanes[live].takeTail();
  for (const l of lanes) t ??= l.takeTail();
  if (!t) return;
  tailRows.unshift(t);
  tailRows.length = Math.min(tailRows.length, 9);
  $('#tail').replaceChildren(
    ...tailRows.map((row) => {
      const li = document.createElement('li');
      const who = document.createElement('b');
      who.textContent = `worker ${row.p}`;
      who.style.color = PRODUCER_COLOURS[row.p % PRODUCER_COLOURS.length];
      const lane = document.createElement('span');
      lane.className = `lane-${row.lane}`;
      lane.textContent = row.lane === 'ring' ? 'ring' : row.lane === 'post' ? 'post' : 'post×64';
      const seq = document.createElement('span');
      seq.textContent = `#${fmtInt(row.seq)}  v=${row.v >= 0 ? '+' : ''}${row.v.toFixed(3)}`;
      const lat = document.createElement('span');
      lat.textContent = fmtMs(row.lat);
      lat.style.textAlign = 'right';
      li.append(who, lane, seq, lat);
      return li;
    }),
  );
}

// ---- drawing (canvas, by hand) -------------------------------------------------------------

function fit(canvas) {
  const dpr = globalThis.devicePixelRatio || 1;
  const w = Math.round(canvas.clientWidth * dpr);
  const h = Math.round(canvas.clientHeight * dpr);
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, canvas.clientWidth, canvas.clientHeight);
  return { ctx, w: canvas.clientWidth, h: canvas.clientHeight };
}

const CSS = getComputedStyle(document.documentElement);
const colour = (name) => CSS.getPropertyValue(name).trim();

function drawChart(canvas, history, now) {
  const { ctx, w, h } = fit(canvas);
  const left = 8;
  const right = w - 52;
  const top = 8;
  const bottom = h - 22;
  // the last 60 s, or less while the demo is young, so the chart is never mostly empty
  const span = Math.min(60_000, Math.max(20_000, history.length > 0 ? now - history[0].t : 0));
  const x = (t) => right - ((now - t) / span) * (right - left);
  // y: log10 of records/s, whole decades around what has been seen
  let lo = 3;
  let hi = 5;
  for (const s of history) {
    for (const v of [s.ring, s.post, s.batch]) {
      if (v > 0) {
        lo = Math.min(lo, Math.floor(Math.log10(v)));
        hi = Math.max(hi, Math.ceil(Math.log10(v) + 0.05));
      }
    }
  }
  const y = (v) => (v <= 0 ? bottom : bottom - ((Math.log10(v) - lo) / (hi - lo)) * (bottom - top));

  // phase bands: which lane was live
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1];
    const b = history[i];
    if (b.mode === MODE_PAUSED) continue;
    ctx.fillStyle =
      b.mode === MODE_RING
        ? 'rgba(45, 212, 191, 0.06)'
        : b.mode === MODE_POST
          ? 'rgba(245, 158, 11, 0.06)'
          : 'rgba(167, 139, 250, 0.07)';
    ctx.fillRect(Math.max(left, x(a.t)), top, x(b.t) - Math.max(left, x(a.t)), bottom - top);
  }
  // grid: decades
  ctx.font = '11px ui-monospace, Menlo, Consolas, monospace';
  ctx.textBaseline = 'middle';
  for (let d = lo; d <= hi; d++) {
    const yy = Math.round(y(10 ** d)) + 0.5;
    ctx.strokeStyle = 'rgba(138, 150, 179, 0.14)';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(left, yy);
    ctx.lineTo(right, yy);
    ctx.stroke();
    ctx.fillStyle = colour('--muted');
    ctx.fillText(d >= 6 ? `${10 ** (d - 6)}M` : d >= 3 ? `${10 ** (d - 3)}k` : String(10 ** d), right + 8, yy);
  }
  ctx.textBaseline = 'alphabetic';
  const step = span > 30_000 ? 10 : 5;
  for (let s = 0; s * 1000 <= span; s += step) {
    ctx.fillStyle = colour('--muted');
    const label = s === 0 ? 'now' : `−${s} s`;
    const xx = right - ((s * 1000) / span) * (right - left);
    ctx.fillText(label, Math.max(left, xx - ctx.measureText(label).width / 2), h - 6);
  }
  // the two series: area plus line
  for (const [key, col] of [
    ['post', colour('--post')],
    ['batch', colour('--batch')],
    ['ring', colour('--ring')],
  ]) {
    const pts = history.filter((s) => now - s.t <= span);
    if (pts.length < 2) continue;
    const grad = ctx.createLinearGradient(0, top, 0, bottom);
    grad.addColorStop(0, `${col}55`);
    grad.addColorStop(1, `${col}00`);
    ctx.beginPath();
    ctx.moveTo(x(pts[0].t), bottom);
    for (const s of pts) ctx.lineTo(x(s.t), y(s[key]));
    ctx.lineTo(x(pts[pts.length - 1].t), bottom);
    ctx.closePath();
    ctx.fillStyle = grad;
    ctx.fill();
    ctx.beginPath();
    pts.forEach((s, i) => (i === 0 ? ctx.moveTo(x(s.t), y(s[key])) : ctx.lineTo(x(s.t), y(s[key]))));
    ctx.strokeStyle = col;
    ctx.lineWidth = 2;
    ctx.lineJoin = 'round';
    ctx.stroke();
  }
}

function drawGauge(canvas, rb, control) {
  const { ctx, w, h } = fit(canvas);
  const size = rb.size;
  const prod = rb.query(BPF_RB_PROD_POS);
  const cons = rb.query(BPF_RB_CONS_POS);
  const avail = rb.query(BPF_RB_AVAIL_DATA);
  const cx = 70;
  const cy = h / 2;
  const rad = 58;
  const tau = Math.PI * 2;
  const angle = (pos) => ((pos % size) / size) * tau - Math.PI / 2;
  ctx.lineCap = 'round';
  ctx.lineWidth = 14;
  ctx.strokeStyle = 'rgba(138, 150, 179, 0.15)';
  ctx.beginPath();
  ctx.arc(cx, cy, rad, 0, tau);
  ctx.stroke();
  // unread bytes: from the consumer position to the producer position
  if (avail > 0) {
    ctx.strokeStyle = colour('--ring');
    ctx.beginPath();
    const a0 = angle(cons);
    ctx.arc(cx, cy, rad, a0, a0 + Math.max(0.03, (avail / size) * tau));
    ctx.stroke();
  }
  // the two positions as ticks
  for (const [pos, col] of [
    [cons, '#e6ebf5'],
    [prod, colour('--ring')],
  ]) {
    const a = angle(pos);
    ctx.strokeStyle = col;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(cx + Math.cos(a) * (rad - 12), cy + Math.sin(a) * (rad - 12));
    ctx.lineTo(cx + Math.cos(a) * (rad + 12), cy + Math.sin(a) * (rad + 12));
    ctx.stroke();
  }
  ctx.fillStyle = colour('--text');
  ctx.textAlign = 'center';
  ctx.font = '600 20px ui-monospace, Menlo, Consolas, monospace';
  ctx.fillText(`${((avail / size) * 100).toFixed(avail / size < 0.1 ? 1 : 0)}%`, cx, cy + 2);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = colour('--muted');
  ctx.fillText('unread', cx, cy + 18);
  ctx.textAlign = 'left';
  // beside it: the numbers of the ring, then each producer's share
  const x0 = 152;
  const label = (text, yy) => {
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = colour('--muted');
    ctx.fillText(text.toUpperCase(), x0, yy);
  };
  const value = (text, yy) => {
    ctx.font = '600 14px ui-monospace, Menlo, Consolas, monospace';
    ctx.fillStyle = colour('--text');
    ctx.fillText(text, x0, yy);
  };
  label('size · laps', 20);
  value(`${size >= 1 << 20 ? `${size / (1 << 20)} MiB` : `${size / 1024} KiB`} · ${fmtInt(prod / size)}`, 38);
  label('written · refused (full)', 62);
  let total = 0;
  const counts = [];
  for (let i = 0; i < settings.producers; i++) {
    const c = Atomics.load(control, WRITTEN + i) + Atomics.load(control, POSTED + i);
    counts.push(c);
    total += c;
  }
  const barW = w - x0 - 4;
  let bx = x0;
  for (let i = 0; i < counts.length; i++) {
    const bw = total > 0 ? (counts[i] / total) * barW : barW / counts.length;
    ctx.fillStyle = PRODUCER_COLOURS[i % PRODUCER_COLOURS.length];
    ctx.fillRect(bx, 70, Math.max(0, bw - 2), 8);
    bx += bw;
  }
  ctx.font = '11px ui-monospace, Menlo, Consolas, monospace';
  for (let i = 0; i < counts.length; i++) {
    const yy = 98 + i * 17;
    ctx.fillStyle = PRODUCER_COLOURS[i % PRODUCER_COLOURS.length];
    ctx.fillRect(x0, yy - 8, 8, 8);
    ctx.fillStyle = colour('--text');
    ctx.fillText(`w${i} ${fmtRate(counts[i])}`, x0 + 14, yy);
    const refused = Atomics.load(control, REFUSED + i);
    if (refused > 0) {
      ctx.fillStyle = colour('--muted');
      ctx.fillText(`−${fmtRate(refused).replace(' ', '')}`, x0 + 88, yy);
    }
  }
}

function drawValues(canvas, history, now) {
  const { ctx, w, h } = fit(canvas);
  const span = Math.min(30_000, Math.max(10_000, history.length > 0 ? now - history[0].t : 0));
  const pts = history.filter((s) => now - s.t <= span);
  if (pts.length < 2) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of pts)
    for (const v of s.values) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
  if (hi - lo < 1e-6) {
    hi += 1;
    lo -= 1;
  }
  const pad = (hi - lo) * 0.1;
  lo -= pad;
  hi += pad;
  const x = (t) => w - 6 - ((now - t) / span) * (w - 6);
  const y = (v) => h - 6 - ((v - lo) / (hi - lo)) * (h - 12);
  ctx.strokeStyle = 'rgba(138, 150, 179, 0.14)';
  ctx.beginPath();
  ctx.moveTo(0, y(0) + 0.5);
  ctx.lineTo(w, y(0) + 0.5);
  ctx.stroke();
  for (let p = 0; p < settings.producers; p++) {
    ctx.strokeStyle = PRODUCER_COLOURS[p % PRODUCER_COLOURS.length];
    ctx.lineWidth = 1.75;
    ctx.beginPath();
    pts.forEach((s, i) => (i === 0 ? ctx.moveTo(x(s.t), y(s.values[p])) : ctx.lineTo(x(s.t), y(s.values[p]))));
    ctx.stroke();
    const lastPt = pts[pts.length - 1];
    ctx.fillStyle = ctx.strokeStyle;
    ctx.beginPath();
    ctx.arc(x(lastPt.t) - 3, y(lastPt.values[p]), 3, 0, Math.PI * 2);
    ctx.fill();
  }
}

// ---- controls and failure ------------------------------------------------------------------

function setupControls() {
  for (const seg of document.querySelectorAll('.seg[data-param]')) {
    const name = seg.dataset.param;
    const current = String(settings[name]);
    for (const b of seg.querySelectorAll('button')) {
      b.setAttribute('aria-pressed', String(b.dataset.value === current));
      b.addEventListener('click', () => {
        const next = new URLSearchParams(location.search);
        next.set(name, b.dataset.value);
        location.search = next.toString(); // a fresh ring and fresh workers with the new setting
      });
    }
  }
}

function fail(err) {
  console.error(err);
  demo.error = `${err?.name ?? 'Error'}${err?.code ? ` (${err.code})` : ''}: ${err?.message ?? err}`;
  document.body.classList.add('failed');
  const body = $('#error-body');
  if (err?.code === 'ERR_RINGBUF_NOT_ISOLATED' || globalThis.crossOriginIsolated !== true) {
    $('#error-title').textContent = 'This page is not cross-origin isolated';
    body.innerHTML = `<p>Browsers give a page <code>SharedArrayBuffer</code> (and so a shared
      <code>WebAssembly.Memory</code>) only when it is cross-origin isolated. Serve the page and its
      workers with these two response headers:</p>
      <pre>Cross-Origin-Opener-Policy: same-origin
Cross-Origin-Embedder-Policy: require-corp</pre>
      <p><code>node examples/browser/serve.mjs</code> sends both (Vite: <code>server.headers</code> and
      <code>preview.headers</code> in examples/browser/vite.config.mjs).</p>`;
  } else {
    $('#error-title').textContent = 'The demo stopped';
  }
  const pre = document.createElement('pre');
  pre.textContent = demo.error;
  body.append(pre);
}
