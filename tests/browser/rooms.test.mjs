// Video rooms end to end in a real browser (Debian's Chromium driven by playwright-core):
//
//   The demo books an online meeting that starts three minutes after it does, between two
//   participants (one German, one Chinese). Each signs in in their own browser context with a
//   fake camera, opens their agenda, follows "Join video", and must decode the other's video
//   (getStats: inbound-rtp video framesDecoded > 0).
//
//   Then the same across two Kontor instances sharing one PostgreSQL database (a fresh database
//   on the server of KONTOR_TEST_DATABASE_URL): `kontor demo --database-url` seeds it and serves
//   one participant, `kontor serve` on the same database serves the other, so every signal goes
//   through PostgreSQL's LISTEN/NOTIFY.
//
// Screenshots go to tests/browser/artifacts/rooms/. Run with tests/browser/run.sh.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { kontorBin, startDemo } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(here, 'artifacts', 'rooms');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const EVENT = 'online-consultation-day';
const PASSWORD = 'kontor-demo-2027';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

let browser;

before(async () => {
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
});

after(async () => {
  await browser?.close();
});

/** Signs in with the demo password at `base`; returns the page. */
async function signIn(ctx, base, email) {
  const p = await ctx.newPage();
  p.on('pageerror', (e) => console.error(`[${email}] page error:`, e.message));
  p.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      console.error(`[${email}] console:`, m.text());
    }
  });
  p.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) console.error(`[${email}] ${r.status()} ${r.url()}`);
  });
  await p.goto(`${base}/signin`);
  await p.locator('#f-email').fill(email);
  await p.locator('form[action="/signin"] details > summary').click();
  await p.locator('#f-password').fill(PASSWORD);
  await Promise.all([
    p.waitForNavigation({ waitUntil: 'load' }),
    p.locator('form[action="/signin"] button[type=submit]').click(),
  ]);
  assert.notEqual(new URL(p.url()).pathname, '/signin', `${email} is signed in`);
  return p;
}

/** From the agenda, follows "Join video" into the room. */
async function join(p, base) {
  await p.goto(`${base}/events/${EVENT}/meetings`);
  const link = p.locator('[data-testid=join-video]');
  assert.equal(await link.count(), 1, 'the agenda offers "Join video"');
  await Promise.all([p.waitForNavigation({ waitUntil: 'load' }), link.click()]);
  assert.match(new URL(p.url()).pathname, /^\/meetings\/[0-9a-f-]+\/room$/);
  await p.locator('#room').waitFor();
}

/** Frames of the partner's video this page has decoded so far. */
const framesDecoded = (p) => p.evaluate(async () => {
  const pc = window.kontorRoom && window.kontorRoom.pc;
  if (!pc) return 0;
  let n = 0;
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'video') n = s.framesDecoded || 0;
  });
  return n;
});

async function waitForVideo(p, who) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if ((await framesDecoded(p)) > 0) return;
    await p.waitForTimeout(100);
  }
  await p.screenshot({ path: path.join(ARTIFACTS, `FAILED-${who}.png`), fullPage: true });
  const state = await p.locator('#room').getAttribute('data-state');
  const error = await p.locator('#room-error').textContent();
  const pc = await p.evaluate(() => {
    const c = window.kontorRoom && window.kontorRoom.pc;
    return c && {
      signaling: c.signalingState, ice: c.iceConnectionState, gathering: c.iceGatheringState,
      connection: c.connectionState, local: c.localDescription?.type, remote: c.remoteDescription?.type,
    };
  });
  assert.fail(`${who} decoded no video within 30 s (state ${state}, error "${error}", pc ${JSON.stringify(pc)})`);
}

/**
 * Two participants, each in a fresh context on their own instance (`baseA`, `baseB`), join the
 * room; both must decode the other's video, and the page must say they are connected.
 */
async function call(baseA, baseB, guests, label) {
  const started = Date.now();
  const ctxA = await browser.newContext({ locale: 'de-DE', timezoneId: 'Europe/Berlin' });
  const ctxB = await browser.newContext({ locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  // Headless Chromium has no screen to share: a 16:9 canvas stands in for it.
  await ctxA.addInitScript(() => {
    navigator.mediaDevices.getDisplayMedia = async () => {
      const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 180 });
      const g = canvas.getContext('2d');
      let n = 0;
      setInterval(() => {
        g.fillStyle = `hsl(${(n += 7) % 360} 60% 50%)`;
        g.fillRect(0, 0, 320, 180);
      }, 50);
      return canvas.captureStream(20);
    };
  });
  try {
    const [a, b] = await Promise.all([signIn(ctxA, baseA, guests[0]), signIn(ctxB, baseB, guests[1])]);
    await Promise.all([join(a, baseA), join(b, baseB)]);
    await Promise.all([waitForVideo(a, `${label}-de`), waitForVideo(b, `${label}-zh`)]);
    for (const [p, who] of [[a, 'de'], [b, 'zh']]) {
      await p.locator('#room[data-state="room-status-connected"]').waitFor({ timeout: 5_000 });
      assert.equal(await p.locator('#room-error').isHidden(), true, `${who}: no error shown`);
      await p.screenshot({ path: path.join(ARTIFACTS, `${label}-${who}.png`), fullPage: true });
    }
    // The partner's name and a running countdown; mute is a toggle with aria-pressed.
    assert.match(await a.locator('[data-testid=room-partner]').textContent(), /\S+ · \S+/, 'name · organisation');
    assert.match(await a.locator('#room-countdown').textContent(), /^\d+:\d\d/);
    await a.locator('#room-mute').click();
    assert.equal(await a.locator('#room-mute').getAttribute('aria-pressed'), 'true');
    console.log(`${label}: both decode video ${Date.now() - started} ms after sign-in started`);

    // Screen sharing replaces the camera track without renegotiating: the partner's decoded
    // picture turns 16:9 (the fake camera is 4:3), and sharing again turns it back.
    const aspect = () => b.evaluate(async () => {
      let r = 0;
      (await window.kontorRoom.pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.frameHeight) r = s.frameWidth / s.frameHeight;
      });
      return r;
    });
    const waitAspect = async (want, what) => {
      const deadline = Date.now() + 15_000;
      let got = 0;
      while (Date.now() < deadline) {
        got = await aspect();
        if (Math.abs(got - want) < 0.05) return;
        await b.waitForTimeout(100);
      }
      assert.fail(`${what}: the partner sees aspect ${got}, not ${want}`);
    };
    await a.locator('#room-share').click();
    // The button turns once the track is replaced (asynchronous; slow on a loaded machine).
    await a.locator('#room-share[aria-pressed="true"]').waitFor({ timeout: 5_000 });
    await waitAspect(16 / 9, 'sharing the screen');
    await a.locator('#room-share').click();
    // The button turns once the track is replaced (asynchronous; slow on a loaded machine).
    await a.locator('#room-share[aria-pressed="false"]').waitFor({ timeout: 5_000 });
    await waitAspect(4 / 3, 'back to the camera');

    // Reload on one side: the call comes back (perfect negotiation, either side may rejoin).
    await b.reload();
    await b.locator('#room').waitFor();
    await waitForVideo(b, `${label}-zh-reloaded`);
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
}

/**
 * The Chinese participant's browser refuses the camera (as when the person clicks "Block"): the
 * page says so in Chinese, with what to do, and the call goes on receive-only: she still sees
 * her partner.
 */
async function blockedCamera(base, guests) {
  const ctxA = await browser.newContext({ locale: 'de-DE' });
  const ctxB = await browser.newContext({ locale: 'zh-CN' });
  await ctxB.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () =>
      Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
  try {
    const [a, b] = await Promise.all([signIn(ctxA, base, guests[0]), signIn(ctxB, base, guests[1])]);
    await Promise.all([join(a, base), join(b, base)]);
    const alert = b.locator('#room-error[role=alert]');
    await alert.waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await alert.textContent(), /浏览器阻止了摄像头和麦克风.*刷新页面/);
    await waitForVideo(b, 'blocked-zh');
    await b.screenshot({ path: path.join(ARTIFACTS, 'blocked-camera-zh.png'), fullPage: true });
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
}

/**
 * An organiser opens the room before either participant: when they arrive, the two
 * participants still connect to each other (not to the organiser), and see each other's video.
 */
async function organiserFirst(base, guests) {
  const ctxO = await browser.newContext({ locale: 'en-GB' });
  const ctxA = await browser.newContext({ locale: 'de-DE' });
  const ctxB = await browser.newContext({ locale: 'zh-CN' });
  try {
    const [o, a, b] = await Promise.all([
      signIn(ctxO, base, 'organiser@kontor.example'), signIn(ctxA, base, guests[0]), signIn(ctxB, base, guests[1]),
    ]);
    await a.goto(`${base}/events/${EVENT}/meetings`);
    const room = await a.locator('[data-testid=join-video]').getAttribute('href');
    await o.goto(`${base}${room}`);
    await o.locator('#room[data-state="room-status-waiting"]').waitFor({ timeout: 10_000 });
    await join(a, base);
    await o.waitForTimeout(1_000); // Anna and the organiser meet first
    await join(b, base);
    await Promise.all([waitForVideo(a, 'organiser-first-de'), waitForVideo(b, 'organiser-first-zh')]);
    for (const [p, who] of [[a, 'de'], [b, 'zh']]) {
      const deadline = Date.now() + 20_000;
      let state;
      for (;;) {
        state = await p.evaluate(() => ({
          role: window.kontorRoom.partnerRole, connection: window.kontorRoom.pc?.connectionState,
        }));
        if (state.role === 'participant' && state.connection === 'connected') break;
        if (Date.now() > deadline) assert.fail(`${who} is not connected to the other participant: ${JSON.stringify(state)}`);
        await p.waitForTimeout(100);
      }
    }
  } finally {
    await ctxO.close();
    await ctxA.close();
    await ctxB.close();
  }
}

/** The two video guests from the demo's list of logins. */
async function guestsOf(server) {
  const logins = await server.logins();
  const guests = ['Video meeting now (Deutsch)', 'Video meeting now (中文)'].map(
    (role) => logins.find((l) => l.role === role)?.email,
  );
  assert.ok(guests.every(Boolean), `the demo lists its video guests: ${JSON.stringify(logins)}`);
  return guests;
}

describe('video rooms', () => {
  it('two participants on one instance see each other', { timeout: 120_000 }, async () => {
    const server = await startDemo({ logFile: path.join(ARTIFACTS, 'server.log') });
    try {
      const guests = await guestsOf(server);
      await call(server.url, server.url, guests, 'one-instance');
      await blockedCamera(server.url, guests);
      await organiserFirst(server.url, guests);
    } finally {
      await server.stop();
    }
  });

  it('two participants on two instances sharing PostgreSQL see each other', { timeout: 180_000 }, async (t) => {
    const admin = process.env.KONTOR_TEST_DATABASE_URL;
    if (!admin) {
      assert.notEqual(process.env.KONTOR_REQUIRE_POSTGRES, '1', 'KONTOR_TEST_DATABASE_URL is not set');
      t.skip('needs KONTOR_TEST_DATABASE_URL');
      return;
    }
    const name = `kontor_rooms_${Date.now()}`;
    execFileSync('psql', [admin, '-qc', `CREATE DATABASE ${name}`]);
    const db = `${admin.replace(/\/[^/]*$/, '')}/${name}`;
    let server;
    let second;
    try {
      server = await startDemo({ logFile: path.join(ARTIFACTS, 'server-pg-1.log'), args: ['--database-url', db] });
      const guests = await guestsOf(server);
      second = await startServe(db, path.join(ARTIFACTS, 'server-pg-2.log'));
      await call(server.url, second.url, guests, 'two-instances');
    } finally {
      await second?.stop();
      await server?.stop();
      execFileSync('psql', [admin, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
    }
  });
});

/** A free loopback port. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** `kontor serve` on `db`; resolves once /readyz answers. */
async function startServe(db, logFile) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(kontorBin(), ['serve'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env, NO_COLOR: '1', KONTOR_DATABASE_URL: db, KONTOR_LISTEN: `127.0.0.1:${port}`, KONTOR_BASE_URL: url,
    },
  });
  const log = createWriteStream(logFile);
  child.stderr.pipe(log);
  let exited = false;
  const exit = new Promise((resolve) => child.on('exit', () => { exited = true; resolve(); }));
  const kill = () => { if (!exited) child.kill('SIGKILL'); };
  process.on('exit', kill);
  const stop = async () => {
    process.off('exit', kill);
    if (!exited) child.kill('SIGTERM');
    const timer = setTimeout(kill, 5_000);
    await exit;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`kontor serve exited; see ${logFile}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return { url, stop };
    } catch (_) { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`kontor serve did not become ready; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
