// XmlReader: just enough XML for the small documents S3 answers with (ListBucketResult,
// Error, InitiateMultipartUploadResult, ...). Contract: ParseXml() builds a tree of elements
// with namespace prefixes dropped and attributes ignored; each element's text is its direct
// character data with the five predefined entities, numeric character references and CDATA
// sections decoded. It skips the XML declaration, comments, processing instructions and a
// DOCTYPE without an internal subset, and rejects anything malformed (mismatched or unclosed
// tags, unknown entities, more than one root) with kCorruption. No DTDs, no external entities.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace strata {

struct XmlElement {
  std::string name;                   // local name, prefix removed
  std::string text;                   // decoded direct character data
  std::vector<XmlElement> children;

  // First child named NAME, or nullptr.
  const XmlElement* Child(std::string_view name) const;
  // Text of the first child named NAME, or "" when there is none.
  std::string ChildText(std::string_view name) const;
  // Every child named NAME, in document order.
  std::vector<const XmlElement*> Children(std::string_view name) const;
};

Result<XmlElement> ParseXml(std::string_view doc);

// Escapes &, <, >, " and ' for element text or attribute values.
std::string XmlEscape(std::string_view s);

}  // namespace strata
