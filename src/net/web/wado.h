// WADO-RS (PS3.18 10.4): study / series / instance retrieval as multipart/related;
// type="application/dicom", streamed instance by instance through PrefetchReader (cold reads
// in flight while earlier instances are written; never the whole study in memory); /metadata
// (metadata.h); /frames/{list} as uncompressed frames; /bulkdata/{tag}.
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

}  // namespace strata::web
