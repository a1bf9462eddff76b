#include "archive/correction_patch.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <ctime>

#include "codec/part10_io.h"
#include "util/clock.h"

namespace strata {
namespace {

bool IsAscii(const std::string& s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// DT in UTC: YYYYMMDDHHMMSS.FFFFFF+0000.
std::string DicomDateTime(int64_t ms) { return FormatUtcMs(ms, "%Y%m%d%H%M%S", ".%03d000+0000"); }

DcmTagKey KeyOf(uint32_t tag) { return DcmTagKey(static_cast<Uint16>(tag >> 16), static_cast<Uint16>(tag & 0xFFFF)); }

// The value DS holds for TAG (all values, backslash-joined); empty when absent.
std::string CurrentValue(DcmDataset* ds, uint32_t tag) {
  OFString v;
  if (ds->findAndGetOFStringArray(KeyOf(tag), v).bad()) return {};
  return std::string(v.c_str(), v.length());
}

// Whether the data set's text must be converted to UTF-8 before RECORDS' values go in.
bool NeedsUtf8(DcmDataset* ds, const std::vector<CorrectionRecord>& records) {
  OFString charset;
  if (ds->findAndGetOFStringArray(DCM_SpecificCharacterSet, charset).bad() || charset.empty()) {
    for (const auto& r : records)
      if (!IsAscii(r.new_value)) return true;  // the default repertoire is ASCII
    return false;
  }
  const std::string cs(charset.c_str(), charset.length());
  if (cs == "ISO_IR 192") return false;
  // Another character set: the stored values and the new (UTF-8) ones compare and mix only
  // in one encoding.
  for (const auto& r : records)
    if (!IsAscii(r.new_value)) return true;
  return cs != "ISO_IR 6";
}

}  // namespace

Result<bool> ApplyCorrections(DcmDataset* ds, const std::vector<CorrectionRecord>& records,
                              const std::string& modifying_system) {
  if (records.empty()) return false;
  if (NeedsUtf8(ds, records)) {
    OFCondition c = ds->convertToUTF8();
    if (c.bad()) {
      bool ascii = true;
      for (const auto& r : records) ascii = ascii && IsAscii(r.new_value);
      if (!ascii)
        return Status::InvalidArgument(std::string("cannot convert the data set to UTF-8 for a corrected value: ") +
                                       c.text());
    }
  }
  bool changed = false;
  for (size_t begin = 0; begin < records.size();) {
    size_t end = begin;
    while (end < records.size() && records[end].change_id == records[begin].change_id) ++end;
    auto modified = std::make_unique<DcmItem>();
    for (size_t k = begin; k < end; ++k) {
      const CorrectionRecord& r = records[k];
      const std::string before = CurrentValue(ds, r.tag);
      if (before == r.new_value) continue;
      // The previous value (zero length when the attribute was absent), then the new one.
      if (modified->putAndInsertString(KeyOf(r.tag), before.c_str()).bad() ||
          ds->putAndInsertOFStringArray(KeyOf(r.tag), OFString(r.new_value.data(), r.new_value.size())).bad())
        return Status::InvalidArgument(std::string("cannot set attribute ") + KeyOf(r.tag).toString().c_str() +
                                       " in the data set");
    }
    if (modified->card() > 0) {
      const CorrectionRecord& first = records[begin];
      auto item = std::make_unique<DcmItem>();
      DcmSequenceOfItems* mod_seq = new DcmSequenceOfItems(DCM_ModifiedAttributesSequence);
      mod_seq->append(modified.release());
      if (item->insert(mod_seq).bad() ||
          item->putAndInsertString(DCM_SourceOfPreviousValues, "").bad() ||
          item->putAndInsertString(DCM_AttributeModificationDateTime, DicomDateTime(first.at_ms).c_str()).bad() ||
          item->putAndInsertString(DCM_ModifyingSystem, modifying_system.c_str()).bad() ||
          item->putAndInsertString(DCM_ReasonForTheAttributeModification, "CORRECT").bad())
        return Status::Internal("cannot build the Original Attributes Sequence item");
      DcmSequenceOfItems* original = nullptr;
      if (ds->findAndGetSequence(DCM_OriginalAttributesSequence, original).bad() || original == nullptr) {
        original = new DcmSequenceOfItems(DCM_OriginalAttributesSequence);
        if (ds->insert(original).bad()) {
          delete original;
          return Status::Internal("cannot add the Original Attributes Sequence");
        }
      }
      original->append(item.release());
      changed = true;
    }
    begin = end;
  }
  return changed;
}

Result<std::string> PatchPart10(std::string_view part10, const std::vector<CorrectionRecord>& records,
                                const std::string& modifying_system) {
  if (records.empty()) return std::string(part10);
  STRATA_ASSIGN_OR_RETURN(codec::Part10File parsed, codec::ReadPart10(part10));
  if (parsed.syntax == nullptr)
    return Status::InvalidArgument("transfer syntax " + parsed.transfer_syntax + " cannot be written back");
  STRATA_ASSIGN_OR_RETURN(bool changed, ApplyCorrections(parsed.file->getDataset(), records, modifying_system));
  if (!changed) return std::string(part10);
  return codec::WritePart10(*parsed.file, *parsed.syntax);
}

}  // namespace strata
