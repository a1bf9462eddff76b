// Small string helpers shared by the parsers of lists in query parameters, HTTP headers and
// configuration values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata {

// S without leading and trailing spaces and tabs.
std::string TrimSpaces(std::string_view s);

// S split at every comma, each field trimmed (TrimSpaces). Empty fields are kept ("a,,b" has
// three fields, "" has one) so a caller can refuse them; callers that ignore them drop them.
std::vector<std::string> SplitComma(std::string_view s);

}  // namespace strata
