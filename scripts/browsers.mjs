// The browsers the engine suite (test/engines) and the browser bench
// (bench/browser) run in, and how each is opened headless on a URL here, in a
// fresh profile folder, and ended: Debian's Chromium and Firefox ESR, and
// WebKitGTK's MiniBrowser under Xvfb (each path can be overridden from the
// environment); and the local listening of the servers they load pages from.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const MINIBROWSER = process.env.MINIBROWSER_PATH ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** This machine has no outside network: keep Chromium from looking for it. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

/** Prefs of a fresh Firefox profile on a machine with no outside network: no first-run pages, no updates, no telemetry. */
const FIREFOX_PREFS = {
  'browser.shell.checkDefaultBrowser': false,
  'browser.startup.homepage_override.mstone': 'ignore',
  'browser.aboutwelcome.enabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'toolkit.telemetry.reportingpolicy.firstRun': false,
  'app.update.disabledForTesting': true,
  'app.normandy.enabled': false,
  'browser.safebrowsing.update.enabled': false,
  'extensions.update.enabled': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
};

/** Each browser's executable, by name. */
export const EXECUTABLES = { chromium: CHROMIUM, firefox: FIREFOX, webkit: MINIBROWSER };

/**
 * How to open `url` in browser `name` ('chromium', 'firefox', 'webkit') with
 * the fresh, empty profile folder `profile` (Firefox's prefs are written
 * there): `{ command, args, env?, wrapper? }`, `wrapper` when the command
 * (xvfb-run) starts the browser as a child of its own. `browserArgs` go
 * before the URL.
 */
export function openCommand(name, url, profile, browserArgs = []) {
  if (name === 'chromium') {
    return { command: CHROMIUM, args: [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, ...browserArgs, url] };
  }
  if (name === 'firefox') {
    const prefs = Object.entries(FIREFOX_PREFS).map(
      ([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`,
    );
    writeFileSync(join(profile, 'user.js'), `${prefs.join('\n')}\n`);
    return { command: FIREFOX, args: ['--headless', '--no-remote', '--profile', profile, ...browserArgs, url] };
  }
  return {
    command: 'xvfb-run',
    wrapper: true,
    args: ['-a', '-s', '-screen 0 1280x720x24', MINIBROWSER, ...browserArgs, url],
    // WebKitGTK has no SharedArrayBuffer without it, even on an isolated page
    env: {
      JSC_useSharedArrayBuffer: 'true',
      XDG_CACHE_HOME: join(profile, 'cache'),
      XDG_DATA_HOME: join(profile, 'data'),
      XDG_CONFIG_HOME: join(profile, 'config'),
    },
  };
}

/** The pids of the direct children of `pid` (Linux). */
function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Ends `child`, started with `detached: true`, and everything it started;
 * `exited` settles when it has exited. A wrapper (xvfb-run) has its own
 * children ended first, so that it cleans up after them as when its command
 * exits; then TERM to the group, then KILL.
 */
export async function stopGroup(child, exited, wrapper = false) {
  const pid = child.pid;
  if (child.exitCode !== null || child.signalCode !== null || pid === undefined) return;
  const gone = (ms) =>
    Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), ms))]);
  const signal = (target, name) => {
    try {
      process.kill(target, name);
    } catch {}
  };
  if (wrapper) {
    for (const c of childrenOf(pid)) signal(c, 'SIGTERM');
    if (await gone(5_000)) return;
  }
  signal(-pid, 'SIGTERM');
  if (await gone(5_000)) return;
  signal(-pid, 'SIGKILL');
  await gone(5_000);
}

/**
 * Listens with `server` on an ephemeral port of 127.0.0.1. Resolves to
 * `{ url, close }`; `close()` also ends open keep-alive connections, which
 * would otherwise hold it open until they time out.
 */
export function listenLocally(server) {
  const sockets = new Set();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/`,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
