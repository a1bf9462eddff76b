// Strata's web page as radiology IT sees it, in Debian's headless chromium (playwright-core),
// at 1366x768 and 1920x1080: the study list (names in several character sets, newest study
// first, tier and pack size, a failed study marked, "Open in OHIF"), the study pages of a hot,
// a packed and a failed study, the image view (fits the stage, presets by modality, slice
// position), and the archive page (studies named by patient/date/description, the failure in
// plain words, times in ISO 8601 in the site's zone, a deleted study among the lifecycle
// changes: who, when, old and new values). Saves a screenshot of every page.
// Usage: node pages.cjs BASE_URL OUT_DIR SPEC.json   (SPEC: see tests/integration/test_viewer.py)
'use strict';
const fs = require('fs');
const path = require('path');
const harness = require('./harness.cjs');

const [base, outDir, specFile] = process.argv.slice(2);
const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
const { check, finish } = harness.checker();
const UID_RE = /\b\d+(\.\d+){5,}\b/;
const MOJIBAKE = /\uFFFD|Ã.|Â./;
const parts = (name) => name.split(/[=^]/).map((p) => p.trim()).filter(Boolean);

harness.run(async () => {
  const browser = await harness.launch(['--lang=en-US']);
  for (const [w, hgt] of [[1366, 768], [1920, 1080]]) {
    const size = `${w}x${hgt}`;
    // A browser in another locale and zone: the page must not follow either.
    const context = await browser.newContext({ viewport: { width: w, height: hgt }, locale: 'de-DE', timezoneId: 'Asia/Tokyo' });
    const page = await context.newPage();
    page.setDefaultTimeout(30000);
    const errors = harness.watch(page);
    const shot = async (name) => {
      const file = path.join(outDir, `page-${name}-${size}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`screenshot ${file}`);
    };

    // 1. The study list.
    await page.goto(base + '/');
    await page.waitForSelector('tr.study-row');
    const rows = await page.$$eval('tr.study-row', (rs) => rs.map((r) => ({
      uid: r.dataset.uid, tier: r.dataset.tier, text: r.innerText,
      date: r.querySelector('td.date').innerText, packed: r.querySelector('td.packed').innerText,
      received: r.querySelector('td.received').innerText, tierText: r.querySelector('td.tier').innerText,
      ohif: r.querySelector('a.ohif') && r.querySelector('a.ohif').getAttribute('href'),
      failed: r.classList.contains('failed'),
    })));
    check(rows.length === spec.studies.length, `${size} study list: ${rows.length} of ${spec.studies.length} studies`);
    const dates = rows.map((r) => r.date.slice(0, 10));
    check(dates.every((d, i) => i === 0 || !d || !dates[i - 1] || dates[i - 1] >= d) &&
      rows.every((r) => !r.date || /^\d{4}-\d{2}-\d{2}( \d{2}:\d{2})?$/.test(r.date)),
    `${size} newest study first, dates in ISO 8601: ${dates.join(', ')}`);
    for (const st of spec.studies) {
      const r = rows.find((x) => x.uid === st.uid);
      if (!check(!!r, `${size} study ${st.name} listed`)) continue;
      check(parts(st.name).every((p) => r.text.includes(p)) && !MOJIBAKE.test(r.text),
        `${size} name "${st.name}" shown right: "${r.text.split('\t')[0]}"`);
      check(r.ohif === `/viewer?StudyInstanceUIDs=${encodeURIComponent(st.uid)}`, `${size} ${st.name}: Open in OHIF → ${r.ohif}`);
    }
    const hot = rows.find((r) => r.uid === spec.hot), packed = rows.find((r) => r.uid === spec.packed);
    const failed = rows.find((r) => r.uid === spec.failed);
    check(hot.tier === 'hot' && /hot/.test(hot.tierText) && hot.packed.trim() === '—', `${size} hot study: tier hot, no pack`);
    check(packed.tier === 'packed' && /packed/.test(packed.tierText) && /\d (KB|MB)/.test(packed.packed) &&
      /\d (KB|MB)/.test(packed.received), `${size} packed study: ${packed.received} received, ${packed.packed} in packs`);
    check(failed.failed && /migration failed/.test(failed.tierText), `${size} the failed study is marked in the list`);
    await shot('studies');

    // 2. Study pages: hot, packed, failed.
    for (const [label, uid] of [['hot', spec.hot], ['packed', spec.packed], ['failed', spec.failed]]) {
      await page.goto(`${base}/#/study/${uid}`);
      await page.waitForSelector('.series-card');
      await page.waitForFunction(() => [...document.querySelectorAll('img.thumbnail')].every((i) => i.complete && i.naturalWidth > 0));
      const head = await page.$eval('.study-head', (e) => e.closest('.panel').innerText);
      const link = await page.$eval('a.ohif', (a) => a.getAttribute('href'));
      check(link === `/viewer?StudyInstanceUIDs=${encodeURIComponent(uid)}`, `${size} ${label} study page links to OHIF`);
      if (label === 'failed') {
        const box = await page.$eval('.problem', (e) => e.innerText).catch(() => '');
        check(/character set/.test(box) && /retries/.test(box), `${size} failed study page explains: "${box.split('\n')[0]}"`);
      } else {
        check(/(hot|packed)/.test(head) && !(await page.$('.problem')), `${size} ${label} study page shows its tier, no problem`);
      }
      await shot(`study-${label}`);
    }

    // 3. The image view: CT (presets, slice position), packed MR, CR (no CT presets).
    for (const [label, study, series, modality] of [['hot-ct', spec.hot, spec.ct_series, 'CT'],
      ['packed-mr', spec.packed, spec.mr_series, 'MR'], ['cr', spec.cr, spec.cr_series, 'CR']]) {
      await page.goto(`${base}/#/view/${study}/${series}`);
      await page.waitForFunction(() => {
        const i = document.getElementById('frame');
        return i && i.complete && i.naturalWidth > 0 && document.getElementById('stage').dataset.shown !== undefined;
      });
      const fit = await page.evaluate(() => {
        const s = document.getElementById('stage').getBoundingClientRect();
        const i = document.getElementById('frame');
        const scale = Math.min(s.width / i.naturalWidth, s.height / i.naturalHeight);
        return { stage: [s.width, s.height], image: [i.naturalWidth, i.naturalHeight], shown: [i.naturalWidth * scale, i.naturalHeight * scale],
          inView: s.bottom <= window.innerHeight + 1 && s.right <= window.innerWidth + 1, box: [i.getBoundingClientRect().width, i.getBoundingClientRect().height] };
      });
      check(fit.inView && Math.abs(fit.box[0] - fit.stage[0]) < 2 && Math.abs(fit.box[1] - fit.stage[1]) < 2 &&
        (Math.abs(fit.shown[0] - fit.stage[0]) < 2 || Math.abs(fit.shown[1] - fit.stage[1]) < 2),
      `${size} ${label}: ${fit.image.join('x')} image fitted to the ${fit.stage.map(Math.round).join('x')} stage, inside the window`);
      const presets = await page.$$eval('#presets button', (bs) => bs.map((b) => b.textContent)).catch(() => []);
      if (modality === 'CT') check(presets.includes('Lung') && presets.includes('Bone'), `${size} CT presets: ${presets.join(', ')}`);
      else check(!presets.some((p) => /Lung|Bone|Brain|Soft/.test(p)), `${size} ${modality}: no CT presets (${presets.join(', ') || 'none'})`);
      const pos1 = await page.$eval('#slice-position', (e) => e.textContent);
      if (modality !== 'CR') {
        await page.keyboard.press('ArrowDown');
        await page.waitForFunction((p) => document.getElementById('slice-position').textContent !== p, pos1);
        const pos2 = await page.$eval('#slice-position', (e) => e.textContent);
        check(/^Position -?\d+\.\d mm$/.test(pos1) && /^Position -?\d+\.\d mm$/.test(pos2),
          `${size} ${label}: slice position shown and follows the slice (${pos1} → ${pos2})`);
      }
      await shot(`view-${label}`);
    }

    // 4. The archive page.
    await page.goto(`${base}/#/archive`);
    await page.waitForSelector('#migrations');
    const mig = await page.$$eval('#migrations tbody tr', (rs) => rs.map((r) => ({ uid: r.dataset.uid, text: r.innerText, failed: r.classList.contains('failed') })));
    const queue = await page.$$eval('#queue tbody tr', (rs) => rs.map((r) => ({ uid: r.dataset.uid, text: r.innerText, failed: r.classList.contains('failed') })));
    const fm = mig.find((m) => m.uid === spec.failed);
    const failedName = spec.studies.find((x) => x.uid === spec.failed).name;
    check(fm && fm.failed && parts(failedName).every((p) => fm.text.includes(p)) && /character set/.test(fm.text) &&
      !/json\.exception/.test(fm.text), `${size} recent migrations: the failure in plain words, with the patient`);
    check(fm && fm.text.includes(spec.failed_when), `${size} the failure's time in ${spec.zone}, ISO 8601: ${spec.failed_when}`);
    check([...mig, ...queue].every((r) => !UID_RE.test(r.text)), `${size} queue and migrations name studies, not UIDs`);
    check(queue.length > 0 && queue.some((q) => q.uid === spec.failed && q.failed), `${size} the failed study is marked in the queue`);
    // The lifecycle changes: the deleted study named for people, who, when (site zone, ISO 8601),
    // the values before and after.
    const life = await page.$$eval('#lifecycle tbody tr', (rs) => rs.map((r) => ({
      uid: r.dataset.uid, action: r.dataset.action, text: r.innerText, when: r.querySelector('td.when').innerText,
      who: r.querySelector('td.who').innerText, values: r.querySelector('td.values').innerText })));
    const del = spec.deleted, dl = life.find((x) => x.uid === del.uid);
    check(dl && dl.action === 'delete' && /deleted/.test(dl.text) && parts(del.name).every((p) => dl.text.includes(p)) &&
      dl.text.includes(`${del.date.slice(0, 4)}-${del.date.slice(4, 6)}-${del.date.slice(6)}`) && !UID_RE.test(dl.text),
    `${size} lifecycle changes: the deleted study by patient and date, not UID: "${dl ? dl.text.replace(/\s+/g, ' ') : ''}"`);
    check(dl && dl.when === del.when && dl.who.startsWith(del.who), `${size} deleted ${dl && dl.when} by ${dl && dl.who}`);
    check(dl && new RegExp(`instances\\s*${del.instances}\\s*→\\s*0`).test(dl.values) && /deleted\s*\d/.test(dl.values),
      `${size} old → new values: ${dl ? dl.values.replace(/\s+/g, ' ') : ''}`);
    const zone = await page.$eval('#time-zone', (e) => e.textContent);
    check(zone.includes(spec.zone), `${size} ${zone}`);
    const body = await page.$eval('#app', (e) => e.innerText);
    check(!/\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}\/\d{1,2}\/\d{4}/.test(body), `${size} no browser-locale dates on the archive page`);
    await shot('archive');
    check(errors.length === 0, `${size} no console error or failed request` + (errors.length ? `:\n  ${errors.join('\n  ')}` : ''));
    await context.close();
  }
  await browser.close();
  finish();
});
