# bench/lib/catalog_scale_report.py RESULTS.TSV: the tables of bench/catalog-scale.sh from its
# raw rows (backend, metric, round, value, bytes, count); medians over rounds, 1M / empty ratios.
import collections, statistics as st, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
v = collections.defaultdict(list)
for be, metric, rnd, value, b, n in rows:
    v[(be, metric)].append((float(value), int(b), int(n)))
for be in ("sqlite", "pg"):
    if not any(k[0] == be for k in v): continue
    name = {"sqlite": "SQLite (embedded)", "pg": "PostgreSQL"}[be]
    fill = v[(be, "fill")][0]
    how = "Catalog::AddInstances" if be == "sqlite" else "one study by Catalog::AddInstances, copied by catalog_fill_pg.sql"
    print("\n%s: big catalog filled with %d instances in %.0f s (%.0f/s, %s); %d at the end" %
          (name, fill[2], fill[0], fill[2] / fill[0], how, v[(be, "big_instances")][0][0]))
    print("| %s | empty catalog | 1M catalog | 1M / empty |" % name)
    print("|---|---|---|---|")
    def ing(case):
        x = v[(be, "ingest_" + case)]
        s = st.median(a for a, _, _ in x); b, n = x[0][1], x[0][2]
        return b / 1e6 / s, n / s, "/".join("%.0f" % (b / 1e6 / a) for a, _, _ in x)
    e, g = ing("empty"), ing("big")
    print("| ingest, storescu x1 (MB/s; img/s) | %.0f MB/s, %.0f img/s | %.0f MB/s, %.0f img/s | %.3f |" % (e[0], e[1], g[0], g[1], g[0] / e[0]))
    print("| ingest per round (MB/s) | %s | %s | |" % (e[2], g[2]))
    if v.get((be, "cpu_empty")):
      ce, cg = (st.median(a for a, _, _ in v[(be, "cpu_" + c)]) for c in ("empty", "big"))
      print("| server CPU per ingest (s; per round) | %.2f (%s) | %.2f (%s) | %.3f |" % (
          ce, "/".join("%.2f" % a for a, _, _ in v[(be, "cpu_empty")]), cg,
          "/".join("%.2f" % a for a, _, _ in v[(be, "cpu_big")]), cg / ce))
    for key, label in (("pid", "C-FIND study by PatientID"), ("date", "C-FIND study by StudyDate range (1 month)")):
        for p in ("p50", "p99"):
            a = v[(be, "find_%s_%s_empty" % (key, p))][0]; b = v[(be, "find_%s_%s_big" % (key, p))][0]
            print("| %s %s (matches) | %.3f ms (%d) | %.3f ms (%d) | %.2f |" % (label, p, a[0], a[2], b[0], b[2], b[0] / a[0]))
    for n in ("1", "16", "256"):
        a = st.median(x[0] for x in v[(be, "add_%s_empty" % n)]); b = st.median(x[0] for x in v[(be, "add_%s_big" % n)])
        per = lambda case: "/".join("%.2f" % x[0] for x in v[(be, "add_%s_%s" % (n, case))])
        print("| Catalog::AddInstances, batch of %s (ms/batch, median; us/instance; per round) | %.3f ms; %.0f us; %s | %.3f ms; %.0f us; %s | %.3f |" %
              (n, a, 1000 * a / int(n), per("empty"), b, 1000 * b / int(n), per("big"), b / a))
