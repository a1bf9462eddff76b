// strata-codec-bench: compression ratio, encode MB/s and decode MB/s of each lossless codec.
//
//   strata-codec-bench [DIR] [--reps N] [--slices N]
//
// DIR: DICOM files (searched recursively); without it, a synthetic CT-like series of 512x512
// 16-bit noisy slices (--slices, default 32). Every image is first decoded to native pixels;
// images that cannot be compressed are counted and skipped. Per codec and image, encoding and
// decoding are timed on in-memory data sets (EncodePixelData / DecodePixelData, best of
// --reps runs, default 3), and decoded pixels are checked against the original. "file MB/s"
// times the whole Part 10 path back to Explicit VR LE (parse, decode, serialize), as a
// retrieval for a client that wants uncompressed data would run it.
// MB = 10^6 bytes of native pixel data.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "codec/image_info.h"
#include "codec/native_samples.h"
#include "codec/part10_io.h"
#include "codec/pixel_transcode.h"
#include "codec/synthetic_image.h"
#include "codec/syntax_table.h"
#include "codec/transcoder.h"

namespace strata::codec {
namespace {

using Clock = std::chrono::steady_clock;

struct Image {
  std::string name;
  std::unique_ptr<DcmFileFormat> native;  // pixel data decoded to native
  uint64_t pixel_bytes = 0;
};

struct Totals {
  uint64_t native = 0, coded = 0;
  double encode_s = 0, decode_s = 0, file_s = 0;
  int files = 0;
};

std::span<const uint8_t> PixelBytes(DcmDataset& ds) {
  DcmElement* e = nullptr;
  Uint8* data = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, e, OFFalse).bad() || e == nullptr || e->getUint8Array(data).bad()) return {};
  return {data, e->getLength()};
}

uint64_t FragmentBytes(DcmDataset& ds) {
  DcmElement* e = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, e, OFFalse).bad() || e == nullptr) return 0;
  auto* pd = static_cast<DcmPixelData*>(e);
  E_TransferSyntax xfer = EXS_Unknown;
  const DcmRepresentationParameter* param = nullptr;
  pd->getCurrentRepresentationKey(xfer, param);
  DcmPixelSequence* seq = nullptr;
  if (pd->getEncapsulatedRepresentation(xfer, param, seq).bad() || seq == nullptr) return 0;
  uint64_t total = 0;
  for (unsigned long i = 1; i < seq->card(); ++i) {
    DcmPixelItem* item = nullptr;
    if (seq->getItem(item, i).good()) total += item->getLength();
  }
  return total;
}

// Same stored samples, whatever the planar configuration of either side.
bool SamePixels(DcmDataset& a, DcmDataset& b) {
  Result<ImageInfo> ia = ReadImageInfo(a), ib = ReadImageInfo(b);
  std::span<const uint8_t> pa = PixelBytes(a), pb = PixelBytes(b);
  if (!ia.ok() || !ib.ok() || ia->frames != ib->frames || ia->samples_per_pixel != ib->samples_per_pixel) return false;
  const size_t frame = ia->frame_bytes();
  if (pa.size() < frame * ia->frames || pb.size() < frame * ia->frames) return false;
  if (ia->planar_configuration == ib->planar_configuration) return std::memcmp(pa.data(), pb.data(), frame * ia->frames) == 0;
  std::vector<int32_t> ra(ia->columns), rb(ia->columns);
  for (uint32_t f = 0; f < ia->frames; ++f) {
    for (uint32_t c = 0; c < ia->samples_per_pixel; ++c) {
      for (uint32_t y = 0; y < ia->rows; ++y) {
        LoadRow(*ia, pa.data() + f * frame, c, y, ra.data());
        LoadRow(*ib, pb.data() + f * frame, c, y, rb.data());
        if (ra != rb) return false;
      }
    }
  }
  return true;
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

int Run(int argc, char** argv) {
  std::string dir;
  int reps = 3, slices = 32;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) {
      reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--slices" && i + 1 < argc) {
      slices = std::max(1, std::atoi(argv[++i]));
    } else if (a == "-h" || a == "--help") {
      fmt::print("usage: strata-codec-bench [DIR] [--reps N] [--slices N]\n");
      return 0;
    } else {
      dir = a;
    }
  }
  Transcoder transcoder;
  std::vector<Image> images;
  std::map<std::string, int> skipped;
  auto add = [&](const std::string& name, std::string_view bytes) {
    Result<Part10File> f = ReadPart10(bytes);
    if (!f.ok()) {
      ++skipped[f.status().message().substr(0, 60)];
      return;
    }
    Status st = DecodePixelData(*f->file->getDataset(), *f->syntax);
    // Probe compressibility once (with the JPEG 2000 rules, the same for every codec).
    DcmDataset probe(*f->file->getDataset());
    if (st.ok()) st = EncodePixelData(probe, *FindSyntax(ts::kJ2kLossless), {});
    if (!st.ok()) {
      ++skipped[st.message().substr(0, 60)];
      return;
    }
    Image img{name, std::move(f->file), 0};
    img.pixel_bytes = PixelBytes(*img.native->getDataset()).size();
    images.push_back(std::move(img));
  };
  if (dir.empty()) {
    for (int s = 0; s < slices; ++s) {
      SyntheticSpec spec;
      spec.rows = spec.columns = 512;
      spec.bits_allocated = 16;
      spec.bits_stored = 12;
      spec.pattern = Pattern::kCt;
      spec.seed = 1000 + s;
      spec.slice = s;
      Result<std::string> bytes = MakeSyntheticPart10(spec);
      if (!bytes.ok()) {
        fmt::print(stderr, "synthetic image: {}\n", bytes.status().ToString());
        return 1;
      }
      add(fmt::format("ct-{:03}", s), *bytes);
    }
  } else {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::ifstream in(it->path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      add(it->path().filename().string(), bytes);
    }
    if (ec) fmt::print(stderr, "{}: {}\n", dir, ec.message());
  }
  uint64_t native_total = 0;
  for (const Image& i : images) native_total += i.pixel_bytes;
  fmt::print("{}: {} images, {:.1f} MB native pixel data, best of {} runs\n",
             dir.empty() ? fmt::format("synthetic CT 512x512 12-bit, {} slices", slices) : dir, images.size(),
             native_total / 1e6, reps);
  for (const auto& [why, n] : skipped) fmt::print("  skipped {:3} x {}\n", n, why);
  if (images.empty()) return 1;

  fmt::print("{:<22} {:>7} {:>12} {:>12} {:>12}\n", "codec", "ratio", "encode MB/s", "decode MB/s", "file MB/s");
  const std::string explicit_le(ts::kExplicitLE);
  for (std::string_view uid : {ts::kJpegLsLossless, ts::kJ2kLossless, ts::kHtj2kLossless}) {
    const SyntaxInfo& target = *FindSyntax(uid);
    Totals t;
    for (Image& img : images) {
      DcmDataset& native = *img.native->getDataset();
      double best_enc = 1e30, best_dec = 1e30, best_file = 1e30;
      std::unique_ptr<DcmDataset> encoded;
      for (int r = 0; r < reps; ++r) {
        auto ds = std::make_unique<DcmDataset>(native);
        const auto t0 = Clock::now();
        Status st = EncodePixelData(*ds, target, {});
        best_enc = std::min(best_enc, Seconds(Clock::now() - t0));
        if (!st.ok()) {
          fmt::print(stderr, "{} {}: {}\n", img.name, target.name, st.ToString());
          return 1;
        }
        encoded = std::move(ds);
      }
      for (int r = 0; r < reps; ++r) {
        DcmDataset ds(*encoded);
        const auto t0 = Clock::now();
        Status st = DecodePixelData(ds, target);
        best_dec = std::min(best_dec, Seconds(Clock::now() - t0));
        if (!st.ok() || !SamePixels(ds, native)) {
          fmt::print(stderr, "{} {}: decoded pixels differ ({})\n", img.name, target.name, st.ToString());
          return 1;
        }
      }
      DcmFileFormat file(encoded.get());  // deep copy; a fresh meta header is made on write
      Result<std::string> part10 = WritePart10(file, target);
      if (!part10.ok()) {
        fmt::print(stderr, "{} {}: {}\n", img.name, target.name, part10.status().ToString());
        return 1;
      }
      for (int r = 0; r < reps; ++r) {
        const auto t0 = Clock::now();
        Result<std::string> out = transcoder.Transcode(*part10, explicit_le);
        best_file = std::min(best_file, Seconds(Clock::now() - t0));
        if (!out.ok()) {
          fmt::print(stderr, "{} {} -> native: {}\n", img.name, target.name, out.status().ToString());
          return 1;
        }
      }
      t.native += img.pixel_bytes;
      t.coded += FragmentBytes(*encoded);
      t.encode_s += best_enc;
      t.decode_s += best_dec;
      t.file_s += best_file;
      ++t.files;
    }
    fmt::print("{:<22} {:>7.2f} {:>12.1f} {:>12.1f} {:>12.1f}\n", target.name, double(t.native) / double(t.coded),
               t.native / 1e6 / t.encode_s, t.native / 1e6 / t.decode_s, t.native / 1e6 / t.file_s);
  }
  return 0;
}

}  // namespace
}  // namespace strata::codec

int main(int argc, char** argv) { return strata::codec::Run(argc, argv); }
