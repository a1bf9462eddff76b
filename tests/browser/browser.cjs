// Strata's web page in a real browser: Debian's chromium, headless, driven by playwright-core.
// Searches, opens a study, waits for every thumbnail to load, opens the viewer, moves the
// window/level control and scrolls slices, then opens the archive page. Saves a screenshot of
// each step in OUT_DIR. Exit status 1 on any failed check or page error.
// Usage: node browser.cjs http://127.0.0.1:PORT OUT_DIR STUDY_UID PATIENT_NAME_PART SERIES_COUNT
'use strict';
const path = require('path');
const { chromium } = require('playwright-core');

const [base, outDir, studyUid, namePart, seriesCount] = process.argv.slice(2);
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  console.log(`chromium ${browser.version()}`);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  const shot = async (name) => {
    const file = path.join(outDir, name);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot ${file}`);
  };

  // 1. The study list.
  await page.goto(base + '/');
  await page.waitForSelector('tr.study-row');
  const all = await page.$$eval('tr.study-row', (rs) => rs.length);
  check(all >= 2, `study list shows ${all} studies`);
  await shot('01-studies.png');

  // 2. Search by part of the patient name, in lower case.
  await page.fill('input[name=name]', namePart.toLowerCase());
  await page.click('button[type=submit]');
  await page.waitForFunction(() => location.hash.includes('name='));
  await page.waitForFunction((n) => document.querySelectorAll('tr.study-row').length > 0 &&
    document.querySelectorAll('tr.study-row').length < n, all);
  const found = await page.$$eval('tr.study-row', (rs) => rs.map((r) => r.dataset.uid));
  check(found.includes(studyUid) && found.length < all, `search "${namePart.toLowerCase()}" finds ${found.length} study`);
  await shot('02-search.png');

  // 3. A search without matches.
  await page.fill('input[name=name]', 'nobody-has-this-name');
  await page.click('button[type=submit]');
  await page.waitForSelector('text=No study matches.');
  check(true, 'a search without matches says so');

  // 4. Open the study; every thumbnail loads.
  await page.goto(`${base}/#/?name=${encodeURIComponent(namePart)}`);
  await page.click(`tr.study-row[data-uid="${studyUid}"]`);
  await page.waitForSelector('.series-card');
  await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('img.thumbnail')];
    return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
  });
  const thumbs = await page.$$eval('img.thumbnail', (is) => is.map((i) => [i.naturalWidth, i.naturalHeight]));
  check(thumbs.length === Number(seriesCount) && thumbs.every(([w, h]) => w > 0 && h > 0),
    `study page: ${thumbs.length} series thumbnails loaded (${thumbs.map((t) => t.join('x')).join(', ')})`);
  const badges = await page.$$eval('.series-card .badge', (bs) => bs.map((b) => b.textContent));
  check(badges.some((b) => /hot|packed/.test(b)), `series show their tier: ${[...new Set(badges)].join(', ')}`);
  await shot('03-study.png');

  // 5. The viewer: an image, then window/level, then slice scrolling.
  await page.click('.series-card .thumb');
  await page.waitForFunction(() => {
    const i = document.getElementById('frame');
    return i && i.complete && i.naturalWidth > 0 && document.getElementById('stage').dataset.shown !== undefined;
  });
  const first = await page.$eval('#frame', (i) => ({ src: i.src, w: i.naturalWidth }));
  check(first.w > 0, `viewer shows a ${first.w}px wide frame`);
  await shot('04-viewer.png');
  await page.$eval('#ww', (el) => { el.value = '1500'; el.dispatchEvent(new Event('input', { bubbles: true })); });
  await page.$eval('#wc', (el) => { el.value = '-600'; el.dispatchEvent(new Event('input', { bubbles: true })); });
  await page.waitForFunction((src) => {
    const i = document.getElementById('frame');
    return i.src !== src && i.complete && i.naturalWidth > 0;
  }, first.src);
  const overlay = await page.$eval('.overlay.br', (e) => e.textContent);
  check(/W 1500/.test(overlay) && /L -600/.test(overlay), `window/level control re-renders the frame (${overlay.trim()})`);
  await shot('05-viewer-window.png');
  const shownBefore = await page.$eval('#stage', (s) => s.dataset.shown);
  const box = await page.$eval('#stage', (s) => { const r = s.getBoundingClientRect(); return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; });
  await page.mouse.move(box.x, box.y);
  for (let k = 0; k < 3; k++) await page.mouse.wheel(0, 120);
  await page.waitForFunction((b) => document.getElementById('stage').dataset.shown !== b, shownBefore);
  const shownAfter = await page.$eval('#stage', (s) => s.dataset.shown);
  check(Number(shownAfter) > Number(shownBefore), `mouse wheel scrolls slices (${shownBefore} -> ${shownAfter})`);
  await shot('06-viewer-scrolled.png');

  // 6. The archive page.
  await page.goto(base + '/#/archive');
  await page.waitForSelector('#stats');
  await page.waitForSelector('#per-study tbody tr');
  const statsText = await page.$eval('#stats', (e) => e.textContent);
  check(/studies/.test(statsText) && /on the hot tier/.test(statsText), 'archive page shows the catalog counts');
  await shot('07-archive.png');

  check(errors.length === 0, `no page errors${errors.length ? ': ' + errors.join(' | ') : ''}`);
  await browser.close();
  console.log(failures ? `FAILED ${failures}` : 'all ok');
  process.exit(failures ? 1 : 0);
})().catch(async (e) => {
  console.error('FAIL', e && (e.stack || e.message));
  process.exit(1);
});
