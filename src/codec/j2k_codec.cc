#include "codec/j2k_codec.h"

#include <openjpeg.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "codec/native_samples.h"
#include "codec/wavelet_levels.h"

namespace strata::codec {
namespace {

// ---- in-memory OpenJPEG streams ----

struct ReadBuffer {
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
};

OPJ_SIZE_T ReadFn(void* dst, OPJ_SIZE_T n, void* user) {
  auto* b = static_cast<ReadBuffer*>(user);
  if (b->pos >= b->size) return static_cast<OPJ_SIZE_T>(-1);
  const size_t k = std::min<size_t>(n, b->size - b->pos);
  std::memcpy(dst, b->data + b->pos, k);
  b->pos += k;
  return k;
}
OPJ_OFF_T ReadSkipFn(OPJ_OFF_T n, void* user) {
  auto* b = static_cast<ReadBuffer*>(user);
  if (n < 0) {
    const size_t back = std::min<size_t>(static_cast<size_t>(-n), b->pos);
    b->pos -= back;
    return -static_cast<OPJ_OFF_T>(back);
  }
  const size_t k = std::min<size_t>(static_cast<size_t>(n), b->size - std::min(b->pos, b->size));
  b->pos += k;
  return static_cast<OPJ_OFF_T>(k);
}
OPJ_BOOL ReadSeekFn(OPJ_OFF_T pos, void* user) {
  auto* b = static_cast<ReadBuffer*>(user);
  if (pos < 0 || static_cast<size_t>(pos) > b->size) return OPJ_FALSE;
  b->pos = static_cast<size_t>(pos);
  return OPJ_TRUE;
}

struct WriteBuffer {
  std::string* out;
  size_t pos = 0;
};

OPJ_SIZE_T WriteFn(void* src, OPJ_SIZE_T n, void* user) {
  auto* b = static_cast<WriteBuffer*>(user);
  if (b->pos + n > b->out->size()) b->out->resize(b->pos + n);
  std::memcpy(b->out->data() + b->pos, src, n);
  b->pos += n;
  return n;
}
OPJ_OFF_T WriteSkipFn(OPJ_OFF_T n, void* user) {
  auto* b = static_cast<WriteBuffer*>(user);
  if (n < 0 && static_cast<size_t>(-n) > b->pos) return -1;
  b->pos = static_cast<size_t>(static_cast<OPJ_OFF_T>(b->pos) + n);
  if (b->pos > b->out->size()) b->out->resize(b->pos);
  return n;
}
OPJ_BOOL WriteSeekFn(OPJ_OFF_T pos, void* user) {
  auto* b = static_cast<WriteBuffer*>(user);
  if (pos < 0) return OPJ_FALSE;
  b->pos = static_cast<size_t>(pos);
  if (b->pos > b->out->size()) b->out->resize(b->pos);
  return OPJ_TRUE;
}

// ---- RAII and messages ----

struct CodecDeleter {
  void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageDeleter {
  void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};
using CodecPtr = std::unique_ptr<opj_codec_t, CodecDeleter>;
using StreamPtr = std::unique_ptr<opj_stream_t, StreamDeleter>;
using ImagePtr = std::unique_ptr<opj_image_t, ImageDeleter>;

void ErrorFn(const char* msg, void* user) {
  auto* s = static_cast<std::string*>(user);
  if (!s->empty()) s->append("; ");
  s->append(msg);
  while (!s->empty() && (s->back() == '\n' || s->back() == ' ')) s->pop_back();
}
void QuietFn(const char*, void*) {}

void InstallHandlers(opj_codec_t* codec, std::string* errors) {
  opj_set_error_handler(codec, ErrorFn, errors);
  opj_set_warning_handler(codec, QuietFn, nullptr);
  opj_set_info_handler(codec, QuietFn, nullptr);
}

}  // namespace

Result<std::string> EncodeJ2kFrame(const ImageInfo& info, std::span<const uint8_t> frame,
                                   const J2kEncodeParams& params) {
  STRATA_RETURN_IF_ERROR(CheckWaveletLayout(info));
  if (frame.size() < info.frame_bytes()) return Status::Internal("short frame buffer");
  const uint32_t n = info.samples_per_pixel;

  opj_image_cmptparm_t cmpt[3];
  std::memset(cmpt, 0, sizeof cmpt);
  for (uint32_t c = 0; c < n; ++c) {
    cmpt[c].dx = cmpt[c].dy = 1;
    cmpt[c].w = info.columns;
    cmpt[c].h = info.rows;
    cmpt[c].prec = info.bits_stored;
    cmpt[c].sgnd = info.is_signed() ? 1 : 0;
  }
  ImagePtr image(opj_image_create(n, cmpt, n == 1 ? OPJ_CLRSPC_GRAY : OPJ_CLRSPC_SRGB));
  if (!image) return Status::Internal("opj_image_create failed");
  image->x0 = image->y0 = 0;
  image->x1 = info.columns;
  image->y1 = info.rows;
  for (uint32_t c = 0; c < n; ++c) {
    OPJ_INT32* data = image->comps[c].data;
    for (uint32_t y = 0; y < info.rows; ++y) LoadRow(info, frame.data(), c, y, data + size_t{y} * info.columns);
  }

  opj_cparameters_t p;
  opj_set_default_encoder_parameters(&p);
  p.tcp_numlayers = 1;
  p.cp_disto_alloc = 1;
  p.tcp_rates[0] = params.reversible ? 0.0f : static_cast<float>(std::max(1.0, params.compression_ratio));
  p.irreversible = params.reversible ? 0 : 1;
  p.numresolution =
      static_cast<int>(DecompositionLevelsFor(info.columns, info.rows, params.max_decomposition_levels)) + 1;
  p.tcp_mct = (n == 3 && params.color_transform) ? 1 : 0;

  std::string errors;
  CodecPtr codec(opj_create_compress(OPJ_CODEC_J2K));
  if (!codec) return Status::Internal("opj_create_compress failed");
  InstallHandlers(codec.get(), &errors);
  if (!opj_setup_encoder(codec.get(), &p, image.get())) {
    return Status::Internal("OpenJPEG encoder setup: " + errors);
  }
  std::string out;
  out.reserve(info.frame_bytes() / 2 + 1024);
  WriteBuffer wb{&out};
  StreamPtr stream(opj_stream_create(1 << 20, OPJ_FALSE));
  if (!stream) return Status::Internal("opj_stream_create failed");
  opj_stream_set_user_data(stream.get(), &wb, nullptr);
  opj_stream_set_write_function(stream.get(), WriteFn);
  opj_stream_set_skip_function(stream.get(), WriteSkipFn);
  opj_stream_set_seek_function(stream.get(), WriteSeekFn);
  if (!opj_start_compress(codec.get(), image.get(), stream.get()) ||
      !opj_encode(codec.get(), stream.get()) || !opj_end_compress(codec.get(), stream.get())) {
    return Status::Internal("OpenJPEG encode: " + errors);
  }
  return out;  // opj_end_compress flushed everything; `out` spans the furthest byte written
}

Status DecodeJ2kFrame(const ImageInfo& info, std::string_view codestream, std::span<uint8_t> out) {
  STRATA_RETURN_IF_ERROR(CheckWaveletLayout(info));
  if (out.size() < info.frame_bytes()) return Status::Internal("short output buffer");
  static constexpr char kJp2Sig[] = {'\x00', '\x00', '\x00', '\x0C', 'j', 'P', ' ', ' '};
  OPJ_CODEC_FORMAT format;
  if (codestream.size() >= 8 && codestream.substr(0, 8) == std::string_view(kJp2Sig, 8)) {
    format = OPJ_CODEC_JP2;
  } else if (codestream.size() >= 2 && static_cast<uint8_t>(codestream[0]) == 0xFF &&
             static_cast<uint8_t>(codestream[1]) == 0x4F) {
    format = OPJ_CODEC_J2K;
  } else {
    return Status::Corruption("not a JPEG 2000 codestream (no SOC marker)");
  }

  std::string errors;
  CodecPtr codec(opj_create_decompress(format));
  if (!codec) return Status::Internal("opj_create_decompress failed");
  InstallHandlers(codec.get(), &errors);
  opj_dparameters_t dp;
  opj_set_default_decoder_parameters(&dp);
  if (!opj_setup_decoder(codec.get(), &dp)) return Status::Internal("OpenJPEG decoder setup: " + errors);

  ReadBuffer rb{reinterpret_cast<const uint8_t*>(codestream.data()), codestream.size()};
  StreamPtr stream(opj_stream_create(1 << 20, OPJ_TRUE));
  if (!stream) return Status::Internal("opj_stream_create failed");
  opj_stream_set_user_data(stream.get(), &rb, nullptr);
  opj_stream_set_user_data_length(stream.get(), codestream.size());
  opj_stream_set_read_function(stream.get(), ReadFn);
  opj_stream_set_skip_function(stream.get(), ReadSkipFn);
  opj_stream_set_seek_function(stream.get(), ReadSeekFn);

  opj_image_t* raw_image = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw_image)) {
    opj_image_destroy(raw_image);
    return Status::Corruption("JPEG 2000 header: " + errors);
  }
  ImagePtr image(raw_image);
  if (!opj_decode(codec.get(), stream.get(), image.get()) || !opj_end_decompress(codec.get(), stream.get())) {
    return Status::Corruption("JPEG 2000 decode: " + errors);
  }
  if (image->numcomps != info.samples_per_pixel) {
    return Status::Corruption(fmt::format("codestream has {} components, data set says {} samples per pixel",
                                          image->numcomps, info.samples_per_pixel));
  }
  for (uint32_t c = 0; c < image->numcomps; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    if (comp.dx != 1 || comp.dy != 1 || comp.w != info.columns || comp.h != info.rows) {
      return Status::Corruption(fmt::format("component {} is {}x{} (subsampling {}x{}), data set says {}x{}",
                                            c, comp.w, comp.h, comp.dx, comp.dy, info.columns, info.rows));
    }
    if (comp.prec < 1 || comp.prec > info.bits_allocated) {
      return Status::Corruption(
          fmt::format("component precision {} exceeds Bits Allocated {}", comp.prec, info.bits_allocated));
    }
    if (comp.data == nullptr) return Status::Corruption("component without data");
    const bool reinterpret = comp.prec <= info.bits_stored && (comp.sgnd != 0) != info.is_signed();
    for (uint32_t y = 0; y < info.rows; ++y) {
      OPJ_INT32* row = comp.data + size_t{y} * comp.w;
      if (reinterpret) ReinterpretRow(info, row);
      StoreRow(info, row, c, y, out.data());
    }
  }
  return Status::OK();
}

}  // namespace strata::codec
