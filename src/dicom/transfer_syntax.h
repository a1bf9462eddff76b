// Transfer syntax names and groups used across Strata.
#pragma once

#include <string>

namespace strata {

namespace syntax {
inline constexpr const char* kImplicitLE = "1.2.840.10008.1.2";
inline constexpr const char* kExplicitLE = "1.2.840.10008.1.2.1";
inline constexpr const char* kDeflatedLE = "1.2.840.10008.1.2.1.99";
inline constexpr const char* kExplicitBE = "1.2.840.10008.1.2.2";
inline constexpr const char* kJpegLsLossless = "1.2.840.10008.1.2.4.80";
inline constexpr const char* kJ2kLossless = "1.2.840.10008.1.2.4.90";
inline constexpr const char* kHtj2kLossless = "1.2.840.10008.1.2.4.201";
}  // namespace syntax

// True for the three native (unencapsulated) syntaxes; deflate counts as native too,
// since it can be converted to the others without a pixel codec.
bool IsUncompressedSyntax(const std::string& uid);
// A short name for logs and the web page ("JPEG-LS lossless", "Explicit VR LE", ...).
std::string SyntaxName(const std::string& uid);

}  // namespace strata
