// Object keys: the one rule set every ColdStore enforces, so a key that works on the local
// store also works on S3 and the other way round.
//
// A key is 1..1024 bytes of '/'-separated components. Each component is 1..200 bytes of
// [A-Za-z0-9] and "._-~=+,@", and does not start with '.' (that excludes "." and "..", and
// leaves dot-names free for a store's own staging and temp files). No leading '/', no empty
// component (so no "//" and no trailing '/').
//
// A listing prefix follows the same rules except that its last component may be partial or
// empty ("packs/", "packs/1.2.", "" are all valid prefixes).
#pragma once

#include <string_view>

#include "util/status.h"

namespace strata {

inline constexpr size_t kMaxObjectKeyBytes = 1024;
// 200, not NAME_MAX (255): the local store's temp names add a prefix to a component.
inline constexpr size_t kMaxKeyComponentBytes = 200;

// OK, or kInvalidArgument naming what is wrong with KEY.
Status ValidateObjectKey(std::string_view key);
// OK, or kInvalidArgument naming what is wrong with PREFIX.
Status ValidateKeyPrefix(std::string_view prefix);

}  // namespace strata
