// The OHIF Viewer Strata serves at /viewer, in Debian's headless chromium (playwright-core).
// For each study of SPEC: opens /viewer?StudyInstanceUIDs=<uid> (as the study list's
// "Open in OHIF" link does), waits for the first image, scrolls through every slice with the
// mouse wheel, and on each slice reads the pixels OHIF displays through its cornerstone API
// (window.cornerstone) and compares them with the stored image's (checksums computed by the
// caller from the files with pydicom). Fails on any mismatch, console error, page error,
// failed request or HTTP error answer. Prints one "timing {json}" line per study.
// Usage: node ohif.cjs BASE_URL OUT_DIR SPEC.json
// SPEC: {"token": "Bearer x" | null, "basic": {"user", "password"} | null, "studies": [{"label", "study", "series",
//        "slices": [{"sop", "rows", "columns", "sum", "wsum", "min", "max"}]}]}  (slices in order)
'use strict';
const fs = require('fs');
const path = require('path');
const harness = require('./harness.cjs');

const [base, outDir, specFile] = process.argv.slice(2);
const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
const { check, finish } = harness.checker();

// In the page: the displayed image of the first viewport, as modality values (stored value x
// slope + intercept), summarised position-sensitively like the caller does.
function readViewport() {
  const cs = window.cornerstone;
  if (!cs) return null;
  const els = cs.getEnabledElements();
  if (!els.length) return null;
  const vp = els[0].viewport;
  if (!vp || typeof vp.getCurrentImageId !== 'function') return null;
  const id = vp.getCurrentImageId();
  const image = id && cs.cache.getImage(id);
  if (!image) return null;
  const px = image.getPixelData();
  const scaled = !!(image.preScale && image.preScale.scaled);
  const slope = scaled ? 1 : (image.slope || 1), intercept = scaled ? 0 : (image.intercept || 0);
  let sum = 0, wsum = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < px.length; i++) {
    const v = Math.round(px[i] * slope + intercept);
    sum += v; wsum += v * ((i % 251) + 1);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const sop = (id.match(/instances\/([^/]+)/) || [])[1] || '';
  return {
    id, sop, index: vp.getCurrentImageIdIndex(), count: vp.getImageIds().length,
    rows: image.rows, columns: image.columns, sum, wsum, min, max, rendered: !!vp.getRenderingEngine,
  };
}

harness.run(async () => {
  const browser = await harness.launch(['--use-gl=swiftshader', '--enable-unsafe-swiftshader']);
  const timings = [];
  for (const study of spec.studies) {
    for (const [w, hgt] of study.screens || [[1366, 768]]) {
      // Basic auth: the credentials the browser holds for this origin (as after its login prompt).
      const context = await browser.newContext({ viewport: { width: w, height: hgt },
        httpCredentials: spec.basic ? { username: spec.basic.user, password: spec.basic.password, send: 'always' } : undefined });
      if (spec.token) {
        // What the Strata web page keeps after the user signed in with a bearer token.
        await context.addInitScript((t) => { sessionStorage.setItem('strata-auth', t); }, spec.token);
        // With auth on, the viewer's own files want credentials too (issue 17): the browser's
        // navigation and script loads carry the token here as a signed-in session would. The
        // DICOMweb requests are left alone: OHIF must add the token itself (app-config.js).
        await context.route((url) => url.pathname === '/viewer' || url.pathname.startsWith('/viewer/'),
          (route) => route.continue({ headers: { ...route.request().headers(), authorization: spec.token } }));
      }
      const page = await context.newPage();
      page.setDefaultTimeout(60000);
      const errors = harness.watch(page);
      const dicomweb = { requests: 0, authorized: 0 };
      page.on('request', (r) => {
        if (!/\/dicomweb\//.test(r.url())) return;
        dicomweb.requests++;
        if (r.headers().authorization === spec.token) dicomweb.authorized++;
      });
      const tag = `${study.label} ${w}x${hgt}`;

      const t0 = Date.now();
      await page.goto(`${base}/viewer?StudyInstanceUIDs=${encodeURIComponent(study.study)}`);
      let first;
      try {
        await page.waitForFunction(() => {
          const cs = window.cornerstone;
          const el = cs && cs.getEnabledElements()[0];
          const vp = el && el.viewport;
          const id = vp && vp.getCurrentImageId && vp.getCurrentImageId();
          return !!(id && cs.cache.getImage(id));
        });
        first = await page.evaluate(readViewport);
      } catch (e) {
        check(false, `${tag}: first image within 60 s (${e.message.split('\n')[0]})`);
        console.log(errors.join('\n'));
        await page.screenshot({ path: path.join(outDir, `ohif-${study.label}-${w}x${hgt}-timeout.png`) });
        await context.close();
        continue;
      }
      const firstMs = Date.now() - t0;
      const n = study.slices.length;
      check(first && first.count === n, `${tag}: first image after ${firstMs} ms; the viewport holds ${first && first.count} of ${n} slices`);

      // Every slice, by the mouse wheel over the image (as a radiologist scrolls).
      const canvas = await page.$('.cornerstone-canvas, canvas');
      const box = await canvas.boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const bySop = new Map(study.slices.map((s) => [s.sop, s]));
      const seen = new Map();
      let cur = first;
      seen.set(cur.sop, cur);
      // Go to the first slice, then down through all of them.
      for (let guard = 0; cur.index > 0 && guard < 2 * n; guard++) {
        const before = cur.index;
        await page.mouse.wheel(0, -100);
        await page.waitForFunction((b) => {
          const vp = window.cornerstone.getEnabledElements()[0].viewport;
          const id = vp.getCurrentImageId();
          return vp.getCurrentImageIdIndex() !== b && !!(id && window.cornerstone.cache.getImage(id));
        }, before);
        cur = await page.evaluate(readViewport);
        seen.set(cur.sop, cur);
      }
      for (let guard = 0; cur.index < n - 1 && guard < 2 * n; guard++) {
        const before = cur.index;
        await page.mouse.wheel(0, 100);
        await page.waitForFunction((b) => {
          const vp = window.cornerstone.getEnabledElements()[0].viewport;
          const id = vp.getCurrentImageId();
          return vp.getCurrentImageIdIndex() !== b && !!(id && window.cornerstone.cache.getImage(id));
        }, before);
        cur = await page.evaluate(readViewport);
        seen.set(cur.sop, cur);
      }
      const allMs = Date.now() - t0;
      check(seen.size === n, `${tag}: scrolled through ${seen.size} of ${n} slices in ${allMs} ms`);
      let exact = 0;
      for (const [sop, got] of seen) {
        const want = bySop.get(sop);
        const same = want && got.rows === want.rows && got.columns === want.columns && got.sum === want.sum &&
          got.wsum === want.wsum && got.min === want.min && got.max === want.max;
        if (same) exact++;
        else console.log(`  slice ${sop}: shown ${JSON.stringify(got)} stored ${JSON.stringify(want)}`);
      }
      check(exact === n, `${tag}: ${exact} of ${n} slices show the stored pixel values exactly`);
      await page.waitForTimeout(300);  // let late requests (thumbnails) finish or fail
      // (Basic credentials are added below the page, invisible here: the server's answers,
      // all 2xx, show them; the caller checks its log.)
      if (spec.token) {
        check(dicomweb.requests > 0 && dicomweb.authorized === dicomweb.requests,
          `${tag}: ${dicomweb.authorized} of ${dicomweb.requests} DICOMweb requests carry the page's credentials`);
      }
      check(errors.length === 0, `${tag}: no console error, page error or failed request` +
        (errors.length ? `:\n  ${[...new Set(errors)].slice(0, 20).join('\n  ')}` : ''));
      const shot = path.join(outDir, `ohif-${study.label}-${w}x${hgt}.png`);
      await page.screenshot({ path: shot });
      console.log(`screenshot ${shot}`);
      timings.push({ study: study.label, screen: `${w}x${hgt}`, slices: n, first_image_ms: firstMs, all_slices_ms: allMs });
      await context.close();
    }
  }
  for (const t of timings) console.log('timing ' + JSON.stringify(t));
  await browser.close();
  finish();
});
