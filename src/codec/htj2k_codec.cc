#include "codec/htj2k_codec.h"

#include <openjph/ojph_arch.h>
#include <openjph/ojph_codestream.h>
#include <openjph/ojph_file.h>
#include <openjph/ojph_mem.h>
#include <openjph/ojph_message.h>
#include <openjph/ojph_params.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <new>
#include <stdexcept>
#include <vector>

#include "codec/j2k_codec.h"
#include "codec/native_samples.h"
#include "codec/wavelet_levels.h"

namespace strata::codec {
namespace {

// OpenJPH reports errors through a process-wide handler that must not return; ours turns the
// message into an exception that never leaves this file. Warnings and infos are dropped.
class ThrowingError : public ojph::message_error {
 public:
  void operator()(int code, const char* file, int line, const char* format, ...) override {
    char text[512];
    va_list args;
    va_start(args, format);
    std::vsnprintf(text, sizeof text, format, args);
    va_end(args);
    throw std::runtime_error(fmt::format("{} (OpenJPH 0x{:08x} at {}:{})", text, code, file, line));
  }
};
class SilentWarning : public ojph::message_warning {
 public:
  void operator()(int, const char*, int, const char*, ...) override {}
};
class SilentInfo : public ojph::message_info {
 public:
  void operator()(int, const char*, int, const char*, ...) override {}
};

void InstallMessageHandlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    static ThrowingError error;
    static SilentWarning warning;
    static SilentInfo info;
    ojph::configure_error(&error);
    ojph::configure_warning(&warning);
    ojph::configure_info(&info);
  });
}

// Smallest extent of a tile along one axis: tiles start at tile_origin + k * tile_size and are
// clipped to [image_origin, image_end).
uint32_t SmallestTileExtent(uint32_t image_origin, uint32_t image_end, uint32_t tile_origin, uint32_t tile_size) {
  if (tile_size == 0 || image_end <= image_origin) return image_end - image_origin;
  const uint64_t first_end = tile_origin + uint64_t{tile_size} *
                                               ((uint64_t{image_origin} - tile_origin) / tile_size + 1);
  uint64_t smallest = std::min<uint64_t>(first_end, image_end) - image_origin;
  if (first_end < image_end) {
    const uint64_t last_start =
        tile_origin + uint64_t{tile_size} * ((uint64_t{image_end} - 1 - tile_origin) / tile_size);
    smallest = std::min<uint64_t>(smallest, image_end - last_start);
    if (last_start > first_end) smallest = std::min<uint64_t>(smallest, tile_size);
  }
  return static_cast<uint32_t>(smallest);
}

// OpenJPH 0.9.0 reconstructs garbage (without an error) when 2^(levels-1) >= the larger
// extent of a tile, i.e. when the last decomposition level has nothing left to split.
// Measured: a 7x5 image decodes right with 3 levels and wrong with 4; 16x16 right with 4,
// wrong with 5. Encoders other than ours may write such codestreams for tiny images.
bool OpenJphMisdecodes(ojph::codestream& cs) {
  ojph::param_siz siz = cs.access_siz();
  ojph::param_cod cod = cs.access_cod();
  const uint32_t levels = cod.get_num_decompositions();
  if (levels == 0) return false;
  const ojph::point extent = siz.get_image_extent();
  const ojph::point offset = siz.get_image_offset();
  const ojph::size tile = siz.get_tile_size();
  const ojph::point tile_offset = siz.get_tile_offset();
  const uint32_t tw = SmallestTileExtent(offset.x, extent.x, tile_offset.x, tile.w);
  const uint32_t th = SmallestTileExtent(offset.y, extent.y, tile_offset.y, tile.h);
  const uint64_t larger = std::max(tw, th);
  return (uint64_t{1} << (levels - 1)) >= larger;
}

enum class DecodeOutcome { kDone, kUseOpenJpeg };

Result<DecodeOutcome> DecodeWithOpenJph(const ImageInfo& info, std::string_view codestream,
                                        std::span<uint8_t> out) {
  ojph::codestream cs;
  ojph::mem_infile in;
  in.open(reinterpret_cast<const ojph::ui8*>(codestream.data()), codestream.size());
  cs.read_headers(&in);
  ojph::param_siz siz = cs.access_siz();
  const uint32_t n = siz.get_num_components();
  if (n != info.samples_per_pixel) {
    return Status::Corruption(fmt::format("codestream has {} components, data set says {} samples per pixel",
                                          n, info.samples_per_pixel));
  }
  for (uint32_t c = 0; c < n; ++c) {
    const ojph::point ds = siz.get_downsampling(c);
    const uint32_t w = siz.get_recon_width(c), h = siz.get_recon_height(c);
    if (ds.x != 1 || ds.y != 1 || w != info.columns || h != info.rows) {
      return Status::Corruption(fmt::format("component {} is {}x{} (subsampling {}x{}), data set says {}x{}",
                                            c, w, h, ds.x, ds.y, info.columns, info.rows));
    }
    const uint32_t depth = siz.get_bit_depth(c);
    if (depth < 1 || depth > info.bits_allocated) {
      return Status::Corruption(
          fmt::format("component precision {} exceeds Bits Allocated {}", depth, info.bits_allocated));
    }
  }
  bool reinterpret[3] = {false, false, false};
  for (uint32_t c = 0; c < n; ++c) {
    reinterpret[c] = siz.get_bit_depth(c) <= info.bits_stored && siz.is_signed(c) != info.is_signed();
  }
  if (OpenJphMisdecodes(cs)) {
    cs.close();
    return DecodeOutcome::kUseOpenJpeg;
  }
  cs.set_planar(false);
  cs.create();
  for (uint32_t y = 0; y < info.rows; ++y) {
    for (uint32_t c = 0; c < n; ++c) {
      ojph::ui32 comp = 0;
      ojph::line_buf* line = cs.pull(comp);
      if (line == nullptr || comp != c) {
        cs.close();
        return Status::Internal(fmt::format("OpenJPH returned component {} where {} was due", comp, c));
      }
      if (reinterpret[c]) ReinterpretRow(info, line->i32);
      StoreRow(info, line->i32, c, y, out.data());
    }
  }
  cs.close();
  return DecodeOutcome::kDone;
}

}  // namespace

Result<std::string> EncodeHtj2kFrame(const ImageInfo& info, std::span<const uint8_t> frame,
                                     const Htj2kEncodeParams& params) {
  STRATA_RETURN_IF_ERROR(CheckWaveletLayout(info));
  if (frame.size() < info.frame_bytes()) return Status::Internal("short frame buffer");
  InstallMessageHandlers();
  const uint32_t n = info.samples_per_pixel;
  const uint32_t levels = params.force_decomposition_levels >= 0
                              ? static_cast<uint32_t>(params.force_decomposition_levels)
                              : DecompositionLevelsFor(info.columns, info.rows, params.max_decomposition_levels);
  try {
    ojph::codestream cs;
    ojph::param_siz siz = cs.access_siz();
    siz.set_image_extent(ojph::point(info.columns, info.rows));
    siz.set_image_offset(ojph::point(0, 0));
    siz.set_tile_size(ojph::size(info.columns, info.rows));
    siz.set_tile_offset(ojph::point(0, 0));
    siz.set_num_components(n);
    for (uint32_t c = 0; c < n; ++c) {
      siz.set_component(c, ojph::point(1, 1), info.bits_stored, info.is_signed());
    }
    ojph::param_cod cod = cs.access_cod();
    cod.set_num_decomposition(levels);
    cod.set_block_dims(params.block_size, params.block_size);
    cod.set_progression_order(params.progression_order);
    cod.set_color_transform(n == 3 && params.color_transform);
    cod.set_reversible(true);
    cs.set_planar(false);

    ojph::mem_outfile file;
    file.open(info.frame_bytes() / 2 + 4096);
    cs.write_headers(&file);
    ojph::ui32 next = 0;
    ojph::line_buf* line = cs.exchange(nullptr, next);
    for (uint32_t y = 0; y < info.rows; ++y) {
      for (uint32_t c = 0; c < n; ++c) {
        if (next != c) {
          cs.close();
          return Status::Internal(fmt::format("OpenJPH asked for component {} where {} was due", next, c));
        }
        LoadRow(info, frame.data(), c, y, line->i32);
        line = cs.exchange(line, next);
      }
    }
    cs.flush();
    std::string out(reinterpret_cast<const char*>(file.get_data()), static_cast<size_t>(file.tell()));
    cs.close();  // also closes (and frees) `file`
    return out;
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory in the HTJ2K encoder");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("HTJ2K encode: ") + e.what());
  }
}

Status DecodeHtj2kFrame(const ImageInfo& info, std::string_view codestream, std::span<uint8_t> out) {
  STRATA_RETURN_IF_ERROR(CheckWaveletLayout(info));
  if (out.size() < info.frame_bytes()) return Status::Internal("short output buffer");
  if (codestream.size() < 2 || static_cast<uint8_t>(codestream[0]) != 0xFF ||
      static_cast<uint8_t>(codestream[1]) != 0x4F) {
    // Not a raw codestream (e.g. a JP2 file): OpenJPEG handles the boxes.
    return DecodeJ2kFrame(info, codestream, out);
  }
  InstallMessageHandlers();
  std::string openjph_error;
  try {
    Result<DecodeOutcome> r = DecodeWithOpenJph(info, codestream, out);
    if (!r.ok()) return r.status();
    if (*r == DecodeOutcome::kDone) return Status::OK();
  } catch (const std::bad_alloc&) {
    return Status::Internal("out of memory in the HTJ2K decoder");
  } catch (const std::exception& e) {
    openjph_error = e.what();
  }
  Status st = DecodeJ2kFrame(info, codestream, out);
  if (!st.ok() && !openjph_error.empty()) {
    return Status::Corruption("HTJ2K decode: " + openjph_error + "; OpenJPEG: " + st.message());
  }
  return st;
}

}  // namespace strata::codec
