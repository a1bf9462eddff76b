// How generated test data names things: UIDs under a fixed organisation root, derived from
// the seed and the position of the object (patient, study, series, instance), never from the
// clock or a random device. Two runs with the same seed produce the same UIDs; a different
// seed, kind of image or position produces a different one.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "util/status.h"

namespace strata::testdata {

// Root for every UID strata-gen makes (Medical Connections' free-registration arc).
inline constexpr std::string_view kDefaultUidRoot = "1.2.826.0.1.3680043.10.1337";

// What a UID names; combined with the image kind into the first component under the root.
enum class UidType : uint32_t {
  kStudy = 1,
  kSeries = 2,
  kInstance = 3,
  kFrameOfReference = 4,
};

// root + "." + components in decimal. InvalidArgument if the result is not a valid DICOM UID
// (over 64 characters, or an invalid root).
Result<std::string> MakeUid(std::string_view root, std::initializer_list<uint64_t> components);

// Validates a UID root given by a user: a valid UID of at most 40 characters, so that the
// structured UIDs below it still fit in 64.
Status ValidateUidRoot(std::string_view root);

}  // namespace strata::testdata
