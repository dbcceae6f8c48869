// End-to-end in a real browser (Debian's Chromium driven by playwright-core), run by `node --test`:
//
//   Two participants — one with the UI in German in Europe/Berlin, one in Chinese in
//   Asia/Shanghai — find each other by search, request and accept a meeting; the organiser runs
//   the optimiser and publishes; both agendas show the same meeting at the right two local
//   times; the downloaded ICS files, parsed by a real iCalendar parser (Python's `icalendar`),
//   hold the same instant.
//
// The featured participants come from the demo's list of logins on stdout. Screenshots of every
// major step (and of every open page when a step fails) go to tests/browser/artifacts/matchmaking/.
// Run with tests/browser/run.sh.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { startDemo } from './server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.join(here, 'artifacts', 'matchmaking');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const FAIR = 'hydrogen-life-sciences-b2b-days';
const FAIR_ZONE = 'Europe/Berlin';
const ORGANISER = 'organiser@kontor.example';
const PASSWORD = 'kontor-demo-2027';
const VIEWPORT = { width: 1280, height: 800 };
const SLOT_MINUTES = 30;

let server;
let browser;
let organiser; // BrowserContext, en-US: the organiser's account speaks German
let demoStartedAt;
let shot = 0;
let broken = null; // the first failed step: later steps are skipped, not failed again

// The two featured participants; `ctx`, `page`, ids and names are filled in as the story goes.
const de = {
  label: 'de',
  marker: 'Participant (Deutsch, Europe/Berlin)',
  zone: 'Europe/Berlin',
  city: 'Berlin',
  locale: 'de-DE',
  htmlLang: 'de',
  role: 'exhibitor',
};
const zh = {
  label: 'zh',
  marker: 'Participant (中文, Asia/Shanghai)',
  zone: 'Asia/Shanghai',
  city: 'Shanghai',
  locale: 'zh-CN',
  htmlLang: 'zh-Hans',
  role: 'visitor',
};

async function screenshot(p, name, { fullPage = true } = {}) {
  shot += 1;
  const file = path.join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await p.screenshot({ path: file, fullPage });
  return file;
}

/**
 * One step of the story; on failure, screenshots every open page and skips the steps after it.
 * A step with `check: true` only looks (it changes nothing the story needs): when it fails, the
 * story goes on, so that one failure does not hide the ones after it.
 */
function step(name, fn, { check = false, ...options } = {}) {
  it(name, { timeout: 90_000, ...options }, async (t) => {
    if (broken) {
      t.skip(`an earlier step failed: ${broken}`);
      return;
    }
    try {
      await fn(t);
    } catch (e) {
      if (!check) broken = name;
      const slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 60);
      for (const [who, ctx] of [['de', de.ctx], ['zh', zh.ctx], ['organiser', organiser]]) {
        for (const [i, p] of (ctx?.pages() ?? []).entries()) {
          await screenshot(p, `FAILED-${slug}-${who}${i || ''}`).catch(() => {});
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

/** Opens `url` and expects 200. */
async function open(p, url) {
  const res = await p.goto(url);
  assert.equal(res.status(), 200, `GET ${url}`);
  return res;
}

const lang = (p) => p.locator('html').getAttribute('lang');
const pathOf = (p) => new URL(p.url()).pathname;

/** Signs in with the demo password on a fresh page of `ctx`; returns the page. */
async function signIn(ctx, email) {
  const p = await ctx.newPage();
  await open(p, '/signin');
  await p.locator('#f-email').fill(email);
  await p.locator('form[action="/signin"] details > summary').click();
  await p.locator('#f-password').fill(PASSWORD);
  await submit(p, p.locator('form[action="/signin"] button[type=submit]'));
  assert.notEqual(pathOf(p), '/signin', `${email} is signed in`);
  assert.ok((await ctx.cookies()).some((c) => c.name === 'kontor_session'), `${email} has a session`);
  return p;
}

/** "HH:MM" of the instant `ms` in `zone`. */
function hhmm(ms, zone) {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(ms));
}

/** "YYYY-MM-DD" of the instant `ms` in `zone`. */
function ymd(ms, zone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(ms));
}

/** Adds `days` to the calendar date `date` ("YYYY-MM-DD"). */
function addDays(date, days) {
  const d = new Date(`${date}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/**
 * Parses an iCalendar file with Python's `icalendar` and returns its VEVENTs as
 * `{ uid, start, end, summary, startIsUtc }` (start and end as ISO strings in UTC).
 */
function parseIcs(file) {
  const script = `
import icalendar, json, sys, datetime
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
out = []
for ev in cal.walk('VEVENT'):
    start = ev.decoded('DTSTART')
    end = ev.decoded('DTEND') if 'DTEND' in ev else start + ev.decoded('DURATION')
    assert isinstance(start, datetime.datetime), 'DTSTART is a date-time, not a date'
    out.append({
        'uid': str(ev.get('UID')),
        'summary': str(ev.get('SUMMARY', '')),
        'startIsUtc': start.utcoffset() == datetime.timedelta(0) and ev.get('DTSTART').to_ical().endswith(b'Z'),
        'start': start.astimezone(datetime.timezone.utc).isoformat(),
        'end': end.astimezone(datetime.timezone.utc).isoformat(),
    })
print(json.dumps(out))
`;
  const stdout = execFileSync('python3', ['-c', script, file], { encoding: 'utf8' });
  return JSON.parse(stdout);
}

describe('Matchmaking in a real browser: German in Berlin meets Chinese in Shanghai', { concurrency: false }, () => {
  before(async () => {
    rmSync(ARTIFACTS, { recursive: true, force: true });
    mkdirSync(ARTIFACTS, { recursive: true });
    demoStartedAt = Date.now();
    server = await startDemo({ logFile: path.join(ARTIFACTS, 'server.log') });
    const logins = await server.logins();
    for (const who of [de, zh]) {
      const login = logins.find((l) => l.role === who.marker);
      assert.ok(login, `the demo prints a login "${who.marker}":\n${server.output()}`);
      who.email = login.email;
    }
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
    for (const who of [de, zh]) {
      who.ctx = await browser.newContext({
        baseURL: server.url,
        locale: who.locale,
        timezoneId: who.zone,
        viewport: VIEWPORT,
      });
    }
    organiser = await browser.newContext({
      baseURL: server.url,
      locale: 'en-US',
      timezoneId: FAIR_ZONE,
      viewport: VIEWPORT,
    });
    for (const ctx of [de.ctx, zh.ctx, organiser]) {
      ctx.setDefaultTimeout(15_000);
      ctx.setDefaultNavigationTimeout(30_000);
    }
  }, { timeout: 120_000 });

  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  step('both participants sign in and get their account language', async () => {
    for (const who of [de, zh]) {
      who.page = await signIn(who.ctx, who.email);
      assert.equal(await lang(who.page), who.htmlLang, `${who.email}: the page language`);
    }
  });

  step('each profile: time zone, organisation and person page', async () => {
    for (const who of [de, zh]) {
      const p = who.page;
      await open(p, '/profile');
      assert.equal(await p.locator('#f-time_zone').inputValue(), who.zone);
      who.name = await p.locator('#f-name').inputValue();
      who.org = await p.locator('#f-org_name').inputValue();
      const orgHref = await p.locator('main a[href^="/organisations/"]').getAttribute('href');
      await open(p, orgHref);
      who.orgHref = orgHref;
      const people = p.locator('main a[href^="/people/"]', { hasText: who.name });
      assert.equal(await people.count(), 1, `${who.name} is listed on their organisation's page`);
      who.personHref = await people.getAttribute('href');
      who.id = who.personHref.split('/').pop();
      await screenshot(p, `organisation-${who.label}`);
    }
    assert.match(zh.org, /\p{Script=Han}/u, 'the Chinese organisation has a Chinese name');
    assert.match(zh.org, /\(([A-Za-z]+) ([A-Za-z]+) Co\., Ltd\.\)/, 'and a pinyin one');
  });

  step('both register for the trade fair: pending approval', async () => {
    for (const who of [de, zh]) {
      const p = who.page;
      await open(p, `/events/${FAIR}`);
      const form = p.locator(`form[action="/events/${FAIR}/register"]`);
      await form.locator(`input[name=role][value=${who.role}]`).check();
      await submit(p, form.locator('button[type=submit]'));
      assert.equal(pathOf(p), `/events/${FAIR}`);
      const status = p.locator('[data-testid=registration-status]');
      assert.equal(await status.getAttribute('class'), 'badge pending');
      await screenshot(p, `registered-${who.label}`, { fullPage: false });
    }
  });

  step('the organiser approves both', async () => {
    const op = await signIn(organiser, ORGANISER);
    await open(op, `/events/${FAIR}/participants`);
    assert.equal(await lang(op), 'de');
    for (const who of [de, zh]) {
      const row = op.locator(`tr[data-email="${who.email}"]`);
      assert.equal(await row.count(), 1, `${who.email} is listed`);
      await submit(op, row.locator('button[name=decision][value=approve]'));
      assert.equal(pathOf(op), `/events/${FAIR}/participants`);
      assert.equal(
        await op.locator(`tr[data-email="${who.email}"] .badge`).getAttribute('class'),
        'badge approved',
        `${who.email} approved`,
      );
    }
    await screenshot(op, 'participants-approved', { fullPage: false });
    for (const who of [de, zh]) {
      await open(who.page, `/events/${FAIR}`);
      assert.equal(
        await who.page.locator('[data-testid=registration-status]').getAttribute('class'),
        'badge approved',
      );
    }
  });

  /** Searches the marketplace on `who`'s page and returns the hits' hrefs. */
  async function search(who, query, params = '') {
    const p = who.page;
    await open(p, `/marketplace${params}`);
    assert.equal(await lang(p), who.htmlLang);
    await p.locator('#f-q').fill(query);
    await submit(p, p.locator('form[role=search] .search button[type=submit]'));
    assert.equal(pathOf(p), '/marketplace');
    assert.equal(new URL(p.url()).searchParams.get('q'), query);
    return p.locator('[data-testid=hit] a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  }

  /**
   * On `who`'s page: opens the marketplace with the facets in `params` ticked, types `query`
   * (if any) and searches; returns the hrefs of the hits on every page of results (and keeps
   * the title shown for each in `titles`).
   */
  const titles = new Map();
  async function searchAllPages(who, params, query) {
    const p = who.page;
    await open(p, `/marketplace?${params}`);
    assert.equal(await lang(p), who.htmlLang);
    if (query) {
      await p.locator('#f-q').fill(query);
      await submit(p, p.locator('form[role=search] .search button[type=submit]'));
      const url = new URL(p.url());
      assert.equal(url.searchParams.get('q'), query);
      for (const [k, v] of new URLSearchParams(params)) {
        assert.ok(url.searchParams.getAll(k).includes(v), `the search keeps ${k}=${v}: ${url}`);
      }
    }
    const hrefs = [];
    for (let page = 0; page < 30; page += 1) {
      const hits = await p.locator('[data-testid=hit] a').evaluateAll((as) =>
        as.map((a) => ({ href: a.getAttribute('href'), title: a.textContent.trim() })),
      );
      for (const hit of hits) titles.set(hit.href, hit.title);
      hrefs.push(...hits.map((hit) => hit.href));
      const next = p.locator(`nav.pager a[href*="page=${page + 1}"]`);
      if ((await next.count()) === 0) break;
      await submit(p, next);
    }
    return hrefs;
  }

  step('each finds the other among the fair\'s participants by a word in their own language', async () => {
    // The word: the partner's sector as the searcher reads it on the partner's organisation page
    // ("Wasserstoff" for the German, e.g. "能源" for the Chinese participant).
    const failures = [];
    for (const [who, partner, country] of [[de, zh, 'CN'], [zh, de, 'DE']]) {
      await open(who.page, partner.orgHref);
      const word = (await who.page.locator('main p.tags .tag').first().innerText()).trim();
      assert.ok(word, `a sector tag on ${partner.org}`);
      const hrefs = await searchAllPages(who, `event=${FAIR}&kind=person&country=${country}`, word);
      await screenshot(who.page, `search-own-language-${who.label}`);
      if (!hrefs.includes(partner.personHref)) {
        failures.push(
          `${who.label}: "${word}" (${partner.org}'s sector, in ${who.label}) among the fair's people from ${country} ` +
            `does not find ${partner.name} (${partner.personHref}); ${hrefs.length} hits`,
        );
      }
    }
    assert.deepEqual(failures, [], 'each participant finds the other by a word in their own language');
  }, { check: true });

  step('the German participant finds the Chinese one by the pinyin of the company name', async () => {
    const pinyin = /\(([A-Za-z]+ [A-Za-z]+) Co\., Ltd\.\)/.exec(zh.org)[1]; // e.g. "Beijing Boyuan"
    const hrefs = await search(de, pinyin);
    assert.ok(hrefs.includes(zh.personHref), `"${pinyin}" finds ${zh.name} (${zh.personHref}): ${hrefs}`);
    assert.ok(hrefs.includes(zh.orgHref), `"${pinyin}" finds ${zh.org}: ${hrefs}`);
    await screenshot(de.page, 'search-de');
    await submit(de.page, de.page.locator(`[data-testid=hit] a[href="${zh.personHref}"]`));
    assert.equal(await de.page.locator('main h1').innerText(), zh.name);
    await de.page.locator(`main a[href="${zh.orgHref}"]`).waitFor();
    await screenshot(de.page, 'person-zh-seen-by-de');
  });

  step('the Chinese participant finds the German one by the company name', async () => {
    const word = de.org.split(' ')[0]; // e.g. "Ufertal"
    const hrefs = await search(zh, word);
    assert.ok(hrefs.includes(de.personHref), `"${word}" finds ${de.name} (${de.personHref}): ${hrefs}`);
    await screenshot(zh.page, 'search-zh');
    await submit(zh.page, zh.page.locator(`[data-testid=hit] a[href="${de.personHref}"]`));
    assert.equal(await zh.page.locator('main h1').innerText(), de.name);
    await screenshot(zh.page, 'person-de-seen-by-zh');
    // The German participant's opportunity, as the request form offers it to the Chinese one
    // (once a request exists between them, the form leads to it instead).
    await open(zh.page, `/events/${FAIR}/people/${de.id}/request`);
    const options = await zh.page.locator('select[name=opportunity] option').evaluateAll((os) =>
      os.map((o) => o.value).filter(Boolean),
    );
    assert.equal(options.length, 1, `one opportunity of ${de.name}`);
    de.opportunity = { value: options[0] };
  });

  const MESSAGE = 'Wir suchen Partner für Wasserstofftechnik in China – gerne ein Gespräch in Köln.';
  step('the German participant requests a meeting', async () => {
    const p = de.page;
    await open(p, `/events/${FAIR}/people`);
    const link = p.locator(`a[href="/events/${FAIR}/people/${zh.id}/request"]`);
    assert.equal(await link.count(), 1, `${zh.name} can be asked for a meeting`);
    await submit(p, link);
    assert.equal(await lang(p), 'de');
    assert.match(await p.locator('main h1').innerText(), new RegExp(zh.name.replace(/[()]/g, '\\$&')));
    const form = p.locator(`form[action="/events/${FAIR}/people/${zh.id}/request"]`);
    await form.locator('textarea[name=message]').fill(MESSAGE);
    await form.locator('select[name=priority]').selectOption('must');
    // The partner's published opportunity is offered as the topic.
    const options = await form.locator('select[name=opportunity] option').evaluateAll((os) =>
      os.map((o) => ({ value: o.value, text: o.textContent.trim() })).filter((o) => o.value),
    );
    assert.equal(options.length, 1, `one opportunity of ${zh.name}: ${JSON.stringify(options)}`);
    await form.locator('select[name=opportunity]').selectOption(options[0].value);
    zh.opportunity = options[0];
    await screenshot(p, 'request-form-de');
    await submit(p, form.locator('button[type=submit]'));
    assert.equal(pathOf(p), `/events/${FAIR}/meetings`);
    const card = p.locator('li[data-request]', { hasText: zh.name });
    assert.equal(await card.count(), 1, 'the request is listed');
    assert.equal(await card.locator('[data-testid=request-status]').getAttribute('class'), `badge pending`);
    assert.equal(await card.locator('q').innerText(), MESSAGE);
    assert.equal(await card.getByText(zh.email).count(), 0, 'no contact details before acceptance');
    await screenshot(p, 'request-sent-de');
  });

  step("the opportunity's page shows the German participant where their request stands", async () => {
    const p = de.page;
    await open(p, `/opportunities/${zh.opportunity.value}`);
    await p.locator(`main a[href="${zh.personHref}"]`).waitFor();
    // Asked already: the request's state and the way to it, not a second form.
    const open_ = p.locator('main [data-testid=open-request]');
    assert.match(await open_.innerText(), /Gesprächsanfrage: wartet auf Antwort/);
    assert.equal(await p.locator(`main a[href^="/events/${FAIR}/people/${zh.id}/request"]`).count(), 0);
    await screenshot(p, 'opportunity-zh-seen-by-de');
  });

  step("the fair's marketplace lists each participant's opportunity", async () => {
    // Asked already: the form to ask again leads to the request instead.
    await open(zh.page, `/events/${FAIR}/people/${de.id}/request`);
    assert.equal(pathOf(zh.page), `/events/${FAIR}/meetings`);
    await zh.page.locator('main li[data-request]', { hasText: de.name }).waitFor();
    const failures = [];
    for (const [who, partner, country] of [[de, zh, 'CN'], [zh, de, 'DE']]) {
      // Searched by its title as the reader sees it on its page.
      const href = `/opportunities/${partner.opportunity.value}`;
      await open(who.page, href);
      const title = (await who.page.locator('main h1').innerText()).trim();
      const everywhere = await searchAllPages(who, `kind=opportunity&country=${country}`, title);
      assert.ok(everywhere.includes(href), `"${title}" finds ${href} in the marketplace`);
      const atTheFair = await searchAllPages(who, `event=${FAIR}&kind=opportunity&country=${country}`, title);
      await screenshot(who.page, `marketplace-fair-opportunities-${who.label}`, { fullPage: false });
      if (!atTheFair.includes(href)) {
        failures.push(
          `${who.label}: "${title}" finds ${partner.name}'s opportunity ${href} in the marketplace, ` +
            `but not among the fair's (/marketplace?event=${FAIR}: ${atTheFair.length} hits)`,
        );
      }
    }
    assert.deepEqual(failures, [], "an approved participant's opportunity belongs to the fair's marketplace");
  }, { check: true });

  step('a hit shows the opportunity\'s title in the reader\'s language, as its page does', async () => {
    // The Chinese participant's own opportunity has a Chinese and an English title.
    const p = zh.page;
    const href = `/opportunities/${zh.opportunity.value}`;
    await open(p, href);
    const title = (await p.locator('main h1').innerText()).trim();
    assert.match(title, /\p{Script=Han}/u, `the opportunity's page shows the Chinese title: ${title}`);
    const hrefs = await searchAllPages(zh, 'kind=opportunity&country=CN', title);
    assert.ok(hrefs.includes(href), `searching for "${title}" finds ${href}`);
    await screenshot(p, 'search-own-opportunity-zh', { fullPage: false });
    assert.equal(titles.get(href), title, `the hit for ${href} is titled in Chinese, as on its page`);
  }, { check: true });

  step('the Chinese participant accepts; both see the contact details', async () => {
    const p = zh.page;
    await open(p, `/events/${FAIR}/meetings`);
    assert.equal(await lang(p), 'zh-Hans');
    const card = p.locator('li[data-request]', { hasText: de.name });
    assert.equal(await card.count(), 1, 'the incoming request is listed');
    assert.equal(await card.locator('q').innerText(), MESSAGE);
    assert.equal(await card.getByText(de.email).count(), 0, 'no contact details before acceptance');
    await screenshot(p, 'request-incoming-zh');
    await submit(p, card.locator(`form[action$="/accept"] button`));
    assert.equal(pathOf(p), `/events/${FAIR}/meetings`);
    const accepted = p.locator('li[data-request]', { hasText: de.name });
    assert.equal(await accepted.locator('[data-testid=request-status]').getAttribute('class'), 'badge accepted');
    await accepted.locator(`a[href="mailto:${de.email}"]`).waitFor();
    await screenshot(p, 'request-accepted-zh');

    await open(de.page, `/events/${FAIR}/meetings`);
    const mine = de.page.locator('li[data-request]', { hasText: zh.name });
    assert.equal(await mine.locator('[data-testid=request-status]').getAttribute('class'), 'badge accepted');
    await mine.locator(`a[href="mailto:${zh.email}"]`).waitFor();
    await screenshot(de.page, 'request-accepted-de');
  });

  step('before publishing, the schedule page does not say "published"', async () => {
    const [op] = organiser.pages();
    await open(op, `/events/${FAIR}/schedule`);
    const notice = op.locator('[data-testid=published]');
    const text = (await notice.count()) ? await notice.innerText() : '';
    assert.equal(text, '', 'no "published" notice before anything was published');
  }, { check: true });

  step('the organiser runs the optimiser and publishes', async () => {
    const [op] = organiser.pages();
    await open(op, `/events/${FAIR}/participants`);
    await submit(op, op.locator(`main a[href="/events/${FAIR}/schedule"]`));
    assert.equal(pathOf(op), `/events/${FAIR}/schedule`);
    assert.equal(await lang(op), 'de');
    // The demo comes with many accepted requests between other participants; ours is one of them.
    const lead = op.locator('main h1 + p');
    const before = /^(\d+) angenommene Anfragen; 0 Gespräche stehen in der veröffentlichten Agenda/.exec(await lead.innerText());
    assert.ok(before, `nothing published yet: ${await lead.innerText()}`);
    const accepted = Number(before[1]);
    assert.ok(accepted >= 1, 'at least our accepted request');
    await op.locator('#f-tables').fill('100');
    await op.locator('#f-seconds').fill('3');
    await screenshot(op, 'schedule-form');
    await submit(op, op.locator(`form[action="/events/${FAIR}/schedule/run"] button[type=submit]`));
    assert.equal(pathOf(op), `/events/${FAIR}/schedule`);
    // While it runs the page reads its progress every second (a reload without JS).
    if (await op.locator('[data-testid=progress]').count()) {
      await screenshot(op, 'schedule-running', { fullPage: false });
    }
    await op.locator('[data-testid=draft-meetings]').waitFor({ timeout: 60_000 });
    assert.equal(await op.locator('[data-testid=progress]').count(), 0);
    const meetings = Number((await op.locator('[data-testid=draft-meetings]').innerText()).trim());
    assert.ok(meetings >= 1 && meetings <= accepted, `the draft holds 1..${accepted} meetings: ${meetings}`);
    assert.match(await op.locator('[data-testid=draft-gap]').innerText(), /^\d+\.\d\d %/);
    const pair = `${de.name} – ${zh.name}`;
    assert.equal(await op.getByText(pair, { exact: false }).count(), 0, `${pair} is not among the unscheduled`);
    await screenshot(op, 'schedule-draft');
    // Publishing asks first, with what it will do.
    let asked = '';
    op.once('dialog', (d) => { asked = d.message(); d.accept(); });
    await submit(op, op.locator(`form[action="/events/${FAIR}/schedule/publish"] button[type=submit]`));
    assert.match(asked, new RegExp(`^${meetings} Gespräche veröffentlichen\\? 0 veröffentlichte Gespräche werden auf eine andere Zeit`));
    assert.equal(pathOf(op), `/events/${FAIR}/schedule`);
    await op.locator('[data-testid=published]').waitFor();
    assert.equal(
      await lead.innerText(),
      `${accepted} angenommene Anfragen; ${meetings} Gespräche stehen in der veröffentlichten Agenda.`,
    );
    await screenshot(op, 'schedule-published');
  });

  step('after publishing, the notice counts the two participants notified', async () => {
    const [op] = organiser.pages();
    const notice = op.locator('[data-testid=published]');
    const notified = new URL(op.url()).searchParams.get('published');
    assert.match(notified ?? '', /^\d+$/, `the redirect after publishing carries the count: ${op.url()}`);
    assert.ok(Number(notified) >= 2, 'at least our two participants were notified');
    assert.equal(await notice.innerText(), `Veröffentlicht: ${notified} Teilnehmende wurden benachrichtigt.`);
  }, { check: true });

  step('the agendas and the downloaded ICS files hold the same meeting at the right local times', async () => {
    for (const who of [de, zh]) {
      const p = who.page;
      await open(p, `/events/${FAIR}/meetings`);
      const link = p.locator(`a[download][href="/events/${FAIR}/agenda.ics"]`);
      assert.equal(await link.count(), 1, 'a download link for the agenda');
      const res = await who.ctx.request.get(await link.getAttribute('href'));
      assert.equal(res.status(), 200);
      assert.match(res.headers()['content-type'], /^text\/calendar/);
      const file = path.join(ARTIFACTS, `agenda-${who.label}.ics`);
      writeFileSync(file, await res.body());
      const events = parseIcs(file);
      assert.equal(events.length, 1, `one meeting in ${who.label}'s agenda.ics: ${JSON.stringify(events)}`);
      who.ics = events[0];
      assert.ok(who.ics.startIsUtc, `DTSTART in UTC: ${JSON.stringify(who.ics)}`);
      const minutes = (Date.parse(who.ics.end) - Date.parse(who.ics.start)) / 60_000;
      assert.equal(minutes, SLOT_MINUTES, 'a meeting lasts one slot');
    }
    assert.equal(de.ics.uid, zh.ics.uid, 'both calendars hold the same meeting (UID)');
    assert.equal(de.ics.start, zh.ics.start, 'at the same instant');

    // The instant lies in one of the fair's sessions (Berlin time), 45 or 46 days from today.
    const instant = Date.parse(de.ics.start);
    const berlin = hhmm(instant, 'Europe/Berlin');
    const shanghai = hhmm(instant, 'Asia/Shanghai');
    const day = ymd(instant, FAIR_ZONE);
    // "Today" in Berlin when the demo started (the test may run across midnight).
    const inSession = [...new Set([ymd(demoStartedAt, FAIR_ZONE), ymd(Date.now(), FAIR_ZONE)])].some((today) =>
      (day === addDays(today, 45) && berlin >= '09:00' && berlin < '12:30' && !(berlin >= '10:30' && berlin < '11:00')) ||
      (day === addDays(today, 46) && berlin >= '09:00' && berlin < '12:00'),
    );
    assert.ok(inSession, `the meeting (${de.ics.start} = ${day} ${berlin} Berlin) lies in one of the fair's sessions`);
    const offset = (Date.parse(`${ymd(instant, 'Asia/Shanghai')}T${shanghai}:00Z`) - Date.parse(`${day}T${berlin}:00Z`)) / 3_600_000;
    assert.ok(offset === 6 || offset === 7, `Shanghai is 6 or 7 hours ahead of Berlin, not ${offset}`);

    const expected = {
      de: `${berlin} Berlin · ${shanghai} Shanghai`,
      // Cities in the reader's language.
      zh: `${shanghai} 上海 · ${berlin} 柏林`,
    };
    for (const [who, partner] of [[de, zh], [zh, de]]) {
      const p = who.page;
      const rows = p.locator('[data-testid=agenda-row]');
      assert.equal(await rows.count(), 1, `one meeting on ${who.label}'s agenda`);
      const row = rows.first();
      assert.match(await row.innerText(), new RegExp(partner.name.replace(/[()]/g, '\\$&')));
      assert.equal((await row.locator('td strong').innerText()).trim(), expected[who.label], `${who.label}'s agenda`);
      // The day in the reader's own zone and language.
      const dayOfMonth = String(Number(ymd(instant, who.zone).slice(8)));
      assert.match(await row.locator('td').first().innerText(), new RegExp(`\\b${dayOfMonth}\\b|${dayOfMonth}日`));
      await row.scrollIntoViewIfNeeded();
      await screenshot(p, `agenda-${who.label}`);
    }
  });

  step('the printed agenda shows the meetings and leaves out navigation, buttons and requests', async () => {
    const p = de.page;
    await p.emulateMedia({ media: 'print' });
    try {
      assert.ok(await p.locator('[data-testid=agenda-row]').first().isVisible(), 'the meeting is printed');
      assert.ok(await p.locator('[data-testid=agenda-row] a[href^="/people/"]').first().isVisible(),
        'with the partner');
      for (const hidden of ['header.top', 'footer.bottom', 'a.button', '.no-print']) {
        const first = p.locator(hidden).first();
        assert.equal(await first.isVisible(), false, `${hidden} is not printed`);
      }
      const pdf = await p.pdf({ format: 'A4' });
      assert.ok(pdf.length > 1000, 'Chromium prints the agenda to PDF');
      writeFileSync(path.join(ARTIFACTS, 'agenda-de.pdf'), pdf);
      await screenshot(p, 'agenda-de-print');
    } finally {
      await p.emulateMedia({ media: 'screen' });
    }
  });

  step('on a phone the list of people fits the screen, with its request buttons', async () => {
    const p = await zh.ctx.newPage();
    await p.setViewportSize({ width: 390, height: 844 });
    try {
      await open(p, `/events/${FAIR}/people`);
      const width = await p.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `no sideways scrolling: the page is ${width} px wide`);
      const button = p.locator('main table a.button').first();
      const box = await button.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `the first request button is on screen: ${JSON.stringify(box)}`);
      await screenshot(p, 'people-zh-phone', { fullPage: false });
    } finally {
      await p.close();
    }
  }, { check: true });

  step('the organiser edits the fair: the form saves unchanged, and keeps booked slots', async () => {
    const [op] = organiser.pages();
    const sessions = async () => {
      await open(op, `/events/${FAIR}/edit`);
      return op.locator('input[name^=session_]').evaluateAll((els) => els.map((e) => `${e.name}=${e.value}`));
    };
    const shown = await sessions();
    assert.ok(shown.some((v) => /^session_start_0=\d\d:\d\d$/.test(v)), shown.join(' '));
    // Saved as shown: nothing the form cannot hold is lost, and the booked meetings keep their slots.
    await submit(op, op.locator(`form[action="/events/${FAIR}/edit"] button[type=submit]`));
    assert.equal(pathOf(op), `/events/${FAIR}`);
    assert.deepEqual(await sessions(), shown, 'the sessions read back as they were');

    // Starting every session five minutes later moves every slot: refused while meetings are booked.
    for (const input of await op.locator('input[name^=session_start_]').all()) {
      const v = await input.inputValue();
      if (!v) continue;
      const [h, m] = v.split(':').map(Number);
      await input.fill(`${String(h).padStart(2, '0')}:${String(m + 5).padStart(2, '0')}`);
    }
    const title = op.locator('#f-title_de');
    const oldTitle = await title.inputValue();
    await title.fill(`${oldTitle} (neu)`);
    const refused = await submit(op, op.locator(`form[action="/events/${FAIR}/edit"] button[type=submit]`));
    assert.equal(refused.status(), 422);
    assert.match(await op.locator('main').innerText(), /Session 1 · Tag: \d+ gebuchte Gespräche liegen in Slots, die diese Änderung entfernt \(das erste am /);
    assert.equal(await title.inputValue(), `${oldTitle} (neu)`, 'the input is kept');
    await screenshot(op, 'event-edit-refused-de');
    assert.deepEqual(await sessions(), shown, 'nothing was saved');

    // A new title alone is saved.
    await op.locator('#f-title_de').fill(`${oldTitle} (neu)`);
    await submit(op, op.locator(`form[action="/events/${FAIR}/edit"] button[type=submit]`));
    assert.equal(pathOf(op), `/events/${FAIR}`);
    assert.equal(await op.locator('main h1').innerText(), `${oldTitle} (neu)`);
  });
});
