#include "codec/encapsulation.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcofsetl.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <fmt/format.h>

#include <limits>

namespace strata::codec {
namespace {

struct Fragment {
  std::string_view data;
  uint64_t position;  // of its item tag, counted from the first fragment's item tag
};

// Groups fragments by frame start positions (offset table entries).
Result<std::vector<std::string>> GroupByOffsets(const std::vector<Fragment>& fragments,
                                                const std::vector<uint64_t>& offsets) {
  std::vector<std::string> out;
  out.reserve(offsets.size());
  size_t f = 0;
  for (size_t i = 0; i < offsets.size(); ++i) {
    if (f >= fragments.size() || fragments[f].position != offsets[i]) {
      return Status::Corruption(
          fmt::format("offset table entry {} ({}) does not point at a fragment", i, offsets[i]));
    }
    const uint64_t end = i + 1 < offsets.size() ? offsets[i + 1] : std::numeric_limits<uint64_t>::max();
    std::string frame;
    while (f < fragments.size() && fragments[f].position < end) {
      frame.append(fragments[f].data);
      ++f;
    }
    out.push_back(std::move(frame));
  }
  return out;
}

}  // namespace

bool IsJ2kFrameStart(std::string_view s) {
  static constexpr char kSocSiz[] = {'\xFF', '\x4F', '\xFF', '\x51'};
  static constexpr char kJp2Box[] = {'\x00', '\x00', '\x00', '\x0C', 'j', 'P', ' ', ' '};
  return (s.size() >= 4 && s.substr(0, 4) == std::string_view(kSocSiz, 4)) ||
         (s.size() >= 8 && s.substr(0, 8) == std::string_view(kJp2Box, 8));
}

Result<std::vector<std::string>> ExtractFrames(DcmPixelSequence& seq, uint32_t frames,
                                               std::span<const uint64_t> extended_offsets,
                                               FrameStartTest starts_frame) {
  const unsigned long items = seq.card();
  if (items < 2) return Status::Corruption("encapsulated pixel data holds no fragment");
  std::vector<Fragment> fragments;
  fragments.reserve(items - 1);
  uint64_t position = 0;
  for (unsigned long i = 1; i < items; ++i) {
    DcmPixelItem* item = nullptr;
    if (seq.getItem(item, i).bad() || item == nullptr) return Status::Corruption("bad fragment item");
    Uint8* data = nullptr;
    const Uint32 len = item->getLength();
    if (len > 0 && (item->getUint8Array(data).bad() || data == nullptr)) {
      return Status::Corruption("unreadable fragment");
    }
    fragments.push_back({std::string_view(reinterpret_cast<const char*>(data), len), position});
    position += 8 + uint64_t{len};
  }

  if (frames == 1) {
    std::string all;
    for (const Fragment& f : fragments) all.append(f.data);
    return std::vector<std::string>{std::move(all)};
  }
  // A broken offset table is not fatal: writers get them wrong, the later rules may still work.
  if (extended_offsets.size() == frames) {
    auto r = GroupByOffsets(fragments, std::vector<uint64_t>(extended_offsets.begin(), extended_offsets.end()));
    if (r.ok()) return r;
  }
  DcmPixelItem* bot = nullptr;
  if (seq.getItem(bot, 0).good() && bot != nullptr && bot->getLength() == 4ull * frames) {
    Uint8* raw = nullptr;
    if (bot->getUint8Array(raw).good() && raw != nullptr) {
      std::vector<uint64_t> offsets(frames);
      for (uint32_t i = 0; i < frames; ++i) {
        const Uint8* p = raw + 4 * i;
        offsets[i] = uint64_t{p[0]} | (uint64_t{p[1]} << 8) | (uint64_t{p[2]} << 16) | (uint64_t{p[3]} << 24);
      }
      auto r = GroupByOffsets(fragments, offsets);
      if (r.ok()) return r;
    }
  }
  if (fragments.size() == frames) {
    std::vector<std::string> out;
    out.reserve(frames);
    for (const Fragment& f : fragments) out.emplace_back(f.data);
    return out;
  }
  if (starts_frame != nullptr) {
    std::vector<std::string> out;
    for (const Fragment& f : fragments) {
      if (starts_frame(f.data)) {
        out.emplace_back();
      } else if (out.empty()) {
        return Status::Corruption("first fragment does not start a frame");
      }
      out.back().append(f.data);
    }
    if (out.size() == frames) return out;
    return Status::Corruption(
        fmt::format("found {} frame starts in {} fragments, expected {} frames", out.size(),
                    fragments.size(), frames));
  }
  return Status::Corruption(fmt::format(
      "cannot map {} fragments onto {} frames without an offset table", fragments.size(), frames));
}

Status PutEncapsulatedFrames(DcmPixelData& pixel_data, E_TransferSyntax xfer,
                             const std::vector<std::string>& frames) {
  uint64_t total = 0;
  for (const std::string& f : frames) total += f.size() + 9;  // item header + padding
  if (total > 0xFFFFFFF0ull) {
    return Status::InvalidArgument("not compressible: encoded frames exceed 4 GiB");
  }
  auto* seq = new DcmPixelSequence(DCM_PixelSequenceTag);
  auto* bot = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
  seq->insert(bot);
  DcmOffsetList offsets;
  for (const std::string& f : frames) {
    if (f.empty()) {
      delete seq;
      return Status::Internal("empty frame codestream");
    }
    // DCMTK copies the bytes; the cast only satisfies its non-const signature.
    OFCondition c = seq->storeCompressedFrame(
        offsets, reinterpret_cast<Uint8*>(const_cast<char*>(f.data())), static_cast<Uint32>(f.size()), 0);
    if (c.bad()) {
      delete seq;
      return Status::Internal(std::string("storing a fragment: ") + c.text());
    }
  }
  OFCondition c = bot->createOffsetTable(offsets);
  if (c.bad()) {
    delete seq;
    return Status::Internal(std::string("creating the offset table: ") + c.text());
  }
  pixel_data.putOriginalRepresentation(xfer, nullptr, seq);  // takes ownership of seq
  return Status::OK();
}

}  // namespace strata::codec
