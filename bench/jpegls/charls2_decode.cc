// Debian's CharLS 2 (libcharls.so.2), through its C++ API. See decode_common.h.
#include <charls/charls.h>

#include "decode_common.h"

int main(int argc, char** argv) {
  return probe::Run("charls2", argc, argv, [](const std::vector<uint8_t>& coded, std::vector<uint8_t>& out) {
    try {
      charls::jpegls_decoder decoder(coded, true);
      decoder.decode(out);
      return true;
    } catch (const charls::jpegls_error&) {
      return false;
    }
  });
}
