// End-to-end in a real browser (Debian's Chromium driven by playwright-core), run by `node --test`:
//
//   A new user opens the site in Chinese, signs up, reads the code (or link) in the demo mailbox,
//   completes the profile, registers for the trade fair; the organiser approves in German; the
//   participant sees the approval.
//
// Screenshots of every major step (and of every open page when a step fails) are written to
// tests/browser/artifacts/. Run with tests/browser/run.sh.

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { startDemo } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(here, 'artifacts');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const FAIR = 'hydrogen-life-sciences-b2b-days';
const ORGANISER = 'organiser@kontor.example';
const PASSWORD = 'kontor-demo-2027';
const VIEWPORT = { width: 1280, height: 800 };

// The newcomer: unique per run, so that a re-run against a reused server could not collide.
const stamp = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
const USER = {
  name: '李娜',
  email: `li.na.${stamp}@guiyang-e2e.example`,
  zone: 'Asia/Shanghai',
};

let server;
let browser;
let participant; // BrowserContext, zh-CN
let organiser; // BrowserContext, en-US: German must come from the organiser's account
let page; // the participant's page
let shot = 0;
let broken = null; // the first failed step: later steps are skipped, not failed again

async function screenshot(p, name, { fullPage = true } = {}) {
  shot += 1;
  const file = path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await p.screenshot({ path: file, fullPage });
  return file;
}

/** One step of the story; on failure, screenshots every open page and skips the steps after it. */
function step(name, fn, options = {}) {
  it(name, { timeout: 90_000, ...options }, async (t) => {
    if (broken) {
      t.skip(`an earlier step failed: ${broken}`);
      return;
    }
    try {
      await fn(t);
    } catch (e) {
      broken = name;
      const slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 60);
      const label = 'FAILED';
      for (const [who, ctx] of [['participant', participant], ['organiser', organiser]]) {
        for (const [i, p] of (ctx?.pages() ?? []).entries()) {
          await screenshot(p, `${label}-${slug}-${who}${i || ''}`).catch(() => {});
        }
      }
      throw e;
    }
  });
}

/** Submits a form by clicking `button` and waits for the page that the POST leads to. */
async function submit(p, button) {
  const [response] = await Promise.all([
    p.waitForNavigation({ waitUntil: 'load' }),
    button.click(),
  ]);
  return response;
}

const lang = (p) => p.locator('html').getAttribute('lang');
const sessionCookie = async (ctx) =>
  (await ctx.cookies()).find((c) => c.name === 'kontor_session');

/** Opens `url` and expects 200. */
async function open(t, p, url) {
  const res = await p.goto(url);
  assert.equal(res.status(), 200, `GET ${url}`);
  return res;
}

describe('Kontor in a real browser: sign-up in Chinese to approval in German', { concurrency: false }, () => {
  before(async () => {
    // Empty the folder but leave the other test files' subfolders (e.g. matchmaking/) alone.
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const entry of readdirSync(ARTIFACTS, { withFileTypes: true })) {
      if (!entry.isDirectory()) rmSync(path.join(ARTIFACTS, entry.name), { force: true });
    }
    server = await startDemo({ logFile: path.join(ARTIFACTS, 'server.log') });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    participant = await browser.newContext({
      baseURL: server.url,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
      viewport: VIEWPORT,
    });
    organiser = await browser.newContext({
      baseURL: server.url,
      locale: 'en-US',
      timezoneId: 'Europe/Berlin',
      viewport: VIEWPORT,
    });
    for (const ctx of [participant, organiser]) {
      ctx.setDefaultTimeout(15_000);
      ctx.setDefaultNavigationTimeout(30_000);
    }
    page = await participant.newPage();
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  step('the site speaks Chinese to a zh-CN browser', async () => {
    const res = await page.goto('/');
    assert.equal(res.status(), 200);
    assert.equal(await lang(page), 'zh-Hans');
    const nav = page.locator('header nav');
    await nav.getByRole('link', { name: '活动' }).waitFor();
    await nav.getByRole('link', { name: '注册账户' }).waitFor();
    assert.match(await page.locator('main').innerText(), /科隆–贵阳 B2B 对接日/, 'the fair is listed in Chinese');
    await screenshot(page, 'home-zh', { fullPage: false });
  });

  step('on a phone the header stays short and the menu wraps in rows', async () => {
    const phone = await browser.newContext({
      baseURL: server.url,
      locale: 'zh-CN',
      viewport: { width: 390, height: 800 },
    });
    try {
      const p = await phone.newPage();
      await p.goto('/');
      const header = await p.locator('header.top').boundingBox();
      assert.ok(header.height < 170, `header ${header.height} px high on a 390-px screen`);
      // Every menu entry on one line (no word broken over lines), nothing wider than the screen.
      for (const link of await p.locator('header nav a').all()) {
        const lines = await link.evaluate((a) => a.getClientRects().length);
        assert.equal(lines, 1, `${await link.innerText()} is broken over ${lines} lines`);
      }
      const width = await p.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `the page is ${width} px wide`);
      await screenshot(p, 'home-zh-phone', { fullPage: false });
    } finally {
      await phone.close();
    }
  });

  step('the trade fair page in Chinese', async (t) => {
    await open(t, page, `/events/${FAIR}`);
    assert.equal(await lang(page), 'zh-Hans');
    assert.match(await page.locator('h1').innerText(), /科隆–贵阳 B2B 对接日/);
    // Not signed in: the registration panel offers sign-in instead of the form.
    await page.locator(`a[href="/signin?next=/events/${FAIR}"]`).waitFor();
    await screenshot(page, 'event-zh-anonymous', { fullPage: false });
  });

  step('an empty sign-up form shows an accessible error summary', async () => {
    await page.goto('/signup');
    assert.equal(await lang(page), 'zh-Hans');
    // kontor.js pre-fills the zone from the browser: empty it to submit a truly empty form.
    await page.locator('#f-time_zone').fill('');
    const res = await submit(page, page.locator('form[action="/signup"] button[type=submit]'));
    assert.equal(res.status(), 422);

    const summary = page.locator('.error-summary');
    await summary.waitFor();
    assert.equal(await summary.getAttribute('role'), 'alert');
    assert.match(await summary.locator('h2').innerText(), /请更正以下内容/);
    const links = summary.locator('a');
    const hrefs = await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    for (const expected of ['#f-name', '#f-email', '#f-time_zone', '#f-privacy']) {
      assert.ok(hrefs.includes(expected), `error summary links to ${expected}: ${hrefs}`);
    }
    for (const href of hrefs) {
      assert.equal(await page.locator(href).count(), 1, `${href} points at a field`);
    }
    const email = page.locator('#f-email');
    assert.equal(await email.getAttribute('aria-invalid'), 'true');
    assert.match(await email.getAttribute('aria-describedby'), /\be-email\b/);
    await page.locator('#e-email').waitFor();

    // Keyboard: the summary has focus (so screen readers announce it); Tab reaches its first link
    // and Enter follows it to the field.
    const focused = await page.evaluate(() => document.activeElement?.classList.contains('error-summary'));
    assert.ok(focused, 'the error summary has focus after a failed submit');
    await page.keyboard.press('Tab');
    const firstHref = await page.evaluate(() => document.activeElement?.getAttribute('href'));
    assert.equal(firstHref, hrefs[0]);
    await page.keyboard.press('Enter');
    await page.waitForFunction((h) => location.hash === h, firstHref);
    await screenshot(page, 'signup-errors-zh');
  });

  let codeUrl;
  step('sign up in Chinese', async () => {
    await page.goto('/signup');
    assert.equal(await page.locator('#f-locale').inputValue(), 'zh', 'zh pre-selected from the browser');
    await page.locator('#f-name').fill(USER.name);
    await page.locator('#f-email').fill(USER.email);
    await page.locator('#f-time_zone').fill(USER.zone);
    await page.locator('#f-locale').selectOption('zh');
    await page.locator('#f-privacy').check();
    await screenshot(page, 'signup-filled-zh');
    await submit(page, page.locator('form[action="/signup"] button[type=submit]'));

    const url = new URL(page.url());
    assert.equal(url.pathname, '/signin/code');
    assert.equal(url.searchParams.get('email'), USER.email);
    assert.equal(url.searchParams.get('next'), '/profile');
    codeUrl = page.url();
    assert.equal(await sessionCookie(participant), undefined, 'not signed in before the code');
  });

  step('the code page asks for the code, in Chinese, and points to the demo mailbox', async (t) => {
    await open(t, page, codeUrl);
    assert.equal(await lang(page), 'zh-Hans');
    assert.match(await page.locator('h1').innerText(), /输入验证码/);
    await page.locator('#f-code').waitFor();
    const href = await page.locator('main a[href^="/mailbox?to="]').getAttribute('href');
    assert.equal(new URL(href, server.url).searchParams.get('to'), USER.email);
    await screenshot(page, 'code-page-zh');
  });

  let code;
  let link;
  step('read the code and the link in the demo mailbox', async () => {
    await page.goto(`/mailbox?to=${encodeURIComponent(USER.email)}`);
    assert.equal(await lang(page), 'zh-Hans');
    const rows = page.locator('table tbody tr');
    assert.equal(await rows.count(), 1, 'exactly one mail for the newcomer');
    await rows.first().locator('td', { hasText: USER.email }).waitFor();
    await submit(page, rows.first().locator('a[href^="/mailbox/"]'));

    const subject = await page.locator('h1').innerText();
    const body = await page.locator('pre[data-testid=mail-body]').innerText();
    assert.match(body, /验证码/, "the mail is in the user's language (Chinese)");
    const m = /(?<![0-9A-Za-z])(\d{6})(?![0-9A-Za-z])/.exec(body);
    assert.ok(m, `a six-digit code in the mail:\n${body}`);
    code = m[1];
    assert.ok(subject.includes(code), `the subject repeats the code: ${subject}`);
    const l = /https?:\/\/\S+\/auth\/link\?token=[0-9a-f]{64}/.exec(body);
    assert.ok(l, `a sign-in link in the mail:\n${body}`);
    link = l[0];
    assert.ok(link.startsWith(`${server.url}/`), `the link points at this server: ${link}`);
    await page.locator(`ul.links a[href="${link}"]`).waitFor();
    await screenshot(page, 'mail-zh');
  });

  step('a wrong code shows an error and does not sign in', async (t) => {
    await open(t, page, codeUrl);
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
    await page.locator('#f-code').fill(wrong);
    const res = await submit(page, page.locator('form[action="/signin/code"] button[type=submit]'));
    assert.equal(res.status(), 422);
    const error = page.locator('#e-code');
    await error.waitFor();
    assert.equal(await error.getAttribute('role'), 'alert');
    assert.match(await error.innerText(), /验证码不正确/);
    assert.equal(await page.locator('#f-code').getAttribute('aria-invalid'), 'true');
    assert.equal(await sessionCookie(participant), undefined, 'no session after a wrong code');
    // Still anonymous: the header offers sign-in, not the profile.
    await page.locator('header nav a[href="/signin"]').waitFor();
    assert.equal(await page.locator('header nav a[href="/profile"]').count(), 0);
    await screenshot(page, 'code-wrong-zh');
  });

  step('the code from the mail signs in and leads to the profile', async (t) => {
    await open(t, page, codeUrl);
    await page.locator('#f-code').fill(code);
    await submit(page, page.locator('form[action="/signin/code"] button[type=submit]'));
    assert.equal(new URL(page.url()).pathname, '/profile');
    assert.ok(await sessionCookie(participant), 'a session cookie is set');
    assert.equal(await lang(page), 'zh-Hans');
    assert.match(await page.locator('h1').innerText(), /您的个人资料/);
    assert.equal(await page.locator('main p.meta').first().innerText(), USER.email);
    await page.locator('header nav a[href="/profile"]').waitFor();
    assert.equal(await page.locator('header nav a[href="/signin"]').count(), 0);
    await screenshot(page, 'profile-new-zh');
  });

  step('the link from the mail no longer signs in once used', async () => {
    // A second browser: the used link opens, but its button no longer signs in.
    const other = await browser.newContext({ baseURL: server.url, locale: 'zh-CN', viewport: VIEWPORT });
    try {
      const p = await other.newPage();
      await p.goto(link);
      const res = await submit(p, p.locator('form[action="/auth/link"] button[type=submit]'));
      assert.equal(res.status(), 410);
      assert.equal(await lang(p), 'zh-Hans');
      await p.locator('main .error[role=alert]').waitFor();
      assert.equal(await sessionCookie(other), undefined);
      await screenshot(p, 'link-used-zh');
    } finally {
      await other.close();
    }
  });

  step('complete the profile: person and organisation', async () => {
    const person = page.locator('form[action="/profile"]');
    assert.equal(await person.locator('#f-time_zone').inputValue(), USER.zone);
    await person.locator('#f-job_title').fill('国际合作经理');
    await person.locator('input[name=languages][value=zh]').check();
    await person.locator('input[name=languages][value=en]').check();
    await person.locator('#f-phone').fill('+86 851 1234 5678');
    await submit(page, person.locator('button[type=submit]'));
    assert.equal(new URL(page.url()).pathname, '/profile');
    assert.equal(await page.locator('.error-summary').count(), 0);
    assert.equal(await page.locator('#f-job_title').inputValue(), '国际合作经理');

    const org = page.locator('form[action="/profile/organisation"]');
    await org.locator('#f-org_name').fill('贵阳绿氢科技有限公司');
    await org.locator('#f-kind').selectOption('startup');
    await org.locator('#f-country').fill('CN');
    await org.locator('#f-city').fill('贵阳');
    await org.locator('#f-website').fill('https://green-h2.guiyang-e2e.example');
    await org.locator('input[name=sectors][value=hydrogen]').check();
    await org.locator('input[name=sectors][value=environmental-technology]').check();
    await org.locator('#f-description_zh').fill('我们开发用于重型卡车的氢燃料电池系统。');
    await org.locator('#f-description_en').fill('We develop hydrogen fuel-cell systems for heavy trucks.');
    await submit(page, org.locator('button[type=submit]'));
    assert.equal(new URL(page.url()).pathname, '/profile');
    assert.equal(await page.locator('.error-summary').count(), 0, 'no validation errors');

    // Saved for real: a fresh load shows the stored values and the public organisation page.
    await page.reload();
    assert.equal(await page.locator('#f-job_title').inputValue(), '国际合作经理');
    assert.ok(await page.locator('input[name=languages][value=zh]').isChecked());
    assert.equal(await page.locator('#f-org_name').inputValue(), '贵阳绿氢科技有限公司');
    assert.equal(await page.locator('#f-kind').inputValue(), 'startup');
    assert.equal(await page.locator('#f-country').inputValue(), 'CN');
    assert.ok(await page.locator('input[name=sectors][value=hydrogen]').isChecked());
    assert.ok(await page.locator('input[name=sectors][value=environmental-technology]').isChecked());
    assert.equal(await page.locator('#f-description_zh').inputValue(), '我们开发用于重型卡车的氢燃料电池系统。');
    const orgLink = page.locator('main a[href^="/organisations/"]');
    await orgLink.waitFor();
    await screenshot(page, 'profile-saved-zh');
  });

  step("the organisation's public page shows the profile", async (t) => {
    await page.goto('/profile');
    const href = await page.locator('main a[href^="/organisations/"]').getAttribute('href');
    await open(t, page, href);
    assert.equal(await lang(page), 'zh-Hans');
    await page.getByText('贵阳绿氢科技有限公司').first().waitFor();
    await page.getByText('我们开发用于重型卡车的氢燃料电池系统。').waitFor();
    // The country is named in the page's language (by the server: no JS needed).
    assert.match(await page.locator('main p.meta').first().textContent(), /中国/);
    await screenshot(page, 'organisation-public-zh');
  });

  step('saving the profile shows a "saved" notice', async (t) => {
    await page.goto('/profile');
    await submit(page, page.locator('form[action="/profile"] button[type=submit]'));
    assert.match(page.url(), /\/profile\?saved=1$/);
    const notice = page.locator('main [role=status]');
    await screenshot(page, 'profile-after-save-zh', { fullPage: false });
    assert.equal(await notice.count(), 1, 'a [role=status] notice after saving');
    assert.match(await notice.innerText(), /已保存/);
  });

  const MESSAGE = '希望与科隆的氢能企业洽谈合作。';
  step('register for the trade fair: pending approval', async (t) => {
    await open(t, page, `/events/${FAIR}`);
    assert.equal(await lang(page), 'zh-Hans');
    const form = page.locator(`form[action="/events/${FAIR}/register"]`);
    await form.waitFor();
    await form.locator('input[name=role][value=exhibitor]').check();
    await form.locator('#f-message').fill(MESSAGE);
    await screenshot(page, 'event-register-form-zh');
    await submit(page, form.locator('button[type=submit]'));
    assert.equal(new URL(page.url()).pathname, `/events/${FAIR}`);

    const status = page.locator('[data-testid=registration-status]');
    await status.waitFor();
    const text = await status.innerText();
    assert.match(text, /待审核/);
    assert.match(text, /参展商/);
    assert.equal(await status.getAttribute('class'), 'badge pending');
    await screenshot(page, 'event-pending-zh');

    // The participant keeps "my registrations" open while the organiser decides.
    await page.goto('/me/registrations');
    assert.equal(await lang(page), 'zh-Hans');
    const card = page.locator(`li[data-event="${FAIR}"]`);
    assert.equal((await card.locator('[data-testid=registration-status]').innerText()).trim(), '待审核');
    assert.match(await card.locator('p.meta').innerText(), /参展商/);
    await screenshot(page, 'my-registrations-pending-zh');
  });

  step('the organiser signs in with a password and sees German', async () => {
    const op = await organiser.newPage();
    await op.goto('/signin');
    assert.equal(await lang(op), 'en', 'anonymous en-US browser gets English');
    await op.locator('#f-email').fill(ORGANISER);
    await op.locator('form[action="/signin"] details > summary').click();
    await op.locator('#f-password').fill(PASSWORD);
    await submit(op, op.locator('form[action="/signin"] button[type=submit]'));
    assert.notEqual(new URL(op.url()).pathname, '/signin');
    assert.ok(await sessionCookie(organiser), 'the organiser has a session');
    assert.equal(await lang(op), 'de', "the organiser's account language wins over the browser's");
  });

  step('the organiser approves the registration in German', async () => {
    const [op] = organiser.pages();
    const res = await op.goto(`/events/${FAIR}/participants`);
    assert.equal(res.status(), 200);
    assert.equal(await lang(op), 'de');
    assert.match(await op.locator('h1').innerText(), /^Teilnehmende: Köln–Guiyang B2B-Tage/);
    await op.locator('header button[name=to][value=de][aria-current=true]').waitFor();

    const row = op.locator(`tr[data-email="${USER.email}"]`);
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /李娜/);
    // The country code CN, named in the page's language.
    assert.match(await row.innerText(), /贵阳绿氢科技有限公司 \(China\)/);
    assert.match(await row.innerText(), /Aussteller/);
    assert.equal(await row.locator('q').innerText(), MESSAGE);
    assert.equal((await row.locator('.badge').innerText()).trim(), 'wartet auf Freigabe');
    const approve = row.locator('button[name=decision][value=approve]');
    assert.equal(await approve.innerText(), 'Bestätigen');
    await row.scrollIntoViewIfNeeded();
    await screenshot(op, 'participants-before-de', { fullPage: false });

    await submit(op, approve);
    assert.equal(new URL(op.url()).pathname, `/events/${FAIR}/participants`);
    assert.equal(await lang(op), 'de');
    const after = op.locator(`tr[data-email="${USER.email}"]`);
    assert.equal((await after.locator('.badge').innerText()).trim(), 'bestätigt');
    assert.equal(await after.locator('button[name=decision][value=approve]').count(), 0);
    await after.scrollIntoViewIfNeeded();
    await screenshot(op, 'participants-approved-de', { fullPage: false });
  });

  step('the participant sees the approval after reloading', async () => {
    assert.equal(new URL(page.url()).pathname, '/me/registrations');
    const status = page.locator(`li[data-event="${FAIR}"] [data-testid=registration-status]`);
    assert.equal((await status.innerText()).trim(), '待审核', 'the page opened before the decision is stale');
    await page.reload();
    assert.equal(await lang(page), 'zh-Hans');
    assert.equal((await status.innerText()).trim(), '已批准');
    assert.equal(await status.getAttribute('class'), 'badge approved');
    await screenshot(page, 'my-registrations-approved-zh');

    // The decision also went out by mail, in Chinese.
    await page.goto(`/mailbox?to=${encodeURIComponent(USER.email)}`);
    await page.locator('table tbody tr a', { hasText: '报名已确认' }).waitFor();
  });

  step('the event page shows the approval', async (t) => {
    await open(t, page, `/events/${FAIR}`);
    assert.equal(await lang(page), 'zh-Hans');
    const status = page.locator('[data-testid=registration-status]');
    assert.match(await status.innerText(), /已批准/);
    assert.equal(await status.getAttribute('class'), 'badge approved');
    assert.equal(await page.locator(`form[action="/events/${FAIR}/register"]`).count(), 0);
    await screenshot(page, 'event-approved-zh');
  });
});
