// The records of bench/codecs.ts: structured log lines, as a web server would
// write them (about 190 bytes of JSON each; one in four with non-ASCII text).

/** A log object; `seq` tells them apart and lets the receiver check the order. */
export interface LogObject {
  level: number;
  time: number;
  pid: number;
  hostname: string;
  seq: number;
  req: { method: string; url: string; status: number };
  ms: number;
  msg: string;
}

export function logObject(seq: number): LogObject {
  return {
    level: 30,
    time: 1_700_000_000_000 + seq,
    pid: 4242,
    hostname: 'bench-host',
    seq,
    req: { method: seq % 5 === 0 ? 'POST' : 'GET', url: `/api/items/${seq % 977}`, status: seq % 41 === 0 ? 500 : 200 },
    ms: (seq % 1000) / 10,
    msg: seq % 4 === 0 ? `requête ${seq} traitée — ok ✓` : `request ${seq} handled`,
  };
}

/** The object as one line of text (what a text record carries). */
export function logLine(seq: number): string {
  return JSON.stringify(logObject(seq));
}
