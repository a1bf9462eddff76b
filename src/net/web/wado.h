// WADO-RS (PS3.18 10.4): study / series / instance retrieval as multipart/related;
// type="application/dicom", streamed instance by instance through PrefetchReader (cold reads
// in flight while earlier instances are written; never the whole study in memory); /metadata
// (metadata.h); /frames/{list} uncompressed, or as stored without a decode when the client
// accepts the stored codestream (image/jls, image/jp2, image/jphc, ...); /bulkdata/{tag}.
// Transfer syntax negotiation (PS3.18 8.7.3): the Accept's transfer-syntax parameter, default
// Explicit VR Little Endian; `*` means as stored. An instance stored in another syntax is
// transcoded by the codec module when it can be (decoding always; lossless re-encoding only
// from lossless data); otherwise 406 before anything is sent.
#pragma once

#include <string>
#include <vector>

#include "net/web/http_util.h"
#include "util/status.h"

namespace strata::web {

// What a client accepts for DICOM instances.
struct DicomAccept {
  bool multipart = true;              // false: a single application/dicom body (one instance)
  bool any_syntax = false;            // transfer-syntax=*
  std::vector<std::string> syntaxes;  // acceptable transfer syntaxes, client's order
};
// NotFound when nothing in ACCEPT allows DICOM instances (-> 406). SINGLE_PART_OK allows a
// bare application/dicom (for a single instance).
Result<DicomAccept> NegotiateDicom(const std::vector<MediaRange>& accept, bool single_part_ok);
// The syntax to send an instance stored in STORED in, or NotFound.
Result<std::string> TargetSyntax(const std::string& stored, const DicomAccept& accept);

// How frames are sent: multipart or one body, the stored codestream or native bytes, and the
// Content-Type of each part (or of the body).
struct FrameChoice {
  bool multipart = true;
  bool stored = false;
  std::string part_type;
};
// Frames of an instance stored in STORED_SYNTAX. The stored codestream is chosen when the
// client names its syntax or media type (PS3.18 Table 8.7.3-2) or transfer-syntax=*, in the
// client's order; otherwise native Explicit VR Little Endian frames. SINGLE_OK allows a
// single-part body (one frame). NotFound (-> 406) when nothing is acceptable.
Result<FrameChoice> NegotiateFrames(const std::vector<MediaRange>& accept, const std::string& stored_syntax,
                                    bool single_ok);

}  // namespace strata::web
