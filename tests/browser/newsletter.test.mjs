// The newsletter's double opt-in in a real browser: the sign-up block on a public page (in
// Chinese), the confirmation mail in the demo mailbox, the page behind its link (opening it
// confirms nothing), the button that confirms, then unsubscribing with the welcome mail's link.
// An editor cannot send a test of changes not yet saved.
// Screenshots go to tests/browser/artifacts/newsletter/.

import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { startDemo } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(here, 'artifacts', 'newsletter');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const EMAIL = `zhang.wei.${Date.now().toString(36)}@shenzhen-e2e.example`;

let server;
let browser;
let page;

async function submit(p, button) {
  const [response] = await Promise.all([p.waitForNavigation({ waitUntil: 'load' }), button.click()]);
  return response;
}

/** Opens the newest mail to EMAIL whose subject matches `subject` and returns its text body. */
async function mail(subject) {
  await page.goto(`/mailbox?to=${encodeURIComponent(EMAIL)}`);
  await submit(page, page.locator('table tbody tr a', { hasText: subject }).first());
  return page.locator('pre[data-testid=mail-body]').innerText();
}

describe('newsletter sign-up in a real browser', { concurrency: false }, () => {
  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startDemo({ logFile: path.join(ARTIFACTS, 'server.log') });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    const ctx = await browser.newContext({ baseURL: server.url, locale: 'zh-CN', viewport: { width: 1280, height: 900 } });
    ctx.setDefaultTimeout(15_000);
    page = await ctx.newPage();
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  it('block → mailbox → confirm button → unsubscribe', { timeout: 120_000 }, async () => {
    await page.goto('/events');
    const block = page.locator('section.newsletter-block');
    assert.match(await block.locator('h2').innerText(), /电子简报/);
    await block.getByLabel('电子邮箱地址').fill(EMAIL);
    assert.equal(await block.locator('#nl-locale').inputValue(), 'zh', 'the page language is preselected');
    await block.getByLabel('氢能').check();
    await block.locator('#nl-consent').check();
    await page.screenshot({ path: path.join(ARTIFACTS, '1-block-zh.png'), fullPage: true });
    await submit(page, block.getByRole('button', { name: '订阅' }));
    assert.equal(new URL(page.url()).pathname, '/newsletter/thanks');
    assert.match(await page.locator('h1').innerText(), /请查看您的邮箱/);

    const body = await mail('请确认您的电子简报订阅');
    const link = /https?:\/\/\S+\/newsletter\/confirm\/[0-9a-f]{64}/.exec(body)?.[0];
    assert.ok(link, `a confirmation link in the mail:\n${body}`);
    await page.screenshot({ path: path.join(ARTIFACTS, '2-confirmation-mail.png'), fullPage: true });

    // Opening the link twice (as a scanner would) shows the button both times: nothing was used up.
    for (let i = 0; i < 2; i += 1) {
      const res = await page.goto(link);
      assert.equal(res.status(), 200);
    }
    await page.screenshot({ path: path.join(ARTIFACTS, '3-confirm-page.png'), fullPage: true });
    await submit(page, page.getByRole('button', { name: '是的，我要订阅' }));
    assert.match(await page.locator('main [role=status]').innerText(), /订阅已确认/);

    const welcome = await mail('欢迎订阅我们的电子简报');
    const unsubscribe = /https?:\/\/\S+\/newsletter\/unsubscribe\/[0-9a-f]+/.exec(welcome)?.[0];
    assert.ok(unsubscribe, `an unsubscribe link in the welcome mail:\n${welcome}`);
    await page.goto(unsubscribe);
    await submit(page, page.getByRole('button', { name: '退订' }));
    assert.match(await page.locator('main [role=status]').innerText(), /已退订/);
    await page.screenshot({ path: path.join(ARTIFACTS, '4-unsubscribed.png'), fullPage: true });
  });

  it('an editor cannot send a test of changes not yet saved', { timeout: 120_000 }, async () => {
    const ctx = await browser.newContext({ baseURL: server.url, locale: 'en-GB', viewport: { width: 1280, height: 900 } });
    ctx.setDefaultTimeout(15_000);
    const editor = await ctx.newPage();
    await editor.goto('/signin');
    await editor.locator('#f-email').fill('editor@kontor.example');
    await editor.locator('form[action="/signin"] details > summary').click();
    await editor.locator('#f-password').fill('kontor-demo-2027');
    await submit(editor, editor.locator('form[action="/signin"] button[type=submit]'));
    await editor.goto('/admin/newsletter/new');
    await editor.locator('#f-title').fill('November news');
    await editor.locator('#f-subject_en').fill('Saved subject');
    await submit(editor, editor.locator('form[data-watch] button[type=submit]'));
    assert.match(new URL(editor.url()).pathname, /^\/admin\/newsletter\/[0-9a-f-]+$/);
    // Changed and not saved: "Send test" stops and says why; nothing is sent.
    await editor.locator('#f-subject_en').fill('Unsaved subject');
    await editor.locator('#f-test_email').fill('check@kontor.example');
    let said = '';
    editor.once('dialog', (d) => { said = d.message(); d.accept(); });
    await editor.locator('form[action$="/test"] button[type=submit]').click();
    await editor.waitForTimeout(300);
    assert.match(said, /zuerst speichern/, 'the editor reads German');
    assert.match(new URL(editor.url()).pathname, /^\/admin\/newsletter\/[0-9a-f-]+$/, 'still on the issue');
    assert.equal(await editor.locator('#f-subject_en').inputValue(), 'Unsaved subject', 'the change is kept');
    // Saved, the test goes out with what was saved.
    await submit(editor, editor.locator('form[data-watch] button[type=submit]'));
    await editor.locator('#f-test_email').fill('check@kontor.example');
    await submit(editor, editor.locator('form[action$="/test"] button[type=submit]'));
    assert.match(await editor.locator('main [role=status]').innerText(), /check@kontor\.example/);
    await ctx.close();
  });
});
