// strata-gen: writes deterministic DICOM test data.
//
//   strata-gen ct --out DIR --patients N --studies-per-patient N --series N --slices N --seed S
//                 [--study-date YYYYMMDD] [--size 512] [--rows R --cols C] [--bits-stored 12|16]
//   strata-gen mr|multiframe|color|mono1 --out DIR ... (same options; --frames N for multiframe)
//   strata-gen samples --from DIR... --out DIR --seed S [--keep-grouping] [--implicit] [--deflated]
//
// Common: [--flat] [--syntax explicit|implicit|deflated|big] [--threads N] [--uid-root UID]
//         [--first-patient N] [--manifest FILE] [--quiet] [--verbose]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/oflog/oflog.h>

#include "testdata/sample_reuid.h"
#include "testdata/study_generator.h"

namespace {

using namespace strata;
using namespace strata::testdata;

struct GenArgs {
  std::string out;
  uint32_t patients = 1, studies = 1, series = 1, images = 0, frames = 0;
  uint32_t size = 0, rows = 0, cols = 0, bits_stored = 0, first_patient = 1;
  uint64_t seed = 1;
  std::string study_date, syntax = "explicit", uid_root, manifest;
  unsigned threads = 0;
  bool flat = false, quiet = false;
};

struct SampleArgs {
  std::vector<std::string> from;
  std::string out, uid_root;
  uint64_t seed = 1;
  bool flat = false, keep_grouping = false, implicit = false, deflated = false, quiet = false,
       list = false;
};

std::string Mb(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  return buf;
}

int Fail(const Status& st) {
  std::fprintf(stderr, "strata-gen: %s\n", st.ToString().c_str());
  return 1;
}

void AddGenOptions(CLI::App* sub, GenArgs& a) {
  sub->add_option("--out", a.out, "output directory")->required();
  sub->add_option("--patients", a.patients, "number of patients")->check(CLI::PositiveNumber);
  sub->add_option("--studies-per-patient", a.studies, "studies per patient")->check(CLI::PositiveNumber);
  sub->add_option("--series", a.series, "series per study")->check(CLI::PositiveNumber);
  sub->add_option("--slices,--images", a.images,
                  "images (slices) per series; default CT 100, MR 24, others 1")
      ->check(CLI::PositiveNumber);
  sub->add_option("--seed", a.seed, "seed: same seed, same bytes");
  sub->add_option("--study-date", a.study_date, "YYYYMMDD for every study (default: per study)");
  sub->add_option("--size", a.size, "rows = columns")->check(CLI::Range(1, 8192));
  sub->add_option("--rows", a.rows, "rows (overrides --size)")->check(CLI::Range(1, 8192));
  sub->add_option("--cols", a.cols, "columns (overrides --size)")->check(CLI::Range(1, 8192));
  sub->add_option("--bits-stored", a.bits_stored, "CT 12|16, MR/multiframe 12..16");
  sub->add_option("--frames", a.frames, "frames per multi-frame instance (default 10)");
  sub->add_option("--syntax", a.syntax, "explicit (default), implicit, deflated or big");
  sub->add_option("--threads", a.threads, "worker threads (default: one per core)");
  sub->add_option("--uid-root", a.uid_root, "UID root (default 1.2.826.0.1.3680043.10.1337)");
  sub->add_option("--first-patient", a.first_patient, "number of the first patient")
      ->check(CLI::PositiveNumber);
  sub->add_option("--manifest", a.manifest, "write a TSV line per series to this file");
  sub->add_flag("--flat", a.flat, "write DIR/<SOPUID>.dcm instead of DIR/<Study>/<Series>/...");
  sub->add_flag("--quiet,-q", a.quiet, "no progress line");
}

int RunGenerate(ImageKind kind, const GenArgs& a) {
  GeneratorOptions o;
  o.kind = kind;
  o.seed = a.seed;
  o.patients = a.patients;
  o.first_patient = a.first_patient;
  o.studies_per_patient = a.studies;
  o.series_per_study = a.series;
  o.images_per_series = a.images;
  o.frames = a.frames;
  o.rows = a.rows ? a.rows : a.size;
  o.cols = a.cols ? a.cols : a.size;
  o.bits_stored = a.bits_stored;
  o.study_date = a.study_date;
  o.uid_root = a.uid_root;
  Result<OutputSyntax> syntax = ParseOutputSyntax(a.syntax);
  if (!syntax.ok()) return Fail(syntax.status());
  o.syntax = *syntax;
  Result<StudyGenerator> gen = StudyGenerator::Create(o);
  if (!gen.ok()) return Fail(gen.status());

  const bool tty = isatty(STDERR_FILENO);
  double last_line = -10;
  WriteOptions wo;
  wo.out_dir = a.out;
  wo.layout = a.flat ? Layout::kFlat : Layout::kHierarchical;
  wo.threads = a.threads;
  if (!a.quiet) {
    wo.progress = [&](const WriteProgress& p) {
      const bool final = p.files_done == p.files_total;
      if (!tty && !final && p.seconds - last_line < 2.0) return;
      last_line = p.seconds;
      std::fprintf(stderr, "%s%s: %llu/%llu files, %s, %.1f s%s", tty ? "\r" : "",
                   ImageKindName(kind), static_cast<unsigned long long>(p.files_done),
                   static_cast<unsigned long long>(p.files_total), Mb(p.bytes_done).c_str(),
                   p.seconds, tty ? (final ? "\n" : "   ") : "\n");
      std::fflush(stderr);
    };
  }
  Result<WriteSummary> sum = gen->WriteAll(wo);
  if (!sum.ok()) return Fail(sum.status());
  if (!a.manifest.empty()) {
    Status st = WriteManifest(a.manifest, *sum);
    if (!st.ok()) return Fail(st);
  }
  const GeneratorOptions& eff = gen->options();
  const double secs = sum->seconds > 0 ? sum->seconds : 1e-9;
  std::printf(
      "strata-gen %s: wrote %llu files (%u patients, %llu studies, %zu series, %ux%u) %s in %.2f s "
      "(%.1f MB/s, %.0f files/s, %u threads) -> %s\n",
      ImageKindName(kind), static_cast<unsigned long long>(sum->files), eff.patients,
      static_cast<unsigned long long>(uint64_t{eff.patients} * eff.studies_per_patient),
      sum->series.size(), eff.cols, eff.rows, Mb(sum->bytes).c_str(), sum->seconds,
      sum->bytes / 1e6 / secs, sum->files / secs, sum->threads, a.out.c_str());
  return 0;
}

int RunSamples(const SampleArgs& a) {
  ReUidOptions o;
  o.inputs = a.from;
  o.out_dir = a.out;
  o.seed = a.seed;
  o.uid_root = a.uid_root;
  o.layout = a.flat ? Layout::kFlat : Layout::kHierarchical;
  o.keep_grouping = a.keep_grouping;
  o.implicit_variant = a.implicit;
  o.deflated_variant = a.deflated;
  const auto t0 = std::chrono::steady_clock::now();
  if (!a.quiet) std::fprintf(stderr, "samples: scanning %zu input(s)...\n", a.from.size());
  Result<ReUidReport> r = ReUidSamples(o);
  if (!r.ok()) return Fail(r.status());
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.list) {
    for (const auto& e : r->entries) {
      std::printf("%s\t%s\t%s\t%s\n", e.transfer_syntax.c_str(), e.sop_instance_uid.c_str(),
                  e.source.c_str(), e.output.c_str());
    }
    for (const auto& [path, why] : r->skipped) std::printf("skipped\t%s\t%s\n", why.c_str(), path.c_str());
  }
  std::printf(
      "strata-gen samples: scanned %llu files, wrote %llu (%llu variants), %s in %.2f s; skipped "
      "%llu not DICOM, %llu without SOP class, %llu without pixel data -> %s\n",
      static_cast<unsigned long long>(r->scanned), static_cast<unsigned long long>(r->written),
      static_cast<unsigned long long>(r->variants), Mb(r->bytes).c_str(), secs,
      static_cast<unsigned long long>(r->skipped_not_dicom),
      static_cast<unsigned long long>(r->skipped_no_sop_class),
      static_cast<unsigned long long>(r->skipped_no_pixel_data), a.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"strata-gen: deterministic DICOM test data (CT, MR, multi-frame, colour, "
               "MONOCHROME1, re-identified samples)"};
  app.require_subcommand(1);
  app.fallthrough();
  bool verbose = false;
  app.add_flag("--verbose,-v", verbose, "show DCMTK's warnings (e.g. about damaged sample files)");
  GenArgs gen;
  struct KindCmd {
    const char* name;
    ImageKind kind;
    const char* help;
  };
  const KindCmd kinds[] = {
      {"ct", ImageKind::kCt, "CT Image Storage, 512x512 16-bit signed, chest-abdomen-pelvis"},
      {"mr", ImageKind::kMr, "MR Image Storage, 256x256 16-bit unsigned, head"},
      {"multiframe", ImageKind::kMultiFrame, "Multi-frame Grayscale Word SC, 10 CT-like frames"},
      {"color", ImageKind::kColor, "Secondary Capture, RGB 8-bit fusion screenshot"},
      {"mono1", ImageKind::kMono1, "CR Image Storage, 8-bit MONOCHROME1 chest radiograph"},
  };
  std::vector<std::pair<CLI::App*, ImageKind>> subs;
  for (const auto& k : kinds) {
    CLI::App* sub = app.add_subcommand(k.name, k.help);
    AddGenOptions(sub, gen);
    subs.emplace_back(sub, k.kind);
  }
  SampleArgs samples;
  CLI::App* s = app.add_subcommand("samples", "copy real DICOM files with fresh deterministic UIDs");
  s->add_option("--from", samples.from, "input files or directories")->required()->expected(1, -1);
  s->add_option("--out", samples.out, "output directory")->required();
  s->add_option("--seed", samples.seed, "seed for the new UIDs");
  s->add_option("--uid-root", samples.uid_root, "UID root");
  s->add_flag("--flat", samples.flat, "write DIR/<SOPUID>.dcm");
  s->add_flag("--keep-grouping", samples.keep_grouping,
              "files that shared a study/series keep sharing one (default: one study per file)");
  s->add_flag("--implicit", samples.implicit, "also write an Implicit VR LE copy of native files");
  s->add_flag("--deflated", samples.deflated, "also write a Deflated Explicit VR LE copy");
  s->add_flag("--list", samples.list, "print one line per written or skipped file");
  s->add_flag("--quiet,-q", samples.quiet, "no progress line");

  CLI11_PARSE(app, argc, argv);
  // Sample collections are full of deliberately odd files; DCMTK's parser warnings about files
  // that are then skipped (and counted) are noise unless asked for.
  OFLog::configure(verbose ? OFLogger::WARN_LOG_LEVEL : OFLogger::FATAL_LOG_LEVEL);

  if (!dcmDataDict.isDictionaryLoaded()) {
    std::fprintf(stderr, "strata-gen: warning: no DICOM data dictionary loaded (DCMDICTPATH)\n");
  }
  for (const auto& [sub, kind] : subs) {
    if (sub->parsed()) return RunGenerate(kind, gen);
  }
  if (s->parsed()) return RunSamples(samples);
  return 1;
}
