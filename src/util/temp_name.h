// Temp names: the one scheme for a file that is being written and will be renamed over its
// final name. A temp file sits beside its final name as ".tmp-<16 lowercase hex>-<base>":
//   - it starts with '.', so listings that skip dot-names (the cold store's keys, the hot
//     layout) never mistake it for a finished file;
//   - it contains ".tmp-", which is what the hot-tier reconciler and rebuild-catalog look for;
//   - ParseTempName gives the final name back, so a cleanup can tell what it belonged to.
// The 64 random bits come from a per-thread generator seeded by std::random_device; creating
// the temp file with O_EXCL turns the (negligible) chance of a collision into an error, never
// into two writers sharing one file.
// Threads: every function may be called from any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace strata {

inline constexpr std::string_view kTempPrefix = ".tmp-";
inline constexpr size_t kTempRandomHex = 16;

// DIGITS random lowercase hex digits (per-thread generator, see above).
std::string RandomHex(size_t digits);
// ".tmp-<16 hex>-BASE": a new temp name for a file whose final name is BASE (no '/').
std::string TempName(std::string_view base);
// The temp path beside PATH: "dir/.tmp-<16 hex>-name" for "dir/name" (".tmp-…-name" for "name").
std::string TempPathBeside(std::string_view path);
// True if NAME (a file name, not a path) is a temp name; then *BASE (if given) is its final name.
bool ParseTempName(std::string_view name, std::string* base = nullptr);

}  // namespace strata
