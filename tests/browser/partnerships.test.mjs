// Partnerships in a real browser: the editor sends the demo's draft letter of intent for
// signature; the Chinese signatory opens her link from the demo mailbox on a phone, is refused
// with an error summary that leads to the fields, and signs with the keyboard alone; the German
// signatory signs last; then the public sees the agreement and the city's timeline.
// Screenshots go to tests/browser/artifacts/partnerships/.

import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { startDemo } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(here, 'artifacts', 'partnerships');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const PASSWORD = 'kontor-demo-2027';

let server;
let browser;

async function submit(p, button) {
  const [response] = await Promise.all([p.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  return response;
}

async function shot(p, name) {
  await p.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The signing link in the newest mail to `to` whose subject contains `subject`. */
async function signingLink(p, to, subject) {
  await p.goto(`/mailbox?to=${encodeURIComponent(to)}`);
  await submit(p, p.locator('table tbody tr a', { hasText: subject }).first());
  const body = await p.locator('pre[data-testid=mail-body]').innerText();
  const link = /https?:\/\/\S+\/sign\/[0-9a-f]{64}/.exec(body)?.[0];
  assert.ok(link, `a signing link in the mail:\n${body}`);
  return new URL(link).pathname;
}

describe('partnerships in a real browser', { concurrency: false }, () => {
  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startDemo({ logFile: path.join(ARTIFACTS, 'server.log') });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  it('send for signature → sign by link with the keyboard → public', { timeout: 180_000 }, async () => {
    // The editor (German) sends the draft letter of intent.
    const staff = await browser.newContext({ baseURL: server.url, locale: 'de-DE', viewport: { width: 1280, height: 900 } });
    staff.setDefaultTimeout(15_000);
    const p = await staff.newPage();
    // "Send" asks before it freezes the text.
    let asked = '';
    p.on('dialog', (d) => { asked = d.message(); d.accept(); });
    await p.goto('/signin');
    await p.locator('#f-email').fill('editor@kontor.example');
    await p.locator('form[action="/signin"] details > summary').click();
    await p.locator('#f-password').fill(PASSWORD);
    await submit(p, p.locator('form[action="/signin"] button[type=submit]'));
    await p.goto('/partnerships/guiyang');
    assert.equal(await p.locator('h1').innerText(), 'Guiyang');
    await submit(p, p.getByRole('link', { name: 'Absichtserklärung zur Berufsbildung' }));
    assert.match(await p.locator('[data-testid=status]').innerText(), /Entwurf/);
    await submit(p, p.getByRole('button', { name: 'An 2 Unterzeichnende versenden' }));
    assert.match(asked, /Danach lässt sich der Text nicht mehr ändern/);
    assert.match(await p.locator('[data-testid=sent]').innerText(), /2 Personen haben einen Link/);
    assert.match(await p.locator('[data-testid=status]').innerText(), /Zur Unterschrift/);
    assert.equal(await p.getByRole('button', { name: /versenden/ }).count(), 0, 'sent once');
    await shot(p, '1-sent-de');

    // The Chinese signatory, on a phone, signed out.
    const phone = await browser.newContext({ baseURL: server.url, locale: 'zh-CN', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    phone.setDefaultTimeout(15_000);
    const q = await phone.newPage();
    const wangLink = await signingLink(q, 'wang.fang@gyvtc.example', '请签署');
    await q.goto(wangLink);
    assert.equal(await q.locator('html').getAttribute('lang'), 'zh-Hans');
    assert.match(await q.locator('main').innerText(), /双方拟每年互派十名学徒/);
    const width = await q.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no sideways scrolling on a phone (${width} px)`);
    await shot(q, '2-sign-page-zh-phone');

    // Empty: the summary takes focus and its links lead to the fields.
    let res = await submit(q, q.getByRole('button', { name: '签署', exact: true }));
    assert.equal(res.status(), 422);
    const summary = q.locator('.error-summary');
    await summary.waitFor();
    assert.ok(await summary.evaluate((el) => el === document.activeElement), 'the summary has focus');
    assert.match(await summary.innerText(), /您的全名：请填写此项/);
    await summary.getByRole('link', { name: /您的全名/ }).click();
    await q.waitForFunction(() => document.activeElement?.id === 'f-signed_name');
    assert.equal(new URL(q.url()).hash, '#f-signed_name');
    assert.equal(await q.locator('#f-signed_name').getAttribute('aria-invalid'), 'true');

    // Keyboard only: type the name, tab to the box, tick it with Space, send with Enter.
    await q.keyboard.type('王 芳');
    await q.keyboard.press('Tab');
    assert.equal(await q.evaluate(() => document.activeElement?.id), 'f-consent');
    await q.keyboard.press('Space');
    await Promise.all([q.waitForNavigation({ waitUntil: 'load' }), q.keyboard.press('Enter')]);
    assert.match(await q.locator('[data-testid=signed]').innerText(), /已有 1\/2 人签署/);
    assert.equal(await q.locator('#f-signed_name').count(), 0, 'no second signature form');
    await shot(q, '3-signed-zh-phone');

    // The German signatory signs last; the agreement is complete.
    const annaLink = await signingLink(q, 'anna.becker@agentur.example', 'Bitte unterzeichnen');
    const desk = await browser.newContext({ baseURL: server.url, locale: 'de-DE' });
    const d = await desk.newPage();
    await d.goto(annaLink);
    await d.locator('#f-signed_name').fill('Dr. Anna Becker');
    await d.locator('#f-consent').check();
    await submit(d, d.getByRole('button', { name: 'Unterzeichnen' }));
    assert.match(await d.locator('[data-testid=signed]').innerText(), /Alle haben unterschrieben/);

    // Public: the agreement and its place on the timeline.
    const visitor = await browser.newContext({ baseURL: server.url, locale: 'en-GB', viewport: { width: 1280, height: 900 } });
    const v = await visitor.newPage();
    await v.goto('/partnerships');
    await submit(v, v.getByRole('link', { name: 'Guiyang' }));
    const timeline = v.locator('#timeline + ul');
    assert.match(await timeline.locator('li').first().innerText(), /Letter of intent/);
    await submit(v, v.getByRole('link', { name: 'Letter of intent on vocational training' }).first());
    assert.match(await v.locator('main').innerText(), /signed as “王 芳”/);
    assert.equal(await v.locator('main').getByText('wang.fang@gyvtc.example').count(), 0, 'no addresses in public');
    await shot(v, '4-public-en');
    await Promise.all([staff.close(), phone.close(), desk.close(), visitor.close()]);
  });
});
