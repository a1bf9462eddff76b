-- bench/catalog_fill_pg.sql: a PostgreSQL catalog filled fast, for bench/catalog-scale.sh.
--   psql -v studies=2778 -f catalog_fill_pg.sql URL
-- The catalog must hold exactly one study, written by strata-bench-fill --studies 1 (the
-- server's own write path: Catalog::AddInstances). That study is the exemplar: studies 2..N
-- are copies of its patient, study, series and instance rows (every column as the server
-- wrote it, counters included), with their own keys: scanner-like UIDs (five vendor roots,
-- a device number, a date-time, the study number; bench/synthetic_rows.h makes the same
-- shape), two studies per patient, study dates spread over 2000..2024, the header JSON's
-- UIDs replaced. One transaction, rows in ingest order (study after study).
-- Why not the API for all of it: on PostgreSQL it costs ~2 ms per instance (eight statements,
-- each parsed and planned again), so 1M instances would take over half an hour.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE ex_study ON COMMIT DROP AS SELECT * FROM studies;
DO $$ BEGIN
  IF (SELECT COUNT(*) FROM ex_study) <> 1 THEN RAISE EXCEPTION 'the catalog must hold exactly one (exemplar) study'; END IF;
END $$;
CREATE TEMP TABLE ex_patient ON COMMIT DROP AS SELECT p.* FROM patients p JOIN ex_study s ON s.patient_pk = p.pk;
CREATE TEMP TABLE ex_series ON COMMIT DROP AS SELECT se.* FROM series se JOIN ex_study s ON se.study_pk = s.pk;
CREATE TEMP TABLE ex_inst ON COMMIT DROP AS SELECT i.* FROM instances i JOIN ex_study s ON i.study_pk = s.pk;
CREATE TEMP TABLE gen ON COMMIT DROP AS
  SELECT g, (g + 1) / 2 AS patient, lpad(((g + 1) / 2)::text, 7, '0') AS pnum,
         (ARRAY['1.2.840.113619.2.55.3', '1.3.12.2.1107.5.1.4', '1.2.392.200036.9116.2.6.1',
                '1.3.46.670589.33.1.63', '1.2.826.0.1.3680043.9.7'])[1 + (g * 7919) % 5] || '.' ||
         (1000 + (g * 104729) % 9000) || '.' || (20000101000000 + (g::bigint * 15485863) % 250000000) || '.' ||
         g AS base
  FROM generate_series(2, :studies) g;
CREATE UNIQUE INDEX ON gen (g);
-- The exemplar's patient is number 1 (FILL0000001, FILL^PATIENT0000001): its number is replaced.
INSERT INTO patients (patient_id, issuer, patient_name, patient_name_norm, birth_date, sex, patient_name_fold)
  SELECT replace(e.patient_id, '0000001', x.pnum), e.issuer, replace(e.patient_name, '0000001', x.pnum),
         replace(e.patient_name_norm, '0000001', x.pnum), e.birth_date, CASE WHEN x.patient % 2 = 1 THEN 'F' ELSE 'M' END,
         replace(e.patient_name_fold, '0000001', x.pnum)
  FROM (SELECT DISTINCT patient, pnum FROM gen WHERE patient > 1) x CROSS JOIN ex_patient e ORDER BY x.patient;
INSERT INTO studies (study_uid, patient_pk, study_date, study_time, accession, study_id, description, referring,
                     referring_norm, modalities, num_series, num_instances, size_bytes, last_received_ms,
                     referring_fold, timezone_offset)
  SELECT x.base || '.1', p.pk,
         (2000 + x.g % 25)::text || lpad((1 + x.g % 12)::text, 2, '0') || lpad((1 + x.g % 28)::text, 2, '0'),
         e.study_time, 'ACC' || x.g, (x.g % 10000)::text, e.description, e.referring, e.referring_norm, e.modalities,
         e.num_series, e.num_instances, e.size_bytes, 1700000000000 + x.g, e.referring_fold, e.timezone_offset
  FROM gen x CROSS JOIN ex_study e CROSS JOIN ex_patient ep
  JOIN patients p ON p.patient_id = replace(ep.patient_id, '0000001', x.pnum) AND p.issuer = ep.issuer
  ORDER BY x.g;
INSERT INTO series (series_uid, study_pk, modality, series_number, description, body_part, series_date, series_time,
                    num_instances, size_bytes, pps_start_date, pps_start_time, request_attributes)
  SELECT x.base || '.2', st.pk, e.modality, e.series_number, e.description, e.body_part, e.series_date, e.series_time,
         e.num_instances, e.size_bytes, e.pps_start_date, e.pps_start_time, e.request_attributes
  FROM gen x JOIN studies st ON st.study_uid = x.base || '.1' CROSS JOIN ex_series e
  ORDER BY x.g;
INSERT INTO instances (sop_uid, series_pk, study_pk, sop_class, instance_number, rows, columns, frames,
                       transfer_syntax, size, checksum, received_ms, tier, hot_path, pack_key, pack_offset,
                       pack_length, entry_checksum, entry_syntax, dataset_checksum, bits_allocated, header_json)
  SELECT x.base || '.3.' || e.instance_number, se.pk, se.study_pk, e.sop_class, e.instance_number, e.rows, e.columns,
         e.frames, e.transfer_syntax, e.size, e.checksum, 1700000000000 + x.g, e.tier,
         'fill/' || x.base || '.3.' || e.instance_number || '.dcm', e.pack_key, e.pack_offset, e.pack_length,
         e.entry_checksum, e.entry_syntax, e.dataset_checksum, e.bits_allocated,
         replace(replace(replace(e.header_json, es.study_uid, x.base || '.1'), ese.series_uid, x.base || '.2'),
                 e.sop_uid, x.base || '.3.' || e.instance_number)
  FROM gen x JOIN series se ON se.series_uid = x.base || '.2'
  CROSS JOIN ex_inst e CROSS JOIN ex_study es CROSS JOIN ex_series ese
  ORDER BY x.g, e.instance_number;
COMMIT;
