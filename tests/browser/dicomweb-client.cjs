// Strata's DICOMweb against a real client: npm's dicomweb-client (written for browsers; under
// node it needs an XMLHttpRequest, given here by the xhr2 package). STOW-RS of the given files,
// then QIDO-RS, WADO-RS (study, instance as stored -> identical bytes, metadata, frames,
// rendered). Prints one line per check; exit status 1 on any failure.
// Usage: node dicomweb-client.cjs http://127.0.0.1:PORT/dicomweb FILE.dcm...
'use strict';
const fs = require('fs');
globalThis.XMLHttpRequest = require('xhr2');
const { api } = require('dicomweb-client');

const [url, ...files] = process.argv.slice(2);
const tag = (ds, t) => (ds && ds[t] && ds[t].Value ? ds[t].Value[0] : undefined);
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};
const ms = (t0) => (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1);
const bufferOf = (ab) => Buffer.from(ab instanceof ArrayBuffer ? ab : ab.buffer);

(async () => {
  console.log(`node ${process.version}, dicomweb-client ${require('dicomweb-client/package.json').version}, ${url}`);
  const client = new api.DICOMwebClient({ url });
  const sent = files.map((f) => fs.readFileSync(f));
  const datasets = sent.map((b) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

  // STOW-RS
  let t0 = process.hrtime.bigint();
  const stow = await client.storeInstances({ datasets });
  const stowJson = typeof stow === 'string' ? JSON.parse(stow) : JSON.parse(Buffer.from(stow).toString());
  const refs = (stowJson['00081199'] && stowJson['00081199'].Value) || [];
  check(refs.length === files.length, `STOW-RS stored ${refs.length}/${files.length} instances in ${ms(t0)} ms`);
  const study = refs.length ? tag(stowJson, '00081190').split('/studies/')[1] : undefined;
  check(!!study, `STOW-RS response names the study ${study}`);

  // QIDO-RS
  const studies = await client.searchForStudies({ queryParams: { StudyInstanceUID: study } });
  check(studies.length === 1 && tag(studies[0], '0020000D') === study, 'QIDO-RS searchForStudies finds the study');
  check(Number(tag(studies[0], '00201208')) === files.length, 'QIDO-RS NumberOfStudyRelatedInstances');
  const series = await client.searchForSeries({ studyInstanceUID: study });
  check(series.length >= 1, `QIDO-RS searchForSeries: ${series.length}`);
  const seriesUid = tag(series[0], '0020000E');
  const insts = await client.searchForInstances({ studyInstanceUID: study, seriesInstanceUID: seriesUid });
  check(insts.length >= 1, `QIDO-RS searchForInstances: ${insts.length}`);
  // PS3.18 Tables 10.6.3-3/-4/-5 default attributes (present, possibly empty).
  const has = (o, tags) => tags.every((t) => o && Object.prototype.hasOwnProperty.call(o, t));
  check(has(studies[0], ['00080056', '00080061', '00080090', '00080201', '00081190', '00201206', '00201208']),
    'QIDO-RS study default attributes');
  check(has(series[0], ['00080060', '00080201', '0008103E', '00081190', '00200011', '00201209', '00400244', '00400245',
    '00400275']), 'QIDO-RS series default attributes');
  check(has(insts[0], ['00080016', '00080018', '00080056', '00080201', '00081190', '00200013', '00280010', '00280011',
    '00280100', '00280008']) && Number(tag(insts[0], '00280100')) > 0, 'QIDO-RS instance default attributes (BitsAllocated)');
  const paged = await client.searchForInstances({ studyInstanceUID: study, queryParams: { limit: 2, offset: 1 } });
  check(paged.length === Math.min(2, files.length - 1), `QIDO-RS limit/offset: ${paged.length}`);

  // WADO-RS metadata
  t0 = process.hrtime.bigint();
  const meta = await client.retrieveStudyMetadata({ studyInstanceUID: study });
  check(meta.length === files.length, `WADO-RS retrieveStudyMetadata: ${meta.length} in ${ms(t0)} ms`);
  check(meta.every((m) => m['7FE00010'] && m['7FE00010'].BulkDataURI), 'metadata has a BulkDataURI for Pixel Data');

  // WADO-RS study (default: Explicit VR Little Endian)
  t0 = process.hrtime.bigint();
  const parts = await client.retrieveStudy({ studyInstanceUID: study });
  const dicm = parts.filter((p) => bufferOf(p).toString('latin1', 128, 132) === 'DICM').length;
  check(parts.length === files.length && dicm === parts.length,
    `WADO-RS retrieveStudy: ${parts.length} Part 10 files in ${ms(t0)} ms`);

  // WADO-RS instance as stored: the very bytes that were sent. (retrieveInstance with
  // mediaTypes throws in 0.11.3 — its _getCommonMediaType yields "application/" — so the
  // client's own multipart GET is called with the same Accept it would have built.)
  let identical = 0;
  for (const ref of refs) {
    const u = tag(ref, '00081190');
    const [one] = await client._httpGetMultipartApplicationDicom(u,
      [{ mediaType: 'application/dicom', transferSyntaxUID: '*' }]);
    const got = bufferOf(one);
    if (sent.some((b) => b.equals(got))) identical++;
  }
  check(identical === refs.length, `WADO-RS retrieveInstance (transfer-syntax=*): ${identical}/${refs.length} identical to the sent files`);

  // Frames and rendered.
  const sop0 = tag(insts[0], '00080018');
  const frames = await client.retrieveInstanceFrames({ studyInstanceUID: study, seriesInstanceUID: seriesUid,
    sopInstanceUID: sop0, frameNumbers: [1] });
  const rows = Number(tag(insts[0], '00280010')), cols = Number(tag(insts[0], '00280011'));
  check(frames.length === 1 && frames[0].byteLength >= rows * cols,
    `WADO-RS retrieveInstanceFrames: ${frames[0].byteLength} bytes for ${cols}x${rows}`);
  const png = await client.retrieveInstanceRendered({ studyInstanceUID: study, seriesInstanceUID: seriesUid,
    sopInstanceUID: sop0, mediaTypes: [{ mediaType: 'image/png' }] });
  const image = bufferOf(Array.isArray(png) ? png[0] : png);
  check(image.toString('latin1', 1, 4) === 'PNG' && image.readUInt32BE(16) === cols && image.readUInt32BE(20) === rows,
    `WADO-RS retrieveInstanceRendered gives a ${cols}x${rows} PNG`);

  console.log(failures ? `FAILED ${failures}` : 'all ok');
  process.exit(failures ? 1 : 0);
})().catch((e) => {
  console.error('FAIL', e && (e.stack || e.message || JSON.stringify(e)), e && e.status);
  process.exit(1);
});
